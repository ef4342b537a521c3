/**
 * Our own KQL AST: what `parse.ts` produces from the Kusto.Language syntax tree (after semantic
 * analysis against the workspace schema), what `subset.ts` checks and what `compile.ts` compiles.
 * No Bridge/Kusto type ever appears here. Every node carries its source span (`pos`); scalar nodes
 * carry the Kusto result type, tabular nodes their output schema, both as computed by Kusto's
 * semantic analyser.
 */

/** Scalar types our engine handles. `unsupported` is any other Kusto type (decimal, guid, …). */
export type KType = 'string' | 'bool' | 'int' | 'long' | 'real' | 'datetime' | 'timespan' | 'dynamic' | 'unsupported';

/** Source span: 0-based character offset and length in the query text. */
export interface Span {
  offset: number;
  length: number;
}

export interface Column {
  name: string;
  type: KType;
}

// ---------------------------------------------------------------- scalar expressions

export type LiteralValue = string | number | bigint | boolean | null;

export interface Literal {
  kind: 'literal';
  type: KType;
  /** datetime: epoch ms; timespan: milliseconds; long/int: number or bigint; real: number. */
  value: LiteralValue;
  pos: Span;
}

export interface ColumnRef {
  kind: 'column';
  name: string;
  type: KType;
  pos: Span;
}

/** Reference to a scalar `let`. */
export interface ScalarLetRef {
  kind: 'letRef';
  id: number;
  name: string;
  type: KType;
  pos: Span;
}

export type BinaryOp =
  | '+'
  | '-'
  | '*'
  | '/'
  | '%'
  | '=='
  | '!='
  | '<'
  | '<='
  | '>'
  | '>='
  | 'and'
  | 'or'
  | '=~'
  | '!~'
  | 'has'
  | '!has'
  | 'has_cs'
  | '!has_cs'
  | 'contains'
  | '!contains'
  | 'contains_cs'
  | '!contains_cs'
  | 'startswith'
  | '!startswith'
  | 'startswith_cs'
  | '!startswith_cs'
  | 'endswith'
  | '!endswith'
  | 'endswith_cs'
  | '!endswith_cs'
  | 'matches regex';

export interface Binary {
  kind: 'binary';
  op: BinaryOp;
  left: Scalar;
  right: Scalar;
  type: KType;
  pos: Span;
}

export interface Unary {
  kind: 'unary';
  op: '-' | '+';
  operand: Scalar;
  type: KType;
  pos: Span;
}

export interface InList {
  kind: 'in';
  negated: boolean;
  /** `in~` / `!in~` */
  caseInsensitive: boolean;
  operand: Scalar;
  /** Either scalar values or a single tabular subquery whose first column is used. */
  values: Scalar[] | { tabular: Tabular };
  type: KType;
  pos: Span;
}

export interface Between {
  kind: 'between';
  negated: boolean;
  operand: Scalar;
  low: Scalar;
  high: Scalar;
  type: KType;
  pos: Span;
}

export interface Call {
  kind: 'call';
  /** Function name as written (lower-case for built-ins). */
  name: string;
  args: Scalar[];
  type: KType;
  pos: Span;
  /** Span of the function name (for error messages). */
  namePos: Span;
}

/** `x.name` or `x["name"]` / `x[0]` on a dynamic value. */
export interface Member {
  kind: 'member';
  target: Scalar;
  key: string | number;
  type: KType;
  pos: Span;
}

/** `*` (only meaningful as an argument of arg_max/arg_min). */
export interface Star {
  kind: 'star';
  type: KType;
  pos: Span;
}

/** Anything the adapter could not map; the subset checker reports it. */
export interface UnsupportedExpr {
  kind: 'unsupported';
  what: string;
  type: KType;
  pos: Span;
}

/**
 * A term of a `search` predicate: "err" (has), "err*" (hasprefix), "*err" (hassuffix), "*err*" (contains),
 * "a*b" (a regex over one term); `column: null` means every string column.
 */
export interface SearchTerm {
  kind: 'searchTerm';
  column: string | null;
  term: string;
  match: 'has' | 'prefix' | 'suffix' | 'contains' | 'regex';
  caseSensitive: boolean;
  type: KType;
  pos: Span;
}

export type Scalar = Literal | ColumnRef | ScalarLetRef | Binary | Unary | InList | Between | Call | Member | Star | SearchTerm | UnsupportedExpr;

// ---------------------------------------------------------------- tabular expressions

export interface NamedExpr {
  /** Output column name (as Kusto's analyser names it). */
  name: string;
  expr: Scalar;
}

export interface OrderKey {
  expr: Scalar;
  dir: 'asc' | 'desc';
  nulls: 'first' | 'last';
}

/** One output group of a summarize: a plain aggregate expression or an arg_max/arg_min. */
export type SummarizeItem =
  | { kind: 'agg'; name: string; expr: Scalar; pos: Span }
  | {
      kind: 'argExtreme';
      fn: 'arg_max' | 'arg_min';
      /** Expression maximised/minimised, and its output column name. */
      by: NamedExpr;
      /** The returned columns: explicit expressions, or `*` expanded to input column names. */
      outputs: NamedExpr[];
      pos: Span;
    };

export type Operator =
  | { op: 'where'; predicate: Scalar; pos: Span }
  | { op: 'project'; items: NamedExpr[]; pos: Span }
  | { op: 'project-away'; pos: Span }
  | { op: 'project-rename'; renames: { to: string; from: string }[]; pos: Span }
  | { op: 'extend'; items: NamedExpr[]; pos: Span }
  | { op: 'summarize'; by: NamedExpr[]; items: SummarizeItem[]; pos: Span }
  | { op: 'sort'; keys: OrderKey[]; pos: Span }
  | { op: 'take'; count: Scalar; pos: Span }
  | { op: 'top'; count: Scalar; key: OrderKey; pos: Span }
  | { op: 'distinct'; items: NamedExpr[]; pos: Span }
  | { op: 'count'; pos: Span }
  | {
      op: 'join';
      kind: 'inner' | 'innerunique' | 'leftouter' | string;
      kindPos: Span;
      right: Tabular;
      on: { left: string; right: string }[];
      /** `lookup`: the right side's key columns are left out of the output. */
      lookup?: boolean;
      pos: Span;
    }
  | { op: 'union'; inputs: Tabular[]; pos: Span }
  | {
      op: 'make-series';
      /** Aggregates with their `default =` (null: 0). */
      items: { name: string; expr: Scalar; default: Scalar | null; pos: Span }[];
      axis: NamedExpr;
      from: Scalar | null;
      to: Scalar | null;
      step: Scalar;
      by: NamedExpr[];
      pos: Span;
    }
  | { op: 'parse'; kind: 'simple' | 'regex'; source: Scalar; parts: ParsePart[]; pos: Span }
  | { op: 'getschema'; pos: Span }
  /** `sample N`: N arbitrary rows. */
  | { op: 'sample'; count: Scalar; pos: Span }
  /** `mv-expand [with_itemindex=index] name = array`: one row per array element (dynamic). */
  | { op: 'mv-expand'; name: string; expr: Scalar; index: string | null; pos: Span }
  /** `as Name`: names the input; rows pass through. */
  | { op: 'as'; pos: Span }
  | { op: 'render'; visualization: string; properties: Record<string, string>; pos: Span }
  /** `search predicate` over the piped input; `$table` reads `table` (the input's source table, or ''). */
  | { op: 'search'; predicate: Scalar; table: string; pos: Span }
  /** `top-nested N of key by agg, …`: each level the top N keys (by its aggregate) within the level above. */
  | { op: 'top-nested'; levels: TopNestedLevel[]; pos: Span }
  | { op: 'unsupported'; what: string; pos: Span };

export interface TopNestedLevel {
  /** null: every key. */
  count: Scalar | null;
  key: NamedExpr;
  agg: NamedExpr;
  dir: 'asc' | 'desc';
  /** `with others = value`: the key of the row that aggregates the rest. */
  others: Scalar | null;
  pos: Span;
}

/** One element of a `parse … with` pattern. */
export type ParsePart = { literal: string } | { column: string; type: KType } | { star: true };

export type Tabular =
  | { kind: 'table'; name: string; columns: Column[]; pos: Span }
  | { kind: 'letRef'; id: number; name: string; columns: Column[]; pos: Span }
  | { kind: 'pipe'; input: Tabular; op: Operator; columns: Column[]; pos: Span }
  /** `datatable(a:int, …)[…]`: constant rows (values row-major). */
  | { kind: 'datatable'; rows: Scalar[][]; columns: Column[]; pos: Span }
  /** `print a = 1, …`: one row. */
  | { kind: 'print'; items: NamedExpr[]; columns: Column[]; pos: Span }
  /** `range x from a to b step s`: one column, inclusive bounds. */
  | { kind: 'range'; name: string; from: Scalar; to: Scalar; step: Scalar; columns: Column[]; pos: Span }
  /** `search [in (T, …)] predicate` as the start of a query: the tables' rows with a `$table` column. */
  | { kind: 'search'; tables: string[]; predicate: Scalar; columns: Column[]; pos: Span }
  /** `union A, B` as the start of a query (no piped input). */
  | { kind: 'union'; inputs: Tabular[]; columns: Column[]; pos: Span }
  | { kind: 'unsupported'; what: string; columns: Column[]; pos: Span };

export type LetStatement =
  | { kind: 'scalarLet'; id: number; name: string; expr: Scalar; pos: Span }
  | { kind: 'tabularLet'; id: number; name: string; expr: Tabular; pos: Span }
  /** `let f = (x:long, …) { … }`: expanded by the parser at each call, nothing left to compile. */
  | { kind: 'functionLet'; name: string; pos: Span }
  | { kind: 'unsupportedLet'; name: string; what: string; pos: Span };

export interface Query {
  text: string;
  lets: LetStatement[];
  body: Tabular;
  /** Anything else found at statement level (set options, extra statements, …). */
  unsupportedStatements: { what: string; pos: Span }[];
}
