/**
 * The supported KQL subset (SPEC §2.6) and the checker that refuses everything else with a message
 * naming the operator/function and its position. Runs on our AST after parsing; the compiler may
 * assume a checked AST.
 */
import type { LetStatement, Operator, Query, Scalar, Span, SummarizeItem, Tabular } from './ast.ts';
import { KqlError, kqlErrorAt } from './errors.ts';
import { regexProblem } from './regex.ts';

export const SUPPORTED_OPERATORS = [
  'where',
  'project',
  'project-away',
  'project-rename',
  'extend',
  'summarize',
  'sort',
  'order',
  'top',
  'take',
  'limit',
  'distinct',
  'count',
  'join',
  'union',
  'render',
  'print',
  'range',
  'parse',
  'make-series',
  'getschema',
  'datatable',
  'sample',
  'as',
  'mv-expand',
  'serialize',
  'lookup',
  'search',
  'top-nested',
] as const;

export const SUPPORTED_JOIN_KINDS = [
  'innerunique',
  'inner',
  'leftouter',
  'rightouter',
  'fullouter',
  'leftsemi',
  'leftanti',
  'anti',
  'leftantisemi',
  'rightsemi',
  'rightanti',
  'rightantisemi',
] as const;

export const SCALAR_FUNCTIONS = new Set([
  'ago',
  'now',
  'todatetime',
  'startofday',
  'startofweek',
  'format_datetime',
  'datetime_diff',
  'tostring',
  'toint',
  'tolong',
  'todouble',
  'strlen',
  'strcat',
  'substring',
  'tolower',
  'toupper',
  'trim',
  'split',
  'iff',
  'iif',
  'case',
  'isempty',
  'isnotempty',
  'isnull',
  'isnotnull',
  'coalesce',
  'round',
  'floor',
  'bin',
  'not',
  'bin_at',
  'endofday',
  'endofweek',
  'startofmonth',
  'endofmonth',
  'dayofweek',
  'hourofday',
  'extract',
  'extract_all',
  'replace_string',
  'replace_regex',
  'indexof',
  'countof',
  'array_length',
  'bag_pack',
  'pack',
  'max_of',
  'min_of',
  'todynamic',
  'parse_json',
  'hash',
  'series_stats_dynamic',
  'series_fill_linear',
]);

/** Functions over the serialized row order: only in extend/project/serialize items. */
export const WINDOW_FUNCTIONS = new Set(['row_number', 'prev', 'next']);

export const AGGREGATE_FUNCTIONS = new Set([
  'count',
  'countif',
  'dcount',
  'sum',
  'avg',
  'min',
  'max',
  'percentile',
  'make_set',
  'make_list',
  'dcountif',
  'sumif',
  'avgif',
  'stdev',
  'variance',
  'take_any',
  'make_bag',
]);

export const DATETIME_DIFF_PARTS = new Set(['year', 'quarter', 'month', 'week', 'day', 'hour', 'minute', 'second', 'millisecond', 'microsecond', 'nanosecond']);

/** Literals in one `parse` pattern (the SQL grows with each). */
export const MAX_PARSE_LITERALS = 12;

/** Rows one `range` may generate (more would only stop at the query deadline). */
export const MAX_RANGE_ROWS = 10_000_000;

/** Maximum number of literal values in one query (each is a bound parameter). */
export const MAX_LITERALS = 20_000;

/** Value of a constant expression (literal, scalar let of a constant, ±constant), else undefined. */
export function constValue(e: Scalar, lets: Map<number, LetStatement>, depth = 0): string | number | bigint | boolean | null | undefined {
  if (depth > 50) return undefined;
  switch (e.kind) {
    case 'literal':
      return e.value;
    case 'letRef': {
      const l = lets.get(e.id);
      return l && l.kind === 'scalarLet' ? constValue(l.expr, lets, depth + 1) : undefined;
    }
    case 'unary': {
      const v = constValue(e.operand, lets, depth + 1);
      if (typeof v === 'number') return e.op === '-' ? -v : v;
      if (typeof v === 'bigint') return e.op === '-' ? -v : v;
      return undefined;
    }
    default:
      return undefined;
  }
}

export function constNumber(e: Scalar, lets: Map<number, LetStatement>): number | undefined {
  const v = constValue(e, lets);
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  return undefined;
}

/** format_datetime specifiers we translate: letter → allowed run lengths. */
const FORMAT_LETTERS: Record<string, number[]> = {
  y: [2, 4],
  M: [1, 2],
  d: [1, 2],
  H: [1, 2],
  h: [1, 2],
  m: [1, 2],
  s: [1, 2],
  t: [2],
  f: [1, 2, 3, 4, 5, 6, 7],
  F: [1, 2, 3, 4, 5, 6, 7],
};
const FORMAT_SEPARATORS = ' /-:,._[]';

/** Split a Kusto datetime format string into tokens and separators; null if unsupported. */
export function tokenizeDatetimeFormat(fmt: string): { token?: string; literal?: string }[] | null {
  const out: { token?: string; literal?: string }[] = [];
  for (let i = 0; i < fmt.length;) {
    const c = fmt[i];
    if (FORMAT_LETTERS[c]) {
      let j = i;
      while (j < fmt.length && fmt[j] === c) j++;
      if (!FORMAT_LETTERS[c].includes(j - i)) return null;
      out.push({ token: fmt.slice(i, j) });
      i = j;
    } else if (FORMAT_SEPARATORS.includes(c)) {
      out.push({ literal: c });
      i++;
    } else return null;
  }
  return out;
}

interface Issue {
  pos: Span;
  message: string;
}

class Checker {
  readonly issues: Issue[] = [];
  private literals = 0;

  constructor(private readonly lets: Map<number, LetStatement>) {}

  add(pos: Span, message: string): void {
    this.issues.push({ pos, message });
  }

  tabular(t: Tabular, isBody: boolean): void {
    switch (t.kind) {
      case 'table':
      case 'letRef':
        return;
      case 'unsupported':
        this.add(t.pos, `${t.what} is not supported`);
        return;
      case 'union':
        t.inputs.forEach((i) => this.tabular(i, false));
        return;
      case 'search':
        this.scalar(t.predicate, 'row');
        return;
      case 'print':
        t.items.forEach((i) => this.scalar(i.expr, 'row'));
        return;
      case 'datatable':
        for (const row of t.rows) {
          for (const v of row) {
            this.scalar(v, 'row');
            if (v.kind !== 'unsupported' && constValue(v, this.lets) === undefined) this.add(v.pos, "'datatable' values must be constants");
          }
        }
        return;
      case 'range': {
        [t.from, t.to, t.step].forEach((x) => this.scalar(x, 'row'));
        const step = constNumber(t.step, this.lets);
        if (step === undefined || !(step > 0)) this.add(t.step.pos, "the step of 'range' must be a positive constant");
        const from = constNumber(t.from, this.lets);
        const to = constNumber(t.to, this.lets);
        if (step && from !== undefined && to !== undefined && (to - from) / step > MAX_RANGE_ROWS)
          this.add(t.pos, `'range' is limited to ${MAX_RANGE_ROWS} rows`);
        return;
      }
      case 'pipe': {
        this.tabular(t.input, false);
        const op = t.op;
        switch (op.op) {
          case 'unsupported':
            this.add(
              op.pos,
              op.what.startsWith("operator '")
                ? `${op.what} is not supported (supported operators: ${SUPPORTED_OPERATORS.join(', ')})`
                : `${op.what} is not supported`,
            );
            return;
          case 'where':
            this.scalar(op.predicate, 'row');
            return;
          case 'project':
          case 'extend':
            op.items.forEach((i) => this.scalar(i.expr, 'window'));
            return;
          case 'distinct':
            op.items.forEach((i) => this.scalar(i.expr, 'row'));
            return;
          case 'project-away':
          case 'project-rename':
          case 'count':
            return;
          case 'summarize':
            op.by.forEach((b) => this.scalar(b.expr, 'row'));
            op.items.forEach((i) => this.summarizeItem(i));
            return;
          case 'sort':
            op.keys.forEach((k) => this.scalar(k.expr, 'row'));
            return;
          case 'top':
            this.rowCount(op.count, 'top');
            this.scalar(op.key.expr, 'row');
            return;
          case 'take':
            this.rowCount(op.count, 'take');
            return;
          case 'join':
            if (!(SUPPORTED_JOIN_KINDS as readonly string[]).includes(op.kind)) {
              this.add(op.kindPos, `join kind=${op.kind} is not supported (supported kinds: ${SUPPORTED_JOIN_KINDS.join(', ')}; the default is innerunique)`);
            }
            if (op.on.length === 0) this.add(op.pos, 'join without an on clause is not supported');
            this.tabular(op.right, false);
            return;
          case 'union':
            op.inputs.forEach((i) => this.tabular(i, false));
            return;
          case 'getschema':
          case 'as':
            return;
          case 'mv-expand':
            this.scalar(op.expr, 'row');
            return;
          case 'sample':
            this.rowCount(op.count, 'sample');
            return;
          case 'parse':
            this.parse(op);
            return;
          case 'make-series':
            this.makeSeries(op);
            return;
          case 'search':
            this.scalar(op.predicate, 'row');
            return;
          case 'top-nested':
            for (const l of op.levels) {
              if (l.count) this.rowCount(l.count, 'top-nested');
              this.scalar(l.key.expr, 'row');
              if (!this.containsAggregate(l.agg.expr)) this.add(l.agg.expr.pos, "the 'by' of a top-nested level must be an aggregate function");
              this.scalar(l.agg.expr, 'agg');
              if (l.others) {
                this.scalar(l.others, 'row');
                if (constValue(l.others, this.lets) === undefined || l.others.type !== l.key.expr.type)
                  this.add(l.others.pos, `the others value of a top-nested level must be a constant of the level's type (${l.key.expr.type})`);
              }
            }
            return;
          case 'render':
            if (!isBody) this.add(op.pos, "operator 'render' is only supported as the last operator of the query");
            return;
        }
        return;
      }
    }
  }

  parse(op: Extract<Operator, { op: 'parse' }>): void {
    this.scalar(op.source, 'row');
    const literals = op.parts.filter((p) => 'literal' in p).length;
    if (literals > MAX_PARSE_LITERALS) this.add(op.pos, `'parse' patterns with more than ${MAX_PARSE_LITERALS} literals are not supported`);
    if (op.kind === 'regex') {
      const pattern = op.parts.map((p) => ('literal' in p ? p.literal : '(.*?)')).join('');
      const problem = regexProblem(pattern);
      if (problem) this.add(op.pos, problem);
    }
  }

  makeSeries(op: Extract<Operator, { op: 'make-series' }>): void {
    op.by.forEach((b) => this.scalar(b.expr, 'row'));
    this.scalar(op.axis.expr, 'row');
    const axisType = op.axis.expr.type;
    if (axisType !== 'datetime' && axisType !== 'long' && axisType !== 'int')
      this.add(op.axis.expr.pos, `a make-series axis of type ${axisType} is not supported (datetime, long, int)`);
    [op.from, op.to].forEach((x) => x && this.scalar(x, 'row'));
    const step = constNumber(op.step, this.lets);
    if (step === undefined || !(step > 0) || !Number.isInteger(step)) this.add(op.step.pos, "the step of 'make-series' must be a positive constant");
    for (const it of op.items) {
      if (!this.containsAggregate(it.expr)) this.add(it.pos, 'a make-series item must be an aggregate function');
      this.scalar(it.expr, 'agg');
      if (it.default && constValue(it.default, this.lets) === undefined) this.add(it.default.pos, 'the default of a make-series item must be a constant');
    }
  }

  rowCount(e: Scalar, opName: string): void {
    const n = constNumber(e, this.lets);
    if (n === undefined || !Number.isInteger(n) || n < 0) this.add(e.pos, `the row count of operator '${opName}' must be a non-negative integer constant`);
    else this.scalar(e, 'row');
  }

  summarizeItem(i: SummarizeItem): void {
    if (i.kind === 'agg') {
      if (!this.containsAggregate(i.expr)) this.add(i.pos, 'a summarize item must contain an aggregate function');
      this.scalar(i.expr, 'agg');
      return;
    }
    this.scalar(i.by.expr, 'row');
    i.outputs.forEach((o) => this.scalar(o.expr, 'row'));
  }

  containsAggregate(e: Scalar): boolean {
    switch (e.kind) {
      case 'call':
        return AGGREGATE_FUNCTIONS.has(e.name) || e.name === 'arg_max' || e.name === 'arg_min' || e.args.some((a) => this.containsAggregate(a));
      case 'binary':
        return this.containsAggregate(e.left) || this.containsAggregate(e.right);
      case 'unary':
        return this.containsAggregate(e.operand);
      case 'in':
        return this.containsAggregate(e.operand) || (Array.isArray(e.values) && e.values.some((v) => this.containsAggregate(v)));
      case 'between':
        return [e.operand, e.low, e.high].some((x) => this.containsAggregate(x));
      case 'member':
        return this.containsAggregate(e.target);
      default:
        return false;
    }
  }

  windowCall(e: Extract<Scalar, { kind: 'call' }>, ctx: 'row' | 'window' | 'agg'): void {
    if (ctx !== 'window') {
      this.add(e.namePos, `function '${e.name}' is only supported in 'extend', 'project' or 'serialize'`);
      return;
    }
    if (e.name === 'row_number') {
      if (e.args.length) this.add(e.args[0].pos, "the arguments of 'row_number' are not supported");
      return;
    }
    const [value, offset, dflt] = e.args;
    if (value) this.scalar(value, 'row');
    if (offset) {
      const n = constNumber(offset, this.lets);
      if (n === undefined || !Number.isInteger(n) || n < 0) this.add(offset.pos, `the offset of '${e.name}' must be a constant non-negative integer`);
    }
    if (dflt) this.scalar(dflt, 'row');
  }

  constString(e: Scalar, what: string): string | undefined {
    const v = constValue(e, this.lets);
    if (typeof v !== 'string') {
      this.add(e.pos, `${what} must be a constant string`);
      return undefined;
    }
    return v;
  }

  /**
   * ctx: 'row' = per-row expression; 'window' = per-row expression where row_number/prev/next may
   * appear (extend, project, serialize); 'agg' = inside a summarize item, outside any aggregate.
   */
  scalar(e: Scalar, ctx: 'row' | 'window' | 'agg'): void {
    if (e.type === 'unsupported' && e.kind !== 'unsupported' && e.kind !== 'star') {
      this.add(e.pos, `values of this type are not supported ('${e.kind === 'call' ? e.name : e.kind}' expression)`);
      return;
    }
    switch (e.kind) {
      case 'literal':
        if (++this.literals === MAX_LITERALS + 1) this.add(e.pos, `more than ${MAX_LITERALS} literal values are not supported`);
        return;
      case 'column':
      case 'letRef':
        return;
      case 'searchTerm':
        if (e.match === 'regex') checkRegex(searchTermRegex(e), e.pos, this);
        return;
      case 'unsupported':
        this.add(e.pos, `${e.what} is not supported`);
        return;
      case 'star':
        this.add(e.pos, "'*' is only supported as the second argument of arg_max/arg_min");
        return;
      case 'unary':
        this.scalar(e.operand, ctx);
        return;
      case 'member':
        this.scalar(e.target, ctx);
        return;
      case 'binary':
        this.scalar(e.left, ctx);
        this.scalar(e.right, ctx);
        if (/has/.test(e.op)) this.constString(e.right, `the right side of '${e.op}'`);
        if (e.op === 'matches regex') {
          const re = this.constString(e.right, "the pattern of 'matches regex'");
          if (re !== undefined) checkRegex(re, e.right.pos, this);
        }
        return;
      case 'in':
        this.scalar(e.operand, ctx);
        if (Array.isArray(e.values)) e.values.forEach((v) => this.scalar(v, ctx));
        else this.tabular(e.values.tabular, false);
        return;
      case 'between':
        [e.operand, e.low, e.high].forEach((x) => this.scalar(x, ctx));
        return;
      case 'call':
        this.call(e, ctx);
        return;
    }
  }

  call(e: Extract<Scalar, { kind: 'call' }>, ctx: 'row' | 'window' | 'agg'): void {
    const name = e.name;
    const argc = e.args.length;
    if (WINDOW_FUNCTIONS.has(name)) {
      this.windowCall(e, ctx);
      return;
    }
    if (AGGREGATE_FUNCTIONS.has(name) || name === 'arg_max' || name === 'arg_min') {
      if (ctx !== 'agg') {
        this.add(e.namePos, `aggregate function '${name}' is only supported directly inside 'summarize'`);
        return;
      }
      if (name === 'arg_max' || name === 'arg_min') {
        this.add(e.namePos, `'${name}' is only supported as a top-level summarize aggregate`);
        return;
      }
      if (name === 'count' && argc > 0) this.add(e.namePos, 'count(expr) is not supported; use count() or countif(predicate)');
      if ((name === 'make_set' || name === 'make_list' || name === 'make_bag') && argc > 1)
        this.add(e.args[1].pos, `the maxSize argument of '${name}' is not supported`);
      if (name === 'percentile') {
        const p = argc > 1 ? constNumber(e.args[1], this.lets) : undefined;
        if (p === undefined || p < 0 || p > 100)
          this.add(argc > 1 ? e.args[1].pos : e.pos, "the percentile of 'percentile' must be a constant between 0 and 100");
      }
      e.args.forEach((a) => this.scalar(a, 'row'));
      return;
    }
    if (!SCALAR_FUNCTIONS.has(name)) {
      this.add(e.namePos, `function '${name}' is not supported`);
      return;
    }
    e.args.forEach((a) => this.scalar(a, ctx));
    switch (name) {
      case 'bin':
      case 'floor': {
        const step = argc === 2 ? constNumber(e.args[1], this.lets) : undefined;
        if (argc !== 2) this.add(e.namePos, `'${name}' needs two arguments (value, bin size)`);
        else if (step === undefined || !(step > 0)) this.add(e.args[1].pos, `the bin size of '${name}' must be a positive constant`);
        return;
      }
      case 'datetime_diff': {
        const part = argc === 3 ? this.constString(e.args[0], "the first argument of 'datetime_diff'") : undefined;
        if (part !== undefined && !DATETIME_DIFF_PARTS.has(part.toLowerCase())) this.add(e.args[0].pos, `datetime_diff part '${part}' is not supported`);
        return;
      }
      case 'format_datetime': {
        const fmt = argc === 2 ? this.constString(e.args[1], "the format of 'format_datetime'") : undefined;
        if (fmt !== undefined && !tokenizeDatetimeFormat(fmt)) this.add(e.args[1].pos, `format_datetime format '${fmt.slice(0, 40)}' is not supported`);
        return;
      }
      case 'trim': {
        const re = argc === 2 ? this.constString(e.args[0], "the pattern of 'trim'") : undefined;
        if (re !== undefined) checkRegex(re, e.args[0].pos, this);
        return;
      }
      case 'extract':
      case 'extract_all': {
        if (name === 'extract' && argc !== 3)
          this.add(e.namePos, "'extract' with a type argument is not supported (use toint(), todatetime(), … on the result)");
        if (name === 'extract_all' && argc !== 2) this.add(e.namePos, "'extract_all' with a group list is not supported");
        const re = this.constString(e.args[0], `the pattern of '${name}'`);
        if (re !== undefined) checkRegex(re, e.args[0].pos, this, true);
        if (name === 'extract' && argc === 3) {
          const g = constNumber(e.args[1], this.lets);
          if (g === undefined || !Number.isInteger(g) || g < 0) this.add(e.args[1].pos, "the group of 'extract' must be a non-negative integer constant");
        }
        return;
      }
      case 'replace_regex': {
        const re = this.constString(e.args[1], "the pattern of 'replace_regex'");
        if (re !== undefined) checkRegex(re, e.args[1].pos, this, true);
        this.constString(e.args[2], "the rewrite of 'replace_regex'");
        return;
      }
      case 'countof': {
        const kind = argc > 2 ? this.constString(e.args[2], "the kind of 'countof'") : 'normal';
        if (kind !== undefined && kind !== 'normal' && kind !== 'regex') this.add(e.args[2].pos, 'the kind of \'countof\' must be "normal" or "regex"');
        const search = this.constString(e.args[1], "the search text of 'countof'");
        if (kind === 'regex' && search !== undefined) checkRegex(search, e.args[1].pos, this, true);
        return;
      }
      case 'indexof':
        if (argc > 2) this.add(e.args[2].pos, "the start, length and occurrence arguments of 'indexof' are not supported");
        return;
      case 'bin_at': {
        const step = constNumber(e.args[1], this.lets);
        if (step === undefined || !(step > 0)) this.add(e.args[1].pos, "the bin size of 'bin_at' must be a positive constant");
        return;
      }
      case 'bag_pack':
      case 'pack':
        for (let i = 0; i < argc; i += 2) if (e.args[i].type !== 'string') this.add(e.args[i].pos, `the keys of '${name}' must be strings`);
        if (argc % 2 !== 0) this.add(e.namePos, `'${name}' needs key/value pairs`);
        return;
      case 'todynamic':
      case 'parse_json':
        if (e.args[0]?.type !== 'string' && e.args[0]?.type !== 'dynamic') this.add(e.namePos, `${name}() of a ${e.args[0]?.type} is not supported`);
        return;
      case 'round':
        if (argc === 2) {
          const d = constNumber(e.args[1], this.lets);
          if (d === undefined || !Number.isInteger(d) || d < -15 || d > 15)
            this.add(e.args[1].pos, "the precision of 'round' must be an integer constant between -15 and 15");
        }
        return;
      case 'split':
        if (argc === 3) {
          const i = constNumber(e.args[2], this.lets);
          if (i === undefined || !Number.isInteger(i) || i < 0) this.add(e.args[2].pos, "the index of 'split' must be a non-negative integer constant");
        }
        return;
      case 'toint':
      case 'tolong':
      case 'todouble': {
        const t = e.args[0]?.type;
        if (t === 'datetime' || t === 'timespan') {
          this.add(e.namePos, `${name}() of a ${t} is not supported (use datetime_diff() or divide by a timespan, e.g. x / 1h)`);
        }
        return;
      }
      case 'todatetime': {
        const t = e.args[0]?.type;
        if (t !== 'string' && t !== 'datetime' && t !== 'dynamic') this.add(e.namePos, `todatetime() of a ${t} is not supported`);
        return;
      }
      case 'hash': {
        // Kusto documents the hashes of strings (UTF-8 bytes) and datetimes (ticks); other types would be guesses.
        const t = e.args[0]?.type;
        if (t !== 'string' && t !== 'datetime') this.add(e.namePos, `hash() of a ${t} is not supported (string and datetime values)`);
        return;
      }
      case 'series_fill_linear': {
        const [, missing, edges, constant] = e.args;
        if (missing && !isNumberOrNull(constValue(missing, this.lets)))
          this.add(missing.pos, "the missing value placeholder of 'series_fill_linear' must be a constant number");
        if (edges && typeof constValue(edges, this.lets) !== 'boolean')
          this.add(edges.pos, "the fill_edges argument of 'series_fill_linear' must be true or false");
        if (constant && !isNumberOrNull(constValue(constant, this.lets)))
          this.add(constant.pos, "the constant of 'series_fill_linear' must be a constant number");
        return;
      }
    }
  }
}

const isNumberOrNull = (v: unknown): boolean => v === null || typeof v === 'number' || typeof v === 'bigint';

/** The RE2 pattern of a `search` term with an inner asterisk ("Lab*PC" → \bLab\w*PC\b, as the reference gives it). */
export function searchTermRegex(t: { term: string; caseSensitive: boolean }): string {
  const body = t.term
    .split('*')
    .map((part) => part.replace(/[\\^$.|?*+()[\]{}]/g, '\\$&'))
    .join('\\w*');
  return `${t.caseSensitive ? '' : '(?i)'}\\b${body}\\b`;
}

function checkRegex(re: string, pos: Span, c: Checker, forCaptures = false): void {
  const problem = regexProblem(re, forCaptures);
  if (problem) c.add(pos, problem);
}

/**
 * Refuse anything outside the supported subset: throws KqlError('UnsupportedError') for the first
 * offending element (by position), naming it and giving its line/column.
 */
export function checkSubset(q: Query): void {
  const lets = new Map<number, LetStatement>();
  for (const l of q.lets) if (l.kind === 'scalarLet' || l.kind === 'tabularLet') lets.set(l.id, l);
  const c = new Checker(lets);
  const verb = (what: string) => (/(statements|commands|directives)'?$/.test(what) ? 'are' : 'is');
  for (const s of q.unsupportedStatements) c.add(s.pos, `${s.what} ${verb(s.what)} not supported`);
  for (const l of q.lets) {
    if (l.kind === 'unsupportedLet') c.add(l.pos, `${l.what} ${verb(l.what)} not supported (let '${l.name}')`);
    else if (l.kind === 'scalarLet') c.scalar(l.expr, 'row');
    else if (l.kind === 'tabularLet') c.tabular(l.expr, false);
  }
  c.tabular(q.body, true);
  if (c.issues.length) {
    const first = c.issues.reduce((a, b) => (b.pos.offset < a.pos.offset ? b : a));
    throw kqlErrorAt('UnsupportedError', q.text, first.pos, first.message, 'UNS0001');
  }
}

export { KqlError };
