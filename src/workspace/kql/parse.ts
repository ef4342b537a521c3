/**
 * Adapter over Microsoft's Kusto.Language parser (`@kusto/language-service-next`, Bridge.NET build).
 * This is the ONLY module that touches Bridge/Kusto objects: it parses and semantically analyses a
 * query against the workspace schema (so unknown tables/columns give Kusto's own KSxxx errors with
 * positions) and converts the syntax tree into our AST (`ast.ts`). Everything it cannot map becomes an
 * `unsupported` node that `subset.ts` reports with its position.
 */
import { createRequire } from 'node:module';
import { workspaceTables, type TableSchema } from '../tables.ts';
import type {
  Column,
  KType,
  LetStatement,
  NamedExpr,
  Operator,
  OrderKey,
  Query,
  Scalar,
  SearchTerm,
  Span,
  SummarizeItem,
  Tabular,
  BinaryOp,
  ParsePart,
  TopNestedLevel,
} from './ast.ts';
import { KqlError, kqlErrorAt } from './errors.ts';
import { parseDatetimeLiteral, parseDynamicLiteral, parseNumberLiteral, parseTimespanLiteral } from './literals.ts';

/** Longest query text accepted (characters). */
export const MAX_QUERY_LENGTH = 100_000;
/** Deepest bracket nesting accepted (the Kusto parser and our compiler are recursive). */
export const MAX_NESTING_DEPTH = 64;

// Bridge objects are untyped here on purpose: the 1.7 MB .d.ts would add global namespaces to the
// whole project. Access is confined to this file.
type KNode = any;

interface KustoRuntime {
  K: any;
  globals: any;
  kindName: Record<number, string>;
}

let runtime: KustoRuntime | null = null;

const SYMBOL_VARIABLE = 2;
const SYMBOL_FUNCTION = 3;
const SYMBOL_COLUMN = 9;
const SYMBOL_PARAMETER = 4;
const SYMBOL_TABLE = 10;

function load(): KustoRuntime {
  if (runtime) return runtime;
  const require = createRequire(import.meta.url);
  require('@kusto/language-service-next/bridge.min.js');
  require('@kusto/language-service-next/Kusto.Language.Bridge.min.js');
  const K = (globalThis as any).Kusto?.Language;
  if (!K) throw new KqlError('InternalError', 'Kusto language service failed to load');
  const tables = Object.values(workspaceTables).map(
    (t: TableSchema) => new K.Symbols.TableSymbol.$ctor7(t.name, '(' + t.columns.map((c) => `['${c.name}']:${c.type}`).join(', ') + ')', null),
  );
  const db = new K.Symbols.DatabaseSymbol.ctor('workspace', tables);
  const cluster = new K.Symbols.ClusterSymbol.ctor('local', [db]);
  const globals = K.GlobalState.Default.WithCluster(cluster).WithDatabase(db);
  const kindName: Record<number, string> = {};
  for (const [k, v] of Object.entries(K.Syntax.SyntaxKind)) if (typeof v === 'number') kindName[v] = k;
  runtime = { K, globals, kindName };
  return runtime;
}

/**
 * Load the Kusto parser and run one analysis so the first real query does not pay the ~0.5 s static
 * initialisation. Call once at startup (and once per test file).
 */
export function warmUpKql(): void {
  const { K, globals } = load();
  // The analyser's code paths are cold until used; a first join or let can otherwise block for
  // a few hundred ms on a loaded machine.
  for (const q of [
    'ServiceDesk_CL | where TimeGenerated > ago(1d) and Title_s has "x" | summarize count() by bin(TimeGenerated, 1h) | order by TimeGenerated asc',
    'let k = 1; (ServiceDeskLog_CL | extend k = k) | join kind=inner (ServiceDeskLog_CL | extend k = 1 | project k, m = strcat(Message, "x")) on k | union ItsmActionOutcome_CL | count',
  ]) {
    K.KustoCode.ParseAndAnalyze(q, globals);
  }
}

// ---------------------------------------------------------------------------------------------

/** Depth of (), [] and {} nesting outside string literals and comments. */
function nestingDepth(text: string): number {
  let depth = 0;
  let max = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '/' && text[i + 1] === '/') {
      while (i < text.length && text[i] !== '\n') i++;
    } else if (c === '`' && text.startsWith('```', i)) {
      const end = text.indexOf('```', i + 3);
      i = end < 0 ? text.length : end + 2;
    } else if (c === '"' || c === "'") {
      const verbatim = i > 0 && text[i - 1] === '@';
      for (i++; i < text.length && text[i] !== c && text[i] !== '\n'; i++) if (text[i] === '\\' && !verbatim) i++;
    } else if (c === '(' || c === '[' || c === '{') {
      depth++;
      if (depth > max) max = depth;
    } else if (c === ')' || c === ']' || c === '}') {
      depth = Math.max(0, depth - 1);
    }
  }
  return max;
}

function mapType(ty: KNode): KType {
  const n: string | undefined = ty?.Name;
  switch (n) {
    case 'string':
    case 'bool':
    case 'int':
    case 'long':
    case 'real':
    case 'datetime':
    case 'timespan':
    case 'dynamic':
      return n;
    default:
      return 'unsupported';
  }
}

function isTableType(ty: KNode): boolean {
  return !!ty && ty.Kind === SYMBOL_TABLE;
}

function columnsOf(ty: KNode): Column[] {
  const out: Column[] = [];
  if (!ty || !ty.Columns) return out;
  const cols = ty.Columns;
  for (let i = 0; i < cols.Count; i++) {
    const c = cols.getItem(i);
    out.push({ name: c.Name, type: mapType(c.Type) });
  }
  return out;
}

function listItems(list: KNode): KNode[] {
  const out: KNode[] = [];
  if (!list) return out;
  for (let i = 0; i < list.Count; i++) {
    const item = list.getItem(i);
    out.push(item && item.Element !== undefined ? item.Element : item);
  }
  return out;
}

// ---------------------------------------------------------------- adapter

const BINARY_KINDS: Record<string, BinaryOp> = {
  AddExpression: '+',
  SubtractExpression: '-',
  MultiplyExpression: '*',
  DivideExpression: '/',
  ModuloExpression: '%',
  EqualExpression: '==',
  NotEqualExpression: '!=',
  LessThanExpression: '<',
  LessThanOrEqualExpression: '<=',
  GreaterThanExpression: '>',
  GreaterThanOrEqualExpression: '>=',
  AndExpression: 'and',
  OrExpression: 'or',
  EqualTildeExpression: '=~',
  BangTildeExpression: '!~',
  HasExpression: 'has',
  NotHasExpression: '!has',
  HasCsExpression: 'has_cs',
  NotHasCsExpression: '!has_cs',
  ContainsExpression: 'contains',
  NotContainsExpression: '!contains',
  ContainsCsExpression: 'contains_cs',
  NotContainsCsExpression: '!contains_cs',
  StartsWithExpression: 'startswith',
  NotStartsWithExpression: '!startswith',
  StartsWithCsExpression: 'startswith_cs',
  NotStartsWithCsExpression: '!startswith_cs',
  EndsWithExpression: 'endswith',
  NotEndsWithExpression: '!endswith',
  EndsWithCsExpression: 'endswith_cs',
  NotEndsWithCsExpression: '!endswith_cs',
  MatchesRegexExpression: 'matches regex',
};

class Adapter {
  private readonly letIds = new Map<unknown, number>();
  private readonly letIdsByName = new Map<string, number>();
  private nextLetId = 1;
  /** User-defined functions (`let f = (x:long) { … }`) by their symbol: expanded at each call. */
  private readonly functions = new Map<unknown, { decl: KNode; name: string }>();
  /** Arguments of the function calls being expanded (innermost last), by parameter name. */
  private readonly params: Map<string, Scalar>[] = [];
  /** Lets declared inside expanded function bodies (added to the query's lets). */
  readonly innerLets: LetStatement[] = [];
  /** Inside a `search` predicate: bare string literals are terms (case-sensitive with kind=case_sensitive). */
  private search: { caseSensitive: boolean } | null = null;

  constructor(
    private readonly rt: KustoRuntime,
    private readonly text: string,
  ) {}

  kind(n: KNode): string {
    return n ? (this.rt.kindName[n.Kind] ?? 'Unknown') : 'Missing';
  }

  span(n: KNode): Span {
    return n ? { offset: n.TextStart, length: n.Width } : { offset: 0, length: 0 };
  }

  src(n: KNode): string {
    return n ? this.text.slice(n.TextStart, n.TextStart + n.Width) : '';
  }

  /** A short human name for an operator/expression node: its first keyword(s). */
  describe(n: KNode): string {
    const k = this.kind(n);
    const named: Record<string, string> = {
      ToScalarExpression: "function 'toscalar'",
      ToTableExpression: "function 'totable'",
      MaterializeExpression: "function 'materialize'",
      ExternalDataExpression: "operator 'externaldata'",
      DynamicExpression: 'dynamic literal dynamic(…)',
      GuidLiteralExpression: 'guid literal',
      DecimalLiteralExpression: 'decimal literal',
      TypeOfLiteralExpression: 'typeof literal',
      JsonObjectExpression: 'JSON literal',
      JsonArrayExpression: 'JSON literal',
      DataScopeExpression: 'data scope expression',
      AtExpression: 'query parameter (@…)',
    };
    if (named[k]) return named[k];
    if (k.endsWith('Operator')) {
      const tok = n.GetFirstToken?.();
      return tok?.Text ? `operator '${tok.Text}'` : `operator ${k}`;
    }
    const op = n?.Operator?.Text;
    if (op) return `operator '${op}'`;
    const src = this.src(n);
    return (
      k
        .replace(/Expression$/, ' expression')
        .replace(/([a-z])([A-Z])/g, '$1 $2')
        .toLowerCase() + (src ? ` '${src.slice(0, 40)}'` : '')
    );
  }

  query(root: KNode): Query {
    const q: Query = { text: this.text, lets: [], body: null as unknown as Tabular, unsupportedStatements: [] };
    if (this.kind(root) !== 'QueryBlock') {
      q.unsupportedStatements.push({ what: 'control commands', pos: this.span(root) });
      q.body = { kind: 'unsupported', what: 'control commands', columns: [], pos: this.span(root) };
      return q;
    }
    if (root.Directives && root.Directives.Count > 0) {
      q.unsupportedStatements.push({ what: 'directives', pos: this.span(root.Directives) });
    }
    const statements = listItems(root.Statements);
    let body: Tabular | null = null;
    for (const st of statements) {
      const k = this.kind(st);
      if (body) {
        q.unsupportedStatements.push({ what: 'more than one query statement', pos: this.span(st) });
        continue;
      }
      if (k === 'LetStatement') q.lets.push(this.letStatement(st));
      else if (k === 'ExpressionStatement') {
        if (!isTableType(st.Expression?.ResultType)) {
          q.unsupportedStatements.push({ what: 'a scalar query statement (the query must return a table)', pos: this.span(st) });
          body = { kind: 'unsupported', what: 'scalar statement', columns: [], pos: this.span(st) };
        } else body = this.tabular(st.Expression);
      } else {
        const what =
          k === 'SetOptionStatement'
            ? "'set' statements"
            : k === 'QueryParametersStatement'
              ? "'declare query_parameters'"
              : k.replace(/Statement$/, ' statements');
        q.unsupportedStatements.push({ what, pos: this.span(st) });
      }
    }
    if (!body)
      throw kqlErrorAt('SemanticError', this.text, { offset: this.text.length, length: 0 }, 'The query has no tabular expression statement', 'SEM0003');
    q.body = body;
    q.lets.push(...this.innerLets);
    return q;
  }

  letStatement(st: KNode): LetStatement {
    const name: string = st.Name?.SimpleName ?? '';
    const e = st.Expression;
    const k = this.kind(e);
    if (k === 'FunctionDeclaration') {
      const problem = this.functionProblem(e);
      if (problem) return { kind: 'unsupportedLet', name, what: problem.what, pos: this.span(problem.at) };
      if (st.Name?.ReferencedSymbol) this.functions.set(st.Name.ReferencedSymbol, { decl: e, name });
      return { kind: 'functionLet', name, pos: this.span(st) };
    }
    if (k === 'MaterializeExpression') return { kind: 'unsupportedLet', name, what: "function 'materialize'", pos: this.span(e) };
    const id = this.nextLetId++;
    const sym = st.Name?.ReferencedSymbol;
    if (sym) this.letIds.set(sym, id);
    if (isTableType(e?.ResultType)) {
      const expr = this.tabular(e);
      this.letIdsByName.set(name, id);
      return { kind: 'tabularLet', id, name, expr, pos: this.span(st) };
    }
    const expr = this.scalar(e);
    this.letIdsByName.set(name, id);
    return { kind: 'scalarLet', id, name, expr, pos: this.span(st) };
  }

  /** What of a function declaration we cannot expand (tabular parameters, statements in the body), else null. */
  functionProblem(decl: KNode): { what: string; at: KNode } | null {
    for (const p of listItems(decl.Parameters?.Parameters)) {
      const type = p.NameAndType?.Type;
      if (this.kind(type) !== 'PrimitiveTypeExpression') return { what: 'a tabular parameter of a user-defined function', at: p };
    }
    const other = listItems(decl.Body?.Statements).find((st) => this.kind(st) !== 'LetStatement');
    if (other) return { what: 'statements other than let inside a user-defined function body', at: other };
    return null;
  }

  /**
   * A call of a user-defined function: its body with each parameter replaced by the call's argument (or
   * the parameter's default value). Returns undefined when `n` does not call a user-defined function.
   */
  expandCall<T>(n: KNode, convert: (body: KNode) => T): T | undefined {
    const fn = this.functions.get(n.ReferencedSymbol);
    if (!fn) return undefined;
    if (this.params.length >= MAX_FUNCTION_DEPTH)
      throw kqlErrorAt('UnsupportedError', this.text, this.span(n), `user-defined function '${fn.name}' calls nest too deeply`, 'UNS0003');
    const args = this.kind(n) === 'FunctionCallExpression' ? listItems(n.ArgumentList?.Expressions) : [];
    // Positional arguments first; `name = value` arguments may follow in any order.
    const named = new Map(args.filter((a) => this.kind(a) === 'SimpleNamedExpression').map((a) => [a.Name?.SimpleName as string, a.Expression]));
    const positional = args.filter((a) => this.kind(a) !== 'SimpleNamedExpression');
    const values = new Map<string, Scalar>();
    listItems(fn.decl.Parameters?.Parameters).forEach((p, i) => {
      const pname: string = p.NameAndType?.Name?.SimpleName ?? '';
      const arg = positional[i] ?? named.get(pname) ?? p.DefaultValue?.Value;
      values.set(pname, arg ? this.scalar(arg) : { kind: 'literal', type: mapType(p.NameAndType?.Name?.ResultType), value: null, pos: this.span(n) });
    });
    this.params.push(values);
    try {
      // The body's own lets are converted per call (they may read the parameters).
      for (const st of listItems(fn.decl.Body?.Statements)) this.innerLets.push(this.letStatement(st));
      return convert(fn.decl.Body?.Expression);
    } finally {
      this.params.pop();
    }
  }

  letIdOf(n: KNode, name: string): number | undefined {
    const sym = n.ReferencedSymbol;
    return (sym && this.letIds.get(sym)) ?? this.letIdsByName.get(name);
  }

  unsupportedTab(n: KNode, what?: string): Tabular {
    return { kind: 'unsupported', what: what ?? this.describe(n), columns: columnsOf(n?.ResultType), pos: this.span(n) };
  }

  tabular(n: KNode): Tabular {
    const k = this.kind(n);
    switch (k) {
      case 'PipeExpression': {
        const input = this.tabular(n.Expression);
        const op = this.operator(n.Operator, input);
        return { kind: 'pipe', input, op, columns: columnsOf(n.ResultType), pos: this.span(n) };
      }
      case 'ParenthesizedExpression':
        return this.tabular(n.Expression);
      case 'NameReference': {
        const sym = n.ReferencedSymbol;
        const name: string = n.SimpleName ?? this.src(n);
        if (sym?.Kind === SYMBOL_TABLE && Object.prototype.hasOwnProperty.call(workspaceTables, sym.Name)) {
          return { kind: 'table', name: sym.Name, columns: columnsOf(n.ResultType), pos: this.span(n) };
        }
        if (sym?.Kind === SYMBOL_VARIABLE && isTableType(n.ResultType)) {
          const id = this.letIdOf(n, name);
          if (id !== undefined) return { kind: 'letRef', id, name, columns: columnsOf(n.ResultType), pos: this.span(n) };
        }
        const expanded = this.expandCall(n, (body) => this.tabular(body));
        if (expanded) return expanded;
        return this.unsupportedTab(n, `table reference '${name}'`);
      }
      case 'UnionOperator': {
        const bad = this.checkParams(n.Parameters, { kind: ['outer'] });
        if (bad) return this.unsupportedTab(n, bad);
        const inputs = listItems(n.Expressions).map((e) => this.tabular(e));
        return { kind: 'union', inputs, columns: columnsOf(n.ResultType), pos: this.span(n) };
      }
      case 'FunctionCallExpression':
        return this.expandCall(n, (body) => this.tabular(body)) ?? this.unsupportedTab(n, `function '${n.Name?.SimpleName ?? '?'}' as a table source`);
      case 'SearchOperator': {
        const bad = this.searchParams(n);
        if (bad) return this.unsupportedTab(n, bad);
        const tables = n.InClause ? listItems(n.InClause.Expressions).map((e) => e.ReferencedSymbol?.Name as string | undefined) : Object.keys(workspaceTables);
        if (tables.some((t) => !t || !Object.prototype.hasOwnProperty.call(workspaceTables, t)))
          return this.unsupportedTab(n.InClause, "'search in (…)' over anything but workspace tables");
        return { kind: 'search', tables: tables as string[], predicate: this.searchPredicate(n), columns: columnsOf(n.ResultType), pos: this.span(n) };
      }
      case 'DataTableExpression': {
        const columns = columnsOf(n.ResultType);
        const bad = this.checkParams(n.Parameters);
        if (bad) return this.unsupportedTab(n, `${bad} of 'datatable'`);
        const values = listItems(n.Values).map((v) => this.scalar(v));
        if (!columns.length || values.length % columns.length !== 0) return this.unsupportedTab(n, "this form of 'datatable'");
        const rows: Scalar[][] = [];
        for (let i = 0; i < values.length; i += columns.length) rows.push(values.slice(i, i + columns.length));
        return { kind: 'datatable', rows, columns, pos: this.span(n) };
      }
      case 'PrintOperator': {
        const columns = columnsOf(n.ResultType);
        const exprs = listItems(n.Expressions);
        if (exprs.length !== columns.length) return this.unsupportedTab(n, "this form of 'print'");
        return { kind: 'print', items: exprs.map((e, i) => ({ name: columns[i].name, expr: this.scalar(this.unnamed(e)) })), columns, pos: this.span(n) };
      }
      case 'RangeOperator': {
        const columns = columnsOf(n.ResultType);
        if (columns.length !== 1) return this.unsupportedTab(n, "this form of 'range'");
        return {
          kind: 'range',
          name: columns[0].name,
          from: this.scalar(n.From),
          to: this.scalar(n.To),
          step: this.scalar(n.Step),
          columns,
          pos: this.span(n),
        };
      }
      default:
        return this.unsupportedTab(n);
    }
  }

  /** Returns a message when a named parameter is not in `allowed` (name → allowed values). */
  checkParams(params: KNode, allowed: Record<string, string[]> = {}): string | null {
    for (const p of listItems(params)) {
      const name: string = p.Name?.SimpleName ?? '?';
      const value = this.src(p.Expression).trim();
      const ok = allowed[name];
      if (!ok || !ok.includes(value)) return `parameter '${name}=${value.slice(0, 40)}'`;
    }
    return null;
  }

  opUnsupported(n: KNode, what?: string): Operator {
    return { op: 'unsupported', what: what ?? this.describe(n), pos: this.span(n) };
  }

  operator(n: KNode, input: Tabular): Operator {
    const k = this.kind(n);
    const pos = this.span(n);
    const out = columnsOf(n.ResultType);
    switch (k) {
      case 'FilterOperator': {
        const bad = this.checkParams(n.Parameters);
        if (bad) return this.opUnsupported(n, `${bad} of operator 'where'`);
        return { op: 'where', predicate: this.scalar(n.Condition), pos };
      }
      case 'ProjectOperator': {
        const items: NamedExpr[] = [];
        for (const e of listItems(n.Expressions)) {
          const width = tupleWidth(e);
          const names = out.slice(items.length, items.length + width);
          if (names.length < width) return this.opUnsupported(n, "wildcards in operator 'project'");
          items.push(...(width > 1 ? this.tupleItems(e, names) : [{ name: names[0].name, expr: this.scalar(this.unnamed(e)) }]));
        }
        if (items.length !== out.length) return this.opUnsupported(n, "wildcards in operator 'project'");
        return { op: 'project', items, pos };
      }
      case 'ProjectAwayOperator':
        return { op: 'project-away', pos };
      case 'ProjectRenameOperator': {
        const renames: { to: string; from: string }[] = [];
        for (const e of listItems(n.Expressions)) {
          if (this.kind(e) !== 'SimpleNamedExpression') return this.opUnsupported(e, "this form of 'project-rename'");
          const from = e.Expression?.ReferencedSymbol;
          if (!from || from.Kind !== SYMBOL_COLUMN) return this.opUnsupported(e, "this form of 'project-rename'");
          renames.push({ to: e.Name.SimpleName, from: from.Name });
        }
        return { op: 'project-rename', renames, pos };
      }
      case 'ExtendOperator':
        return this.extend(n, input, out);
      case 'SummarizeOperator':
        return this.summarize(n, out);
      case 'SortOperator': {
        const bad = this.checkParams(n.Parameters);
        if (bad) return this.opUnsupported(n, `${bad} of operator 'sort'`);
        return { op: 'sort', keys: listItems(n.Expressions).map((e) => this.orderKey(e)), pos };
      }
      case 'TopOperator': {
        const bad = this.checkParams(n.Parameters);
        if (bad) return this.opUnsupported(n, `${bad} of operator 'top'`);
        return { op: 'top', count: this.scalar(n.Expression), key: this.orderKey(n.ByExpression), pos };
      }
      case 'TakeOperator': {
        const bad = this.checkParams(n.Parameters);
        if (bad) return this.opUnsupported(n, `${bad} of operator '${n.Keyword?.Text ?? 'take'}'`);
        return { op: 'take', count: this.scalar(n.Expression), pos };
      }
      case 'DistinctOperator': {
        const bad = this.checkParams(n.Parameters);
        if (bad) return this.opUnsupported(n, `${bad} of operator 'distinct'`);
        const exprs = listItems(n.Expressions);
        if (exprs.length === 1 && this.kind(exprs[0]) === 'StarExpression') {
          return {
            op: 'distinct',
            items: input.columns.map((c) => ({ name: c.name, expr: { kind: 'column', name: c.name, type: c.type, pos: this.span(exprs[0]) } })),
            pos,
          };
        }
        if (exprs.length !== out.length) return this.opUnsupported(n, "this form of 'distinct'");
        return { op: 'distinct', items: exprs.map((e, i) => ({ name: out[i].name, expr: this.scalar(this.unnamed(e)) })), pos };
      }
      case 'CountOperator':
        return { op: 'count', pos };
      case 'JoinOperator':
        return this.join(n);
      case 'LookupOperator':
        return this.join(n, true);
      case 'UnionOperator': {
        const bad = this.checkParams(n.Parameters, { kind: ['outer'] });
        if (bad) return this.opUnsupported(n, `${bad} of operator 'union'`);
        return { op: 'union', inputs: listItems(n.Expressions).map((e) => this.tabular(e)), pos };
      }
      case 'RenderOperator':
        return this.render(n);
      case 'MakeSeriesOperator':
        return this.makeSeries(n, out);
      case 'ParseOperator':
        return this.parseOp(n, out);
      case 'GetSchemaOperator':
        return { op: 'getschema', pos };
      case 'SampleOperator': {
        const bad = this.checkParams(n.Parameters);
        if (bad) return this.opUnsupported(n, `${bad} of operator 'sample'`);
        return { op: 'sample', count: this.scalar(n.Expression), pos };
      }
      case 'MvExpandOperator':
        return this.mvExpand(n);
      case 'SerializeOperator': {
        const bad = this.checkParams(n.Parameters);
        if (bad) return this.opUnsupported(n, `${bad} of operator 'serialize'`);
        // Rows are already in a defined order here (the SQL keeps it); the columns are an extend.
        return this.extend(n, input, out);
      }
      case 'SearchOperator': {
        const bad = this.searchParams(n);
        if (bad) return this.opUnsupported(n, bad);
        return { op: 'search', predicate: this.searchPredicate(n), table: rootTable(input), pos };
      }
      case 'TopNestedOperator':
        return this.topNested(n, out);
      case 'AsOperator': {
        const bad = this.checkParams(n.Parameters);
        if (bad) return this.opUnsupported(n, `${bad} of operator 'as'`);
        return { op: 'as', pos };
      }
      default:
        return this.opUnsupported(n);
    }
  }

  /** `kind=case_sensitive` (or the default) is all `search` takes. */
  searchParams(n: KNode): string | null {
    const bad = this.checkParams(n.Parameters, { kind: ['case_sensitive', 'case_insensitive', 'default'] });
    return bad ? `${bad} of operator 'search'` : null;
  }

  searchPredicate(n: KNode): Scalar {
    const kindParam = listItems(n.Parameters).find((p) => p.Name?.SimpleName === 'kind');
    this.search = { caseSensitive: !!kindParam && this.src(kindParam.Expression).trim() === 'case_sensitive' };
    try {
      return this.scalar(n.Condition);
    } finally {
      this.search = null;
    }
  }

  /** A string literal in a search predicate → the term match its asterisks select. */
  searchTerm(lit: KNode, column: string | null, pos: Span): Scalar {
    const v: unknown = lit?.LiteralValue;
    if (typeof v !== 'string' || !this.search) return this.unsupportedExpr(lit, 'this search term');
    const lead = v.startsWith('*');
    const trail = v.length > 1 && v.endsWith('*');
    const core = v.slice(lead ? 1 : 0, trail ? -1 : undefined);
    const match: SearchTerm['match'] = core.includes('*') ? 'regex' : lead && trail ? 'contains' : lead ? 'suffix' : trail ? 'prefix' : 'has';
    return { kind: 'searchTerm', column, term: core, match, caseSensitive: this.search.caseSensitive, type: 'bool', pos };
  }

  /** top-nested levels: `[N] of key [with others = …] by [name =] aggregate [asc|desc]`, each adding key and aggregate columns. */
  topNested(n: KNode, out: Column[]): Operator {
    const clauses = listItems(n.Clauses);
    if (out.length !== clauses.length * 2) return this.opUnsupported(n, "this form of 'top-nested'");
    const levels: TopNestedLevel[] = [];
    for (const [i, c] of clauses.entries()) {
      let by = c.ByExpression;
      let dir: 'asc' | 'desc' = 'desc';
      if (this.kind(by) === 'OrderedExpression') {
        dir = by.Ordering?.AscOrDescKeyword?.Text?.toLowerCase() === 'asc' ? 'asc' : 'desc';
        by = by.Expression;
      }
      levels.push({
        count: c.Expression ? this.scalar(c.Expression) : null,
        key: { name: out[2 * i].name, expr: this.scalar(this.unnamed(c.OfExpression)) },
        agg: { name: out[2 * i + 1].name, expr: this.scalar(this.unnamed(by)) },
        dir,
        others: c.WithOthersClause ? this.scalar(c.WithOthersClause.Expression) : null,
        pos: this.span(c),
      });
    }
    return { op: 'top-nested', levels, pos: this.span(n) };
  }

  /** mv-expand of one array (column or `name = expression`), optionally `with_itemindex`. */
  mvExpand(n: KNode): Operator {
    if (n.RowLimitClause) return this.opUnsupported(n.RowLimitClause, "'limit' of operator 'mv-expand'");
    let index: string | null = null;
    for (const p of listItems(n.Parameters)) {
      const name: string = p.Name?.SimpleName ?? '?';
      const value = this.src(p.Expression).trim();
      if (name === 'with_itemindex') index = value;
      else if (!(name === 'kind' && value === 'bag')) return this.opUnsupported(p, `parameter '${name}=${value.slice(0, 40)}' of operator 'mv-expand'`);
    }
    const exprs = listItems(n.Expressions);
    if (exprs.length !== 1) return this.opUnsupported(n, "several arrays in one 'mv-expand'");
    if (exprs[0].ToTypeOf) return this.opUnsupported(exprs[0].ToTypeOf, "'to typeof(…)' of operator 'mv-expand'");
    const e = exprs[0].Expression;
    const name: string | undefined =
      this.kind(e) === 'SimpleNamedExpression' ? e.Name?.SimpleName : this.kind(e) === 'NameReference' ? e.SimpleName : undefined;
    if (!name) return this.opUnsupported(e, "an unnamed expression in 'mv-expand' (write name = expression)");
    return { op: 'mv-expand', name, expr: this.scalar(this.unnamed(e)), index, pos: this.span(n) };
  }

  makeSeries(n: KNode, out: Column[]): Operator {
    const pos = this.span(n);
    const bad = this.checkParams(n.Parameters);
    if (bad) return this.opUnsupported(n, `${bad} of operator 'make-series'`);
    const range = n.RangeClause;
    if (this.kind(range) !== 'MakeSeriesFromToStepClause') return this.opUnsupported(range ?? n, "'make-series … in range(…)' (use from … to … step …)");
    const byExprs = n.ByClause ? listItems(n.ByClause.Expressions) : [];
    const aggs = listItems(n.Aggregates);
    if (out.length !== byExprs.length + aggs.length + 1) return this.opUnsupported(n, "this form of 'make-series'");
    const by = byExprs.map((e, i) => ({ name: out[i].name, expr: this.scalar(this.unnamed(e)) }));
    const items = aggs.map((a, i) => {
      const named = this.kind(a) === 'MakeSeriesExpression' ? a : null;
      const expr = named ? named.Expression : a;
      const def = named?.DefaultExpression?.Expression;
      return { name: out[byExprs.length + i].name, expr: this.scalar(this.unnamed(expr)), default: def ? this.scalar(def) : null, pos: this.span(a) };
    });
    const axisNode = this.unnamed(n.OnClause?.Expression);
    return {
      op: 'make-series',
      items,
      axis: { name: out[out.length - 1].name, expr: this.scalar(axisNode) },
      from: range.MakeSeriesFromClause ? this.scalar(range.MakeSeriesFromClause.Expression) : null,
      to: range.MakeSeriesToClause ? this.scalar(range.MakeSeriesToClause.Expression) : null,
      step: this.scalar(range.MakeSeriesStepClause?.Expression),
      by,
      pos,
    };
  }

  parseOp(n: KNode, out: Column[]): Operator {
    const pos = this.span(n);
    let kind: 'simple' | 'regex' = 'simple';
    for (const p of listItems(n.Parameters)) {
      const name: string = p.Name?.SimpleName ?? '?';
      const value = this.src(p.Expression).trim();
      if (name !== 'kind' || (value !== 'simple' && value !== 'regex'))
        return this.opUnsupported(p, `parameter '${name}=${value.slice(0, 40)}' of operator 'parse'`);
      kind = value;
    }
    const types = new Map(out.map((c) => [c.name, c.type]));
    const parts: ParsePart[] = [];
    for (const e of listItems(n.Patterns)) {
      const k = this.kind(e);
      if (k === 'StarExpression') parts.push({ star: true });
      else if (k === 'NameAndTypeDeclaration' || k === 'NameDeclaration') {
        const column: string = (k === 'NameDeclaration' ? e.SimpleName : e.Name?.SimpleName) ?? '';
        parts.push({ column, type: types.get(column) ?? 'string' });
      } else if (e.IsLiteral && typeof e.LiteralValue === 'string') parts.push({ literal: e.LiteralValue });
      else return this.opUnsupported(e, `pattern element '${this.src(e).slice(0, 40)}' of operator 'parse'`);
    }
    return { op: 'parse', kind, source: this.scalar(n.Expression), parts, pos };
  }

  unnamed(e: KNode): KNode {
    return this.kind(e) === 'SimpleNamedExpression' ? e.Expression : e;
  }

  extend(n: KNode, input: Tabular, out: Column[]): Operator {
    const exprs = listItems(n.Expressions);
    const inputNames = new Set(input.columns.map((c) => c.name));
    const items: { name: string | null; node: KNode }[] = exprs.map((e) => {
      const k = this.kind(e);
      if (k === 'SimpleNamedExpression') return { name: e.Name.SimpleName as string, node: e.Expression };
      if (k === 'NameReference' && e.ReferencedSymbol?.Kind === SYMBOL_COLUMN) return { name: e.ReferencedSymbol.Name as string, node: e };
      return { name: null, node: e };
    });
    const explicit = new Set(items.filter((i) => i.name !== null).map((i) => i.name as string));
    const generated = out.filter((c) => !inputNames.has(c.name) && !explicit.has(c.name));
    const result: NamedExpr[] = [];
    for (const it of items) {
      const width = it.name === null ? tupleWidth(it.node) : 1;
      if (width > 1) {
        const names = generated.splice(0, width);
        if (names.length < width) return this.opUnsupported(n, "this form of 'extend'");
        result.push(...this.tupleItems(it.node, names));
        continue;
      }
      const name = it.name ?? generated.shift()?.name;
      if (!name) return this.opUnsupported(n, "this form of 'extend'");
      result.push({ name, expr: this.scalar(it.node) });
    }
    const outNames = new Set(out.map((c) => c.name));
    if (result.some((r) => !outNames.has(r.name))) return this.opUnsupported(n, "this form of 'extend'");
    return { op: 'extend', items: result, pos: this.span(n) };
  }

  /** `series_stats(x)`: one column per statistic, each read from series_stats_dynamic(x). */
  tupleItems(e: KNode, names: Column[]): NamedExpr[] {
    const pos = this.span(e);
    const namePos = this.span(e.Name);
    const stats: Scalar = {
      kind: 'call',
      name: 'series_stats_dynamic',
      args: [this.scalar(listItems(e.ArgumentList?.Expressions)[0])],
      type: 'dynamic',
      pos,
      namePos,
    };
    return names.map((c, i) => ({
      name: c.name,
      expr: {
        kind: 'call',
        name: c.type === 'long' ? 'tolong' : 'todouble',
        args: [{ kind: 'member', target: stats, key: SERIES_STATS_FIELDS[i], type: 'dynamic', pos }],
        type: c.type,
        pos,
        namePos,
      },
    }));
  }

  summarize(n: KNode, out: Column[]): Operator {
    const pos = this.span(n);
    const bad = this.checkParams(n.Parameters);
    if (bad) return this.opUnsupported(n, `${bad} of operator 'summarize'`);
    if (n.ByClause?.BinClause) return this.opUnsupported(n.ByClause.BinClause, "'bin=' clause of operator 'summarize'");
    const byExprs = n.ByClause ? listItems(n.ByClause.Expressions) : [];
    let idx = 0;
    const by: NamedExpr[] = [];
    for (const e of byExprs) {
      const col = out[idx++];
      if (!col) return this.opUnsupported(n, "this form of 'summarize'");
      by.push({ name: col.name, expr: this.scalar(this.unnamed(e)) });
    }
    const items: SummarizeItem[] = [];
    for (const e of listItems(n.Aggregates)) {
      const k = this.kind(e);
      const inner = k === 'CompoundNamedExpression' ? e.Expression : this.unnamed(e);
      const fnName: string | undefined = this.kind(inner) === 'FunctionCallExpression' ? inner.Name?.SimpleName : undefined;
      if (fnName === 'percentiles') {
        // One percentile column per requested percentage, named by Kusto (percentile_x_50, … or the tuple names).
        const [value, ...pcts] = listItems(inner.ArgumentList?.Expressions);
        if (!value || !pcts.length || idx + pcts.length > out.length) return this.opUnsupported(n, "this form of 'summarize'");
        const x = this.scalar(value);
        for (const pct of pcts) {
          const col = out[idx++];
          const namePos = this.span(inner.Name);
          items.push({
            kind: 'agg',
            name: col.name,
            expr: { kind: 'call', name: 'percentile', args: [x, this.scalar(pct)], type: col.type, pos: this.span(inner), namePos },
            pos: this.span(e),
          });
        }
        continue;
      }
      if (k === 'CompoundNamedExpression') return this.opUnsupported(e, 'tuple naming (a, b) = … in summarize');
      if (fnName === 'arg_max' || fnName === 'arg_min') {
        // The result is a tuple (maximised value + returned columns), or a plain scalar when `*`
        // expands to nothing else.
        const width: number = inner.ResultType?.Columns ? inner.ResultType.Columns.Count : 1;
        const fcCols = columnsOf(inner.ResultType);
        const args = listItems(inner.ArgumentList?.Expressions);
        if (args.length < 1 || idx + width > out.length) return this.opUnsupported(n, "this form of 'summarize'");
        const byName = out[idx].name;
        const outputs: NamedExpr[] = [];
        const rest = args.slice(1);
        if (rest.length === 1 && this.kind(rest[0]) === 'StarExpression') {
          for (let j = 1; j < width; j++) {
            outputs.push({ name: out[idx + j].name, expr: { kind: 'column', name: fcCols[j].name, type: fcCols[j].type, pos: this.span(rest[0]) } });
          }
        } else {
          if (rest.some((a) => this.kind(a) === 'StarExpression') || rest.length !== width - 1) {
            return this.opUnsupported(inner, `this form of '${fnName}' (use either '*' or a list of columns)`);
          }
          rest.forEach((a, j) => outputs.push({ name: out[idx + j + 1].name, expr: this.scalar(this.unnamed(a)) }));
        }
        items.push({ kind: 'argExtreme', fn: fnName, by: { name: byName, expr: this.scalar(args[0]) }, outputs, pos: this.span(inner) });
        idx += width;
        continue;
      }
      const col = out[idx++];
      if (!col) return this.opUnsupported(n, "this form of 'summarize'");
      items.push({ kind: 'agg', name: col.name, expr: this.scalar(inner), pos: this.span(e) });
    }
    if (idx !== out.length) return this.opUnsupported(n, "this form of 'summarize'");
    return { op: 'summarize', by, items, pos };
  }

  orderKey(e: KNode): OrderKey {
    if (this.kind(e) === 'OrderedExpression') {
      const dirTok: string | undefined = e.Ordering?.AscOrDescKeyword?.Text;
      const dir = dirTok?.toLowerCase() === 'asc' ? 'asc' : 'desc';
      const nullsTok: string | undefined = e.Ordering?.NullsClause?.FirstOrLastKeyword?.Text;
      const nulls = nullsTok ? (nullsTok.toLowerCase() === 'first' ? 'first' : 'last') : dir === 'asc' ? 'first' : 'last';
      return { expr: this.scalar(e.Expression), dir, nulls };
    }
    return { expr: this.scalar(e), dir: 'desc', nulls: 'last' };
  }

  /** join, or lookup (kinds leftouter (default) and inner; the right keys are not repeated). */
  join(n: KNode, lookup = false): Operator {
    const pos = this.span(n);
    const opName = lookup ? 'lookup' : 'join';
    let kind = lookup ? 'leftouter' : 'innerunique';
    let kindPos = this.span(lookup ? n.LookupKeyword : n.JoinKeyword);
    for (const p of listItems(n.Parameters)) {
      const name: string = p.Name?.SimpleName ?? '?';
      if (name !== 'kind') return this.opUnsupported(p, `parameter '${name}' of operator '${opName}'`);
      kind = this.src(p.Expression).trim();
      kindPos = this.span(p);
      if (lookup && kind !== 'leftouter' && kind !== 'inner') return this.opUnsupported(p, `parameter 'kind=${kind}' of operator 'lookup'`);
    }
    const right = this.tabular(n.Expression);
    const cond = lookup ? n.LookupClause : n.ConditionClause;
    if (this.kind(cond) !== 'JoinOnClause') return this.opUnsupported(cond ?? n, "'join … where' conditions");
    const on: { left: string; right: string }[] = [];
    const flatten = (e: KNode): KNode[] => (this.kind(e) === 'AndExpression' ? [...flatten(e.Left), ...flatten(e.Right)] : [e]);
    for (const item of listItems(cond.Expressions)) {
      for (const e of flatten(item)) {
        const k = this.kind(e);
        if (k === 'NameReference' && e.ReferencedSymbol?.Kind === SYMBOL_COLUMN) {
          on.push({ left: e.ReferencedSymbol.Name, right: e.ReferencedSymbol.Name });
          continue;
        }
        if (k === 'EqualExpression') {
          const a = this.sidedColumn(e.Left);
          const b = this.sidedColumn(e.Right);
          if (a && b && a.side !== b.side) {
            on.push(a.side === 'left' ? { left: a.name, right: b.name } : { left: b.name, right: a.name });
            continue;
          }
        }
        return this.opUnsupported(e, `join condition '${this.src(e).slice(0, 60)}' (use 'on Column' or '$left.A == $right.B')`);
      }
    }
    return { op: 'join', kind, kindPos, right, on, ...(lookup ? { lookup } : {}), pos };
  }

  sidedColumn(e: KNode): { side: 'left' | 'right'; name: string } | null {
    if (this.kind(e) !== 'PathExpression') return null;
    const target = this.src(e.Expression).trim();
    const sym = e.ReferencedSymbol ?? e.Selector?.ReferencedSymbol;
    if (!sym || sym.Kind !== SYMBOL_COLUMN) return null;
    if (target === '$left') return { side: 'left', name: sym.Name };
    if (target === '$right') return { side: 'right', name: sym.Name };
    return null;
  }

  render(n: KNode): Operator {
    const pos = this.span(n);
    const visualization: string = n.ChartType?.Text ?? '';
    const properties: Record<string, string> = {};
    const addProp = (p: KNode) => {
      const name: string = p.Name?.SimpleName ?? '';
      const ex = p.Expression;
      const lit = ex?.IsLiteral ? ex.LiteralValue : undefined;
      properties[name] = typeof lit === 'string' ? lit : this.src(ex).trim();
    };
    listItems(n.Parameters).forEach(addProp);
    if (n.WithClause) listItems(n.WithClause.Properties).forEach(addProp);
    return { op: 'render', visualization, properties, pos };
  }

  // ------------------------------------------------------------ scalars

  unsupportedExpr(n: KNode, what?: string): Scalar {
    return { kind: 'unsupported', what: what ?? this.describe(n), type: mapType(n?.ResultType), pos: this.span(n) };
  }

  literalToken(n: KNode): string {
    return this.src(n).trim();
  }

  scalar(n: KNode): Scalar {
    const k = this.kind(n);
    const pos = this.span(n);
    const type = mapType(n?.ResultType);
    if (this.search) {
      // search "err" / Column:"err" / * has "err" / search *
      if ((k === 'StringLiteralExpression' || k === 'CompoundStringLiteralExpression') && type === 'bool') return this.searchTerm(n, null, pos);
      if (k === 'SearchExpression') {
        const col = n.Left?.ReferencedSymbol;
        if (col?.Kind !== SYMBOL_COLUMN) return this.unsupportedExpr(n, `search term '${this.src(n).slice(0, 40)}'`);
        return this.searchTerm(n.Right, col.Name, pos);
      }
      if (k === 'StarExpression' && type === 'bool') return { kind: 'literal', type: 'bool', value: true, pos };
      if (this.kind(n.Left) === 'StarExpression' && (k === 'HasExpression' || k === 'ContainsExpression') && typeof n.Right?.LiteralValue === 'string') {
        const term = this.searchTerm(n.Right, null, pos);
        return term.kind === 'searchTerm' ? { ...term, term: n.Right.LiteralValue, match: k === 'HasExpression' ? 'has' : 'contains' } : term;
      }
    }
    const binOp = BINARY_KINDS[k];
    if (binOp) return { kind: 'binary', op: binOp, left: this.scalar(n.Left), right: this.scalar(n.Right), type, pos };
    switch (k) {
      case 'StringLiteralExpression':
      case 'CompoundStringLiteralExpression': {
        const v = n.LiteralValue;
        if (typeof v !== 'string') return this.unsupportedExpr(n, 'string literal');
        return { kind: 'literal', type: 'string', value: v, pos };
      }
      case 'LongLiteralExpression':
      case 'IntLiteralExpression':
      case 'RealLiteralExpression': {
        const lk = k === 'LongLiteralExpression' ? 'long' : k === 'IntLiteralExpression' ? 'int' : 'real';
        const v = parseNumberLiteral(this.literalToken(n), lk);
        if (v === undefined) return this.unsupportedExpr(n, `numeric literal '${this.literalToken(n).slice(0, 40)}'`);
        return { kind: 'literal', type: lk, value: v, pos };
      }
      case 'DynamicExpression': {
        const body = /^\s*dynamic\s*\(([\s\S]*)\)\s*$/.exec(this.src(n))?.[1];
        const v = body === undefined ? undefined : parseDynamicLiteral(body);
        if (v === undefined) return this.unsupportedExpr(n, 'this dynamic literal (only JSON values are supported)');
        return { kind: 'literal', type: 'dynamic', value: v, pos };
      }
      case 'BooleanLiteralExpression': {
        const t = this.literalToken(n).toLowerCase().replace(/\s+/g, '');
        const v = t === 'true' || t === 'bool(true)' ? true : t === 'false' || t === 'bool(false)' ? false : t === 'bool(null)' ? null : undefined;
        if (v === undefined) return this.unsupportedExpr(n, `boolean literal '${t.slice(0, 40)}'`);
        return { kind: 'literal', type: 'bool', value: v, pos };
      }
      case 'DateTimeLiteralExpression': {
        const v = parseDatetimeLiteral(this.literalToken(n));
        if (v === undefined) return this.unsupportedExpr(n, `datetime literal '${this.literalToken(n).slice(0, 60)}' (use ISO 8601)`);
        return { kind: 'literal', type: 'datetime', value: v, pos };
      }
      case 'TimespanLiteralExpression': {
        let v = parseTimespanLiteral(this.literalToken(n));
        if (v === undefined) {
          const lv = n.LiteralValue;
          if (lv?.ticks && typeof lv.ticks.toNumber === 'function') v = lv.ticks.toNumber() / 10000;
        }
        if (v === undefined || (typeof v === 'number' && !Number.isFinite(v))) {
          return this.unsupportedExpr(n, `timespan literal '${this.literalToken(n).slice(0, 40)}'`);
        }
        return { kind: 'literal', type: 'timespan', value: v, pos };
      }
      case 'ParenthesizedExpression':
        return this.scalar(n.Expression);
      case 'NameReference': {
        const sym = n.ReferencedSymbol;
        const name: string = n.SimpleName ?? this.src(n);
        if (sym?.Kind === SYMBOL_COLUMN) return { kind: 'column', name: sym.Name, type, pos };
        if (sym?.Kind === SYMBOL_PARAMETER) {
          // The innermost call first: a nested function's body may read an enclosing function's parameters.
          const arg = this.params.findLast((values) => values.has(name))?.get(name);
          if (arg) return arg;
        }
        const expanded = this.expandCall(n, (body) => this.scalar(body));
        if (expanded) return expanded;
        if (sym?.Kind === SYMBOL_VARIABLE && !isTableType(n.ResultType)) {
          const id = this.letIdOf(n, name);
          if (id !== undefined) return { kind: 'letRef', id, name, type, pos };
        }
        if (sym?.Kind === SYMBOL_FUNCTION) return { kind: 'call', name: sym.Name, args: [], type, pos, namePos: pos };
        return this.unsupportedExpr(n, isTableType(n.ResultType) ? `tabular value '${name}' in a scalar position` : `name '${name}'`);
      }
      case 'InExpression':
      case 'NotInExpression':
      case 'InCsExpression':
      case 'NotInCsExpression': {
        const opText: string = n.Operator?.Text ?? '';
        const negated = opText.startsWith('!');
        const caseInsensitive = opText.includes('~');
        const exprs = listItems(n.Right?.Expressions);
        if (exprs.length === 1 && isTableType(exprs[0]?.ResultType)) {
          return { kind: 'in', negated, caseInsensitive, operand: this.scalar(n.Left), values: { tabular: this.tabular(exprs[0]) }, type, pos };
        }
        return { kind: 'in', negated, caseInsensitive, operand: this.scalar(n.Left), values: exprs.map((e) => this.scalar(e)), type, pos };
      }
      case 'BetweenExpression':
      case 'NotBetweenExpression':
        return {
          kind: 'between',
          negated: k === 'NotBetweenExpression',
          operand: this.scalar(n.Left),
          low: this.scalar(n.Right?.First),
          high: this.scalar(n.Right?.Second),
          type,
          pos,
        };
      case 'UnaryMinusExpression':
      case 'UnaryPlusExpression':
        return { kind: 'unary', op: k === 'UnaryMinusExpression' ? '-' : '+', operand: this.scalar(n.Expression), type, pos };
      case 'FunctionCallExpression': {
        const expanded = this.expandCall(n, (body) => this.scalar(body));
        if (expanded) return expanded;
        const name: string = n.Name?.SimpleName ?? '?';
        const args = listItems(n.ArgumentList?.Expressions).map((a) => this.scalar(a));
        return { kind: 'call', name, args, type, pos, namePos: this.span(n.Name) };
      }
      case 'StarExpression':
        return { kind: 'star', type, pos };
      case 'PathExpression': {
        const target = this.scalar(n.Expression);
        const sel = n.Selector;
        const key: string | undefined = sel?.SimpleName ?? (sel?.Name?.SimpleName as string | undefined);
        if (target.kind === 'unsupported' || target.type !== 'dynamic' || !key) return this.unsupportedExpr(n, `path '${this.src(n).slice(0, 40)}'`);
        return { kind: 'member', target, key, type, pos };
      }
      case 'ElementExpression': {
        const target = this.scalar(n.Expression);
        const selKind = this.kind(n.Selector);
        const inner = selKind === 'BracketedExpression' ? n.Selector.Expression : null;
        const iv = inner && inner.IsLiteral ? inner.LiteralValue : undefined;
        let key: string | number | undefined;
        if (typeof iv === 'string') key = iv;
        else if (inner && this.kind(inner) === 'LongLiteralExpression') {
          const num = parseNumberLiteral(this.literalToken(inner), 'long');
          if (typeof num === 'number') key = num;
        }
        if (target.type !== 'dynamic' || key === undefined)
          return this.unsupportedExpr(n, `element access '${this.src(n).slice(0, 40)}' (only constant index or key on dynamic values)`);
        return { kind: 'member', target, key, type, pos };
      }
      default:
        return this.unsupportedExpr(n);
    }
  }
}

/** Nesting of user-defined function calls (a function calling another …) we expand. */
const MAX_FUNCTION_DEPTH = 16;

/** The statistics of `series_stats`, in the order of its result columns. */
const SERIES_STATS_FIELDS = ['min', 'min_idx', 'max', 'max_idx', 'avg', 'stdev', 'variance'];

/** How many result columns an unnamed extend/project expression gives (series_stats returns a tuple). */
function tupleWidth(e: KNode): number {
  const cols = e?.ResultType?.Columns;
  return e?.Name?.SimpleName === 'series_stats' && cols ? cols.Count : 1;
}

/** The table a piped `search` reads (for its `$table` column): the source of the pipeline, or ''. */
function rootTable(t: Tabular): string {
  while (t.kind === 'pipe') t = t.input;
  return t.kind === 'table' || t.kind === 'letRef' ? t.name : '';
}

/** Weight of a query once `let` references are expanded; Kusto's analyser (and our inlining) is exponential in it. */
export const MAX_LET_EXPANSION = 2000;

function checkLetExpansion(rt: KustoRuntime, root: KNode): void {
  if (rt.kindName[root?.Kind] !== 'QueryBlock') return;
  const weights = new Map<string, number>();
  const weightOf = (node: KNode): number => {
    let w = 1;
    if (weights.size === 0) return w;
    rt.K.Syntax.SyntaxElement.WalkNodes(node, (n: KNode) => {
      if (rt.kindName[n.Kind] === 'NameReference') w += weights.get(n.SimpleName) ?? 0;
    });
    return w;
  };
  for (const st of listItems(root.Statements)) {
    const kind = rt.kindName[st?.Kind];
    const w = weightOf(kind === 'LetStatement' ? st.Expression : st);
    if (w > MAX_LET_EXPANSION) {
      throw new KqlError('UnsupportedError', `The query is too complex: its let definitions expand to more than ${MAX_LET_EXPANSION} expressions`, {
        innerCode: 'UNS0003',
      });
    }
    if (kind === 'LetStatement' && st.Name?.SimpleName) weights.set(st.Name.SimpleName, w);
  }
}

function firstError(list: KNode): KNode | null {
  if (!list) return null;
  for (let i = 0; i < list.Count; i++) {
    const d = list.getItem(i);
    if (String(d.Severity) === 'Error') return d;
  }
  return null;
}

/**
 * Parse and analyse `text` against the workspace schema and convert it into our AST.
 * Throws KqlError: BadArgumentError (empty/too long/too deep), SyntaxError (KS0xx parse errors),
 * SemanticError (unknown names, type errors: Kusto's KSxxx diagnostics). Unsupported constructs are
 * *not* reported here but left as `unsupported` nodes for `checkSubset`.
 */
export function parseKql(text: string): Query {
  if (typeof text !== 'string' || text.trim() === '') throw new KqlError('BadArgumentError', 'The query is empty');
  if (text.length > MAX_QUERY_LENGTH) throw new KqlError('BadArgumentError', `The query is longer than ${MAX_QUERY_LENGTH} characters`);
  if (nestingDepth(text) > MAX_NESTING_DEPTH) throw new KqlError('BadArgumentError', `The query nests brackets deeper than ${MAX_NESTING_DEPTH} levels`);
  const rt = load();
  let code: KNode;
  try {
    code = rt.K.KustoCode.Parse(text);
  } catch (e) {
    throw new KqlError('SyntaxError', `The query could not be parsed (${e instanceof RangeError ? 'too complex' : 'parser failure'})`, {
      innerCode: 'SYN0002',
    });
  }
  const syn = firstError(code.GetSyntaxDiagnostics());
  if (syn) throw kqlErrorAt('SyntaxError', text, { offset: syn.Start, length: syn.Length }, `${syn.Message}`, syn.Code ?? 'SYN0002');
  checkLetExpansion(rt, code.Syntax);
  try {
    code = code.Analyze(rt.globals);
  } catch (e) {
    throw new KqlError('SemanticError', `The query could not be analysed (${e instanceof RangeError ? 'too complex' : 'analyser failure'})`, {
      innerCode: 'SEM0001',
    });
  }
  const sem = firstError(code.GetDiagnostics());
  if (sem) throw kqlErrorAt('SemanticError', text, { offset: sem.Start, length: sem.Length }, `${sem.Message}`, sem.Code ?? 'SEM0100');
  try {
    return new Adapter(rt, text).query(code.Syntax);
  } catch (e) {
    if (e instanceof KqlError) throw e;
    throw new KqlError(
      'UnsupportedError',
      `The query uses a construct this engine cannot translate (${e instanceof RangeError ? 'too complex' : 'adapter failure'})`,
      {
        innerCode: 'UNS0000',
      },
    );
  }
}
