/**
 * KQL AST → one SQL SELECT (+ bound parameters) for SQLite or PostgreSQL.
 *
 * Model: a query is compiled into nested "levels". A level is one SELECT (FROM, WHERE, GROUP BY,
 * HAVING, ORDER BY, LIMIT) whose output columns are SQL expressions over its FROM scope. Operators
 * fold into the current level while SQL semantics allow (where → WHERE/HAVING, extend/project →
 * select list, sort → ORDER BY, take → LIMIT, summarize → GROUP BY); otherwise the level is wrapped
 * as a subquery and a new level starts. Row order established by `sort` survives wrapping through
 * hidden order columns, as Kusto keeps order through where/project/extend/take.
 *
 * Safety: every literal becomes a bound parameter; identifiers in the SQL are either the declared
 * physical column/table names (from tables.ts, after Kusto resolved them against the schema) or
 * aliases we generate (only [A-Za-z0-9_]), always quoted. The result is always a single SELECT.
 */
import type {
  Column,
  KType,
  LetStatement,
  NamedExpr,
  Operator,
  OrderKey,
  ParsePart,
  Query,
  Scalar,
  SearchTerm,
  SummarizeItem,
  Tabular,
  TopNestedLevel,
  Span,
} from './ast.ts';
import { dialectFor, DAY_MS, EPOCH_OFFSET_MS, WEEK_MS, type Dialect, type DialectName } from './dialect.ts';
import { KqlError, kqlErrorAt } from './errors.ts';
import { constNumber, constValue, searchTermRegex, tokenizeDatetimeFormat, WINDOW_FUNCTIONS } from './subset.ts';
import { parseDatetimeLiteral } from './literals.ts';
import { isWorkspaceTableName, quoteIdent, workspaceTables } from '../tables.ts';

export interface CompileOptions {
  dialect: DialectName;
  /** Workspace whose rows the query may see (bound parameter on every source table). */
  workspace: string;
  /** The query's `now()` (fixed for the whole query). */
  now: Date | number;
  /** Restrict TimeGenerated of every source table to [start, end] (epoch ms, inclusive). */
  timeRange?: { start?: number; end?: number };
  /** When set, the outer SELECT gets LIMIT rowCap+1 so the caller can detect truncation. */
  rowCap?: number;
}

export interface CompiledQuery {
  sql: string;
  params: unknown[];
  columns: Column[];
  render?: { visualization: string; properties: Record<string, string> };
  rowCap?: number;
}

const JOIN_KEYWORDS: Record<string, string> = {
  inner: 'INNER JOIN',
  innerunique: 'INNER JOIN',
  leftouter: 'LEFT JOIN',
  rightouter: 'RIGHT JOIN',
  fullouter: 'FULL JOIN',
};

const SEMI_JOINS: Record<string, { side: 'left' | 'right'; anti: boolean }> = {
  leftsemi: { side: 'left', anti: false },
  leftanti: { side: 'left', anti: true },
  anti: { side: 'left', anti: true },
  leftantisemi: { side: 'left', anti: true },
  rightantisemi: { side: 'right', anti: true },
  rightsemi: { side: 'right', anti: false },
  rightanti: { side: 'right', anti: true },
};

/** Bins one make-series may produce per group. */
const MAX_SERIES_BINS = 100_000;

/** getschema's DataType column: the .NET type Kusto reports for each column type. */
const CLR_TYPES: Partial<Record<KType, string>> = {
  string: 'System.String',
  long: 'System.Int64',
  int: 'System.Int32',
  real: 'System.Double',
  bool: 'System.SByte',
  datetime: 'System.DateTime',
  timespan: 'System.TimeSpan',
  dynamic: 'System.Object',
};

/** Compiled SQL longer than this is refused (guards against exponential let/extend inlining). */
export const MAX_SQL_LENGTH = 2_000_000;
/** SQLite binds at most 32766 parameters (PostgreSQL 65535). */
const MAX_PARAMS = 30_000;
/** Column expressions longer than this are materialised by wrapping before being referenced. */
const INLINE_LIMIT = 4000;
const MAX_LEVEL_DEPTH = 400;
/** Work limits: lets are inlined, so `let b = a | union a; let c = b | union b; …` grows exponentially. */
const MAX_TABULAR_COMPILES = 2000;
const MAX_SCALAR_COMPILES = 200_000;

interface LCol {
  name: string;
  type: KType;
  sql: string;
  /** Must stay in the select list although no operator reads it (the max() of a bare-column group). */
  pinned?: boolean;
}

interface Order {
  sql: string;
  dir: 'asc' | 'desc';
  nulls: 'first' | 'last';
  string: boolean;
}

interface Level {
  from: string;
  where: string[];
  cols: LCol[];
  /** Present when the level aggregates; empty array = aggregate without GROUP BY. */
  groupBy?: string[];
  having: string[];
  orderBy: Order[];
  limit?: number;
  /** SQLite "bare column" aggregate (arg_max via max()): must be wrapped before anything else. */
  bare?: boolean;
}

/** A column a `stage` adds: name, type, SQL over the level's columns. */
type StageCol = [string, KType, string];

/** Internal column names of `parse` (no KQL column can be named so: they start with a control character). */
const PARSE_SOURCE = '\u0001src';
const PARSE_AT = '\u0001at';
const PARSE_REST = '\u0001rest';
const PARSE_PIECE = '\u0001piece';
const PARSE_TEXT = '\u0001text';
const PARSE_VALUE = '\u0001value';
const PARSE_FOUND = '\u0001found';

interface Param {
  value: unknown;
  type: KType;
}

type Scope = Map<string, LCol>;

const q = quoteIdent;

class Compiler {
  readonly d: Dialect;
  readonly params: Param[] = [];
  private aliasCounter = 0;
  private readonly lets = new Map<number, LetStatement>();
  private readonly now: number;
  private nowParam?: string;
  private depth = 0;
  private tabularCompiles = 0;
  private scalarCompiles = 0;
  /** Output columns each node must produce (what the operators after it read). */
  private readonly required = new Map<Tabular, Set<string>>();

  constructor(
    private readonly query: Query,
    private readonly opts: CompileOptions,
  ) {
    this.d = dialectFor(opts.dialect);
    this.now = typeof opts.now === 'number' ? opts.now : opts.now.getTime();
    for (const l of query.lets) if (l.kind === 'scalarLet' || l.kind === 'tabularLet') this.lets.set(l.id, l);
    let body = query.body;
    if (body.kind === 'pipe' && body.op.op === 'render') body = body.input;
    analyzeNeeds(body, new Set(body.columns.map((c) => c.name)), this.required);
  }

  // ------------------------------------------------------------------ helpers

  err(pos: Span | undefined, message: string): KqlError {
    return kqlErrorAt('UnsupportedError', this.query.text, pos, message, 'UNS0002');
  }

  /** The OVER clause body for row_number/prev/next in the items being compiled. */
  private windowOver = '';

  p = (value: unknown, type: KType): string => {
    this.params.push({ value, type });
    return `\u0001${this.params.length - 1}\u0002`;
  };

  nowSql(): string {
    if (!this.nowParam) this.nowParam = this.p(this.now, 'datetime');
    return this.nowParam;
  }

  alias(prefix: string): string {
    return `${prefix}${++this.aliasCounter}`;
  }

  /** Distinct SQL-safe aliases for a list of column names (case-insensitively unique). */
  aliases(names: string[]): string[] {
    const used = new Set<string>();
    return names.map((n, i) => {
      let a = /^[A-Za-z][A-Za-z0-9_]{0,50}$/.test(n) ? n : `_c${i}`;
      while (used.has(a.toLowerCase())) a = `_c${i}_${used.size}`;
      used.add(a.toLowerCase());
      return a;
    });
  }

  scope(level: Level): Scope {
    return new Map(level.cols.map((c) => [c.name, c]));
  }

  selectSql(level: Level, items: string[], withOrder = true): string {
    // GROUP BY / ORDER BY refer to a select item by ordinal when it is the same expression, so the
    // engine computes it once per row (SQLite cannot match expressions with distinct `?` parameters).
    const exprs = items.map((it) => it.slice(0, it.lastIndexOf(' AS "')));
    const ordinal = (sql: string) => {
      const i = exprs.indexOf(sql);
      return i >= 0 ? String(i + 1) : sql;
    };
    let sql = `SELECT ${items.length ? items.join(', ') : '1 AS "_empty"'} FROM ${level.from}`;
    if (level.where.length) sql += ` WHERE ${level.where.join(' AND ')}`;
    if (level.groupBy && level.groupBy.length) sql += ` GROUP BY ${level.groupBy.map(ordinal).join(', ')}`;
    if (level.having.length) sql += ` HAVING ${level.having.join(' AND ')}`;
    if (withOrder && level.orderBy.length) {
      const keys = level.orderBy.map((o) => {
        const collated = o.string && this.d.binaryCollate('x') !== 'x';
        const k = collated ? this.d.binaryCollate(o.sql) : ordinal(o.sql);
        return `${k} ${o.dir.toUpperCase()} NULLS ${o.nulls.toUpperCase()}`;
      });
      sql += ` ORDER BY ${keys.join(', ')}`;
    }
    if (level.limit !== undefined) sql += ` LIMIT ${this.p(level.limit, 'long')}`;
    return sql;
  }

  /** Level → subquery; the new level selects from it. Keeps row order when asked. */
  wrap(level: Level, keepOrder: boolean, fence = false): Level {
    const sub = this.subquery(level, keepOrder, fence);
    return { from: `(${sub.sql}) AS ${q(sub.alias)}`, where: [], having: [], cols: sub.cols, orderBy: sub.orderBy };
  }

  /** A level as one SELECT under a new alias, and its columns (and order keys) as read through that alias. */
  subquery(level: Level, keepOrder: boolean, fence = false): { alias: string; sql: string; cols: LCol[]; orderBy: Order[] } {
    const a = this.alias('q');
    const names = this.aliases(level.cols.map((c) => c.name));
    const items = level.cols.map((c, i) => `${c.sql} AS ${q(names[i])}`);
    const order = keepOrder ? level.orderBy : [];
    order.forEach((o, j) => items.push(`${o.sql} AS ${q(`_o${j}`)}`));
    // A fence keeps the engine from inlining the subquery's expressions into the outer query.
    const sql = this.selectSql(level, items, level.limit !== undefined) + (fence && level.limit === undefined ? ` ${this.d.noInline}` : '');
    if (++this.depth > MAX_LEVEL_DEPTH)
      throw new KqlError('UnsupportedError', 'The query is too complex (too many nested operators)', { innerCode: 'UNS0003' });
    return {
      alias: a,
      sql,
      cols: level.cols.filter((c) => !c.pinned).map((c) => ({ name: c.name, type: c.type, sql: `${q(a)}.${q(names[level.cols.indexOf(c)])}` })),
      orderBy: order.map((o, j) => ({ ...o, sql: `${q(a)}.${q(`_o${j}`)}` })),
    };
  }

  heavy(level: Level): boolean {
    return level.cols.some((c) => c.sql.length > INLINE_LIMIT);
  }

  // ------------------------------------------------------------------ tabular

  compile(): CompiledQuery {
    let body = this.query.body;
    let render: CompiledQuery['render'];
    if (body.kind === 'pipe' && body.op.op === 'render') {
      render = { visualization: body.op.visualization, properties: body.op.properties };
      body = body.input;
    }
    let level = this.tabular(body);
    if (this.opts.rowCap !== undefined) {
      const cap = this.opts.rowCap + 1;
      if (level.limit === undefined || level.limit > cap) level = { ...level, limit: cap };
    }
    // Pinned helper columns go last and are not part of the result.
    const visible = level.cols.filter((c) => !c.pinned);
    const ordered = [...visible, ...level.cols.filter((c) => c.pinned)];
    const names = this.aliases(ordered.map((c) => c.name));
    const sql = this.selectSql(
      level,
      ordered.map((c, i) => `${c.sql} AS ${q(names[i])}`),
    );
    if (sql.length > MAX_SQL_LENGTH)
      throw new KqlError('UnsupportedError', 'The query is too complex (the translated SQL is too large)', { innerCode: 'UNS0003' });
    const { text, params } = this.finalize(sql);
    if (params.length > MAX_PARAMS)
      throw new KqlError('UnsupportedError', `The query is too complex (more than ${MAX_PARAMS} bound values)`, { innerCode: 'UNS0003' });
    return { sql: text, params, columns: visible.map((c) => ({ name: c.name, type: c.type })), render, rowCap: this.opts.rowCap };
  }

  finalize(sql: string): { text: string; params: unknown[] } {
    const out: unknown[] = [];
    const pgIndex = new Map<number, number>();
    const text = sql.replace(/\u0001(\d+)\u0002/g, (_m, id: string) => {
      const prm = this.params[Number(id)];
      if (this.d.numberedParams) {
        let k = pgIndex.get(Number(id));
        if (k === undefined) {
          out.push(this.d.bindValue(prm.value, prm.type));
          k = out.length;
          pgIndex.set(Number(id), k);
        }
        return this.d.placeholder(k, prm.type);
      }
      out.push(this.d.bindValue(prm.value, prm.type));
      return this.d.placeholder(out.length, prm.type);
    });
    return { text, params: out };
  }

  tabular(t: Tabular, depth = 0): Level {
    if (++this.tabularCompiles > MAX_TABULAR_COMPILES)
      throw new KqlError('UnsupportedError', 'The query is too complex (too many table expressions after expanding lets)', { innerCode: 'UNS0003' });
    if (depth > MAX_LEVEL_DEPTH) throw new KqlError('UnsupportedError', 'The query is too complex (too many nested operators)', { innerCode: 'UNS0003' });
    const req = this.required.get(t) ?? new Set(t.columns.map((c) => c.name));
    const keep = (level: Level): Level => {
      const cols = level.cols.filter((c) => c.pinned || req.has(c.name));
      // An aggregate without GROUP BY must keep an aggregate in its select list to stay one row.
      if (!cols.length && level.groupBy && !level.groupBy.length) cols.push({ name: '_agg', type: 'long', sql: 'count(*)', pinned: true });
      return { ...level, cols };
    };
    switch (t.kind) {
      case 'table':
        return keep(this.source(t.name, t.pos));
      case 'letRef': {
        const l = this.lets.get(t.id);
        if (!l || l.kind !== 'tabularLet') throw this.err(t.pos, `unknown tabular let '${t.name}'`);
        return keep(this.tabular(l.expr, depth + 1));
      }
      case 'union':
        return keep(this.union(t.inputs, t.columns, depth));
      case 'print':
        return keep(this.print(t.items));
      case 'datatable':
        return keep(this.datatable(t));
      case 'range':
        return keep(this.range(t));
      case 'search': {
        // Each table filtered on its own (its indexes stay usable), then the union with `$table`.
        const levels = t.tables.map((name) => this.withTable(this.searchWhere(this.source(name, t.pos), t.predicate), name));
        return keep(this.union(levels, t.columns, depth));
      }
      case 'unsupported':
        throw this.err(t.pos, `${t.what} is not supported`);
      case 'pipe': {
        const input = this.tabular(t.input, depth + 1);
        return keep(this.operator(input, t.op, t.columns, depth, req));
      }
    }
  }

  source(name: string, pos: Span): Level {
    if (!isWorkspaceTableName(name)) throw this.err(pos, `table '${name}' is not a workspace table`);
    const schema = workspaceTables[name];
    const a = q(this.alias('t'));
    const where = [`${a}.workspace = ${this.p(this.opts.workspace, 'string')}`];
    const tr = this.opts.timeRange;
    if (tr?.start !== undefined) where.push(`${a}.${q('TimeGenerated')} >= ${this.p(tr.start, 'datetime')}`);
    if (tr?.end !== undefined) where.push(`${a}.${q('TimeGenerated')} <= ${this.p(tr.end, 'datetime')}`);
    return {
      from: `${q(schema.sqlName)} AS ${a}`,
      where,
      having: [],
      cols: schema.columns.map((c) => ({ name: c.name, type: c.type, sql: `${a}.${q(c.name)}` })),
      orderBy: [],
    };
  }

  /** A level of exactly one row without columns, to select constant expressions from. */
  oneRow(): Level {
    return { from: `(SELECT 1 AS ${q('_one')}) AS ${q(this.alias('o'))}`, where: [], having: [], cols: [], orderBy: [] };
  }

  print(items: NamedExpr[]): Level {
    const level = this.oneRow();
    const scope = this.scope(level);
    return { ...level, cols: items.map((i) => ({ name: i.name, type: i.expr.type, sql: this.expr(i.expr, scope) })) };
  }

  datatable(t: Extract<Tabular, { kind: 'datatable' }>): Level {
    const a = q(this.alias('d'));
    const names = this.aliases(t.columns.map((c) => c.name));
    const rows = t.rows.map(
      (row) => `SELECT ${row.map((v, i) => `${this.p(constValue(v, this.lets) ?? null, t.columns[i].type)} AS ${q(names[i])}`).join(', ')}`,
    );
    if (!rows.length) rows.push(`SELECT ${t.columns.map((c, i) => `${this.d.typedNull(c.type)} AS ${q(names[i])}`).join(', ')} WHERE 1 = 0`);
    return {
      from: `(${rows.join(' UNION ALL ')}) AS ${a}`,
      where: [],
      having: [],
      cols: t.columns.map((c, i) => ({ name: c.name, type: c.type, sql: `${a}.${q(names[i])}` })),
      orderBy: [],
    };
  }

  range(t: Extract<Tabular, { kind: 'range' }>): Level {
    const scope = this.scope(this.oneRow());
    const type = t.columns[0].type;
    const from = this.expr(t.from, scope);
    const to = this.expr(t.to, scope);
    const step = this.expr(t.step, scope);
    const r = q(this.alias('r'));
    const guard = this.d.counterGuard(q('n'));
    const next = `${r}.${q('x')} + ${step}`;
    const cte =
      `WITH RECURSIVE ${r}(${q('x')}, ${q('n')}) AS (SELECT ${from}, 1 WHERE ${from} <= ${to}` +
      ` UNION ALL SELECT ${next}, ${r}.${q('n')} + 1 FROM ${r} WHERE ${next} <= ${to}${guard ? ` AND ${guard.replaceAll(q('n'), `${r}.${q('n')}`)}` : ''})` +
      ` SELECT ${q('x')} FROM ${r}`;
    const a = q(this.alias('g'));
    return { from: `(${cte}) AS ${a}`, where: [], having: [], cols: [{ name: t.name, type, sql: `${a}.${q('x')}` }], orderBy: [] };
  }

  /** Build cols in the analyser's output order from a name → column map (only the required ones). */
  pick(out: Column[], byName: Map<string, LCol>, pos: Span, req: Set<string>): LCol[] {
    return out
      .filter((c) => req.has(c.name))
      .map((c) => {
        const col = byName.get(c.name);
        if (!col) throw this.err(pos, `internal: column '${c.name}' could not be resolved`);
        return { name: c.name, type: c.type, sql: col.sql };
      });
  }

  operator(level: Level, op: Operator, out: Column[], depth: number, req: Set<string>): Level {
    switch (op.op) {
      case 'where': {
        // (An aggregate without GROUP BY cannot take a HAVING in SQLite: wrap it instead.)
        if (level.limit !== undefined || level.bare || this.heavy(level) || (level.groupBy && !level.groupBy.length)) level = this.wrap(level, true);
        const pred = this.expr(op.predicate, this.scope(level));
        return level.groupBy ? { ...level, having: [...level.having, pred] } : { ...level, where: [...level.where, pred] };
      }
      case 'extend': {
        level = this.beforeRowExprs(level, op.items);
        const scope = this.scope(level);
        for (const item of op.items) {
          if (!req.has(item.name)) continue;
          scope.set(item.name, { name: item.name, type: item.expr.type, sql: this.expr(item.expr, scope) });
        }
        return this.afterRowExprs({ ...level, cols: this.pick(out, scope, op.pos, req) }, op.items);
      }
      case 'project': {
        level = this.beforeRowExprs(level, op.items);
        const scope = this.scope(level);
        const cols = op.items.filter((i) => req.has(i.name)).map((i) => ({ name: i.name, type: i.expr.type, sql: this.expr(i.expr, scope) }));
        return this.afterRowExprs({ ...level, cols: this.pick(out, new Map(cols.map((c) => [c.name, c])), op.pos, req) }, op.items);
      }
      case 'project-away':
        if (level.bare) level = this.wrap(level, true);
        return { ...level, cols: this.pick(out, this.scope(level), op.pos, req) };
      case 'project-rename': {
        if (level.bare) level = this.wrap(level, true);
        const scope = this.scope(level);
        const byName = new Map(scope);
        for (const r of op.renames) byName.delete(r.from);
        for (const r of op.renames) {
          const src = scope.get(r.from);
          if (src) byName.set(r.to, src);
        }
        return { ...level, cols: this.pick(out, byName, op.pos, req) };
      }
      case 'summarize':
        return this.summarize(level, op.by, op.items, out, op.pos, req);
      case 'distinct':
        return this.summarize(level, op.items, [], out, op.pos, req);
      case 'count':
        return this.summarize(
          level,
          [],
          [{ kind: 'agg', name: 'Count', expr: { kind: 'call', name: 'count', args: [], type: 'long', pos: op.pos, namePos: op.pos }, pos: op.pos }],
          out,
          op.pos,
          req,
        );
      case 'sort': {
        if (level.limit !== undefined || level.bare) level = this.wrap(level, false);
        const scope = this.scope(level);
        return { ...level, orderBy: op.keys.map((k) => this.order(k, scope)) };
      }
      case 'top': {
        if (level.limit !== undefined || level.bare) level = this.wrap(level, false);
        const n = constNumber(op.count, this.lets) ?? 0;
        return { ...level, orderBy: [this.order(op.key, this.scope(level))], limit: n };
      }
      case 'take': {
        if (level.bare) level = this.wrap(level, true);
        const n = constNumber(op.count, this.lets) ?? 0;
        return { ...level, limit: level.limit === undefined ? n : Math.min(level.limit, n) };
      }
      case 'join':
        return this.join(level, op, out, depth);
      case 'union':
        return this.union([level, ...op.inputs], out, depth);
      case 'make-series':
        return this.makeSeries(level, op, out, req);
      case 'search': {
        if (level.limit !== undefined || level.bare || this.heavy(level) || level.groupBy) level = this.wrap(level, true);
        return this.withTable(this.searchWhere(level, op.predicate), op.table);
      }
      case 'top-nested':
        return this.topNested(level, op.levels, out, op.pos, req);
      case 'parse':
        return this.parse(level, op, out, req);
      case 'getschema':
        return this.getschema(level.cols.length ? level.cols : [], out);
      case 'mv-expand':
        return this.mvExpand(level, op, out, req);
      case 'as':
        return level;
      case 'sample': {
        if (level.limit !== undefined || level.bare) level = this.wrap(level, false);
        const n = constNumber(op.count, this.lets) ?? 0;
        return { ...level, orderBy: [{ sql: 'random()', dir: 'asc', nulls: 'last', string: false }], limit: n };
      }
      case 'render':
        throw this.err(op.pos, "operator 'render' is only supported as the last operator of the query");
      case 'unsupported':
        throw this.err(op.pos, `${op.what} is not supported`);
    }
  }

  /** A search predicate as a WHERE term; columns it names that this input lacks read as null (so they never match). */
  searchWhere(level: Level, predicate: Scalar): Level {
    const scope = this.scope(level);
    const types = new Map<string, KType>();
    refs(predicate, new Set(), types);
    for (const [name, type] of types) if (!scope.has(name)) scope.set(name, { name, type, sql: this.d.typedNull(type) });
    return { ...level, where: [...level.where, this.expr(predicate, scope)] };
  }

  /** The level with search's `$table` column first. */
  withTable(level: Level, table: string): Level {
    return { ...level, cols: [{ name: '$table', type: 'string', sql: this.p(table, 'string') }, ...level.cols] };
  }

  /** A search term over one column (strings only; other types by their text) or over every string column of the input. */
  searchTerm(e: SearchTerm, scope: Scope): string {
    const d = this.d;
    const cols = e.column === null ? [...scope.values()].filter((c) => c.type === 'string' && c.name !== '$table') : [scope.get(e.column)].filter((c) => !!c);
    const match = (c: LCol) => {
      const x = c.type === 'string' ? c.sql : `COALESCE(${this.toText(c.sql, c.type)}, '')`;
      switch (e.match) {
        case 'has':
          return d.has(x, e.term, e.caseSensitive, this.p);
        case 'prefix':
        case 'suffix':
          return d.has(x, e.term, e.caseSensitive, this.p, e.match);
        case 'contains':
          return e.caseSensitive ? d.containsCs(x, this.p(e.term, 'string')) : d.ilike(x, this.p(`%${e.term.replace(/[\\%_]/g, '\\$&')}%`, 'string'));
        case 'regex':
          return d.regexMatch(x, searchTermRegex(e), this.p);
      }
    };
    return cols.length ? `(${cols.map(match).join(' OR ')})` : '(1 = 0)';
  }

  /**
   * top-nested: level i groups the input by keys 0…i, ranks the groups within their level-(i−1) key by
   * the aggregate and keeps the first N; the selected groups of all levels are joined on their shared keys.
   * `with others`: for each level i and each selected group above it, the input rows outside level i's top N
   * give one more row, when level i or a deeper one has `with others`: the keys above as selected, from
   * level i down the others value (or null where a level has none) and, where a level has `with others`,
   * its aggregate over those rows (as in the reference's example).
   * One WITH: the input (read by every level), one ranked CTE per level, then the rows as a UNION ALL.
   */
  topNested(level: Level, levels: TopNestedLevel[], out: Column[], pos: Span, req: Set<string>): Level {
    const d = this.d;
    const src = this.subquery(level, false);
    const s = q(src.alias);
    const scope = this.scope({ ...level, cols: src.cols });
    const oneRow = this.scope(this.oneRow());
    const keys = levels.map((l) => this.expr(l.key.expr, scope));
    const aggs = levels.map((l) => this.expr(l.agg.expr, scope, true));
    const counts = levels.map((l) => (l.count ? constNumber(l.count, this.lets) : undefined));
    const ranked = levels.map(() => q(this.alias('n')));
    const k = (j: number) => q(`k${j}`);
    const ctes = [`${s} AS (${src.sql})`];
    levels.forEach((l, i) => {
      const partition = i ? `PARTITION BY ${keys.slice(0, i).join(', ')} ` : '';
      const dir = l.dir === 'asc' ? 'ASC NULLS LAST' : 'DESC NULLS LAST';
      const sel = [
        ...keys.slice(0, i + 1).map((key, j) => `${key} AS ${k(j)}`),
        `${aggs[i]} AS ${q('a')}`,
        `ROW_NUMBER() OVER (${partition}ORDER BY ${aggs[i]} ${dir}, ${keys[i]}) AS ${q('rn')}`,
      ];
      ctes.push(`${ranked[i]} AS (${this.selectSql({ from: s, where: [], having: [], orderBy: [], cols: [], groupBy: keys.slice(0, i + 1) }, sel, false)})`);
    });
    const inTop = (i: number, cmp: '<=' | '>') => (counts[i] !== undefined ? [`${ranked[i]}.${q('rn')} ${cmp} ${this.p(counts[i], 'long')}`] : []);
    const sameKeys = (i: number, other: (j: number) => string) => keys.slice(0, i).map((_, j) => d.nullSafeEq(`${ranked[i]}.${k(j)}`, other(j)));
    const outNames = levels.flatMap((_, i) => [q(`c${2 * i}`), q(`c${2 * i + 1}`)]);
    // The selected groups of every level.
    const selected = levels.map((_, i) => [`${ranked[i]}.${k(i)}`, `${ranked[i]}.${q('a')}`]).flat();
    let top = `SELECT ${selected.map((x, j) => `${x} AS ${outNames[j]}`).join(', ')} FROM ${ranked[0]}`;
    for (let i = 1; i < levels.length; i++)
      top += ` JOIN ${ranked[i]} ON ${[...sameKeys(i, (j) => `${ranked[i - 1]}.${k(j)}`), ...inTop(i, '<=')].join(' AND ')}`;
    if (inTop(0, '<=').length) top += ` WHERE ${inTop(0, '<=')[0]}`;
    const branches = [top];
    // The others rows of each level (the input rows inside the selected groups above, outside its top N).
    levels.forEach((_, i) => {
      if (counts[i] === undefined || !levels.slice(i).some((l) => l.others)) return;
      const above = selected.slice(0, 2 * i);
      const below = levels
        .slice(i)
        .flatMap((l, j) => [l.others ? this.expr(l.others, oneRow) : d.typedNull(l.key.expr.type), l.others ? aggs[i + j] : d.typedNull(l.agg.expr.type)]);
      let from = s;
      for (let j = 0; j <= i; j++) {
        const on = [...keys.slice(0, j + 1).map((key, m) => d.nullSafeEq(`${ranked[j]}.${k(m)}`, key)), ...inTop(j, j < i ? '<=' : '>')];
        from += ` JOIN ${ranked[j]} ON ${on.join(' AND ')}`;
      }
      const group = above.length ? ` GROUP BY ${above.join(', ')}` : ` HAVING count(*) > 0`;
      branches.push(`SELECT ${[...above, ...below].map((x, j) => `${x} AS ${outNames[j]}`).join(', ')} FROM ${from}${group}`);
    });
    const tn = q(this.alias('t'));
    const cols: LCol[] = levels.flatMap((l, i) => [
      { name: l.key.name, type: l.key.expr.type, sql: `${tn}.${outNames[2 * i]}` },
      { name: l.agg.name, type: l.agg.expr.type, sql: `${tn}.${outNames[2 * i + 1]}` },
    ]);
    return {
      from: `(WITH ${ctes.join(', ')} ${branches.join(' UNION ALL ')}) AS ${tn}`,
      where: [],
      having: [],
      cols: this.pick(out, new Map(cols.map((c) => [c.name, c])), pos, req),
      orderBy: [],
    };
  }

  /**
   * Before extend/project items: a level fit for per-row expressions. With row_number/prev/next the
   * input is grouped or limited rows wrapped first, and the window follows the level's row order.
   */
  beforeRowExprs(level: Level, items: NamedExpr[]): Level {
    const windowed = items.some((i) => usesWindow(i.expr));
    if (level.bare || this.heavy(level) || (windowed && (level.groupBy || level.limit !== undefined))) level = this.wrap(level, true);
    if (windowed) {
      const keys = level.orderBy.map((o) => `${o.string ? this.d.binaryCollate(o.sql) : o.sql} ${o.dir.toUpperCase()} NULLS ${o.nulls.toUpperCase()}`);
      this.windowOver = keys.length ? `ORDER BY ${keys.join(', ')}` : '';
    }
    return level;
  }

  /** Window results are computed in their own level, so later where/summarize can use them. */
  afterRowExprs(level: Level, items: NamedExpr[]): Level {
    return items.some((i) => usesWindow(i.expr)) ? this.wrap(level, true) : level;
  }

  /** mv-expand: the input crossed with its array's elements (see Dialect.expandArray). */
  mvExpand(level: Level, op: Extract<Operator, { op: 'mv-expand' }>, out: Column[], req: Set<string>): Level {
    if (level.groupBy || level.limit !== undefined || level.bare || this.heavy(level)) level = this.wrap(level, true);
    const scope = this.scope(level);
    const a = q(this.alias('e'));
    const { join, value, index } = this.d.expandArray(this.expr(op.expr, scope), a);
    scope.set(op.name, { name: op.name, type: 'dynamic', sql: value });
    if (op.index) scope.set(op.index, { name: op.index, type: 'long', sql: index });
    // A sorted input stays sorted, each row's elements in array order.
    const orderBy = level.orderBy.length ? [...level.orderBy, { sql: index, dir: 'asc' as const, nulls: 'last' as const, string: false }] : [];
    return { ...level, from: `${level.from} ${join}`, orderBy, cols: this.pick(out, scope, op.pos, req) };
  }

  /** getschema: one constant row per input column (the input itself is not read). */
  getschema(input: LCol[], out: Column[]): Level {
    const a = q(this.alias('s'));
    const names = this.aliases(out.map((c) => c.name));
    const rows = input.map(
      (c, i) =>
        `SELECT ${this.p(c.name, 'string')} AS ${q(names[0])}, ${this.p(i, 'long')} AS ${q(names[1])}, ${this.p(CLR_TYPES[c.type] ?? 'System.Object', 'string')} AS ${q(names[2])}, ${this.p(c.type, 'string')} AS ${q(names[3])}`,
    );
    if (!rows.length) rows.push(`SELECT ${out.map((c, i) => `${this.d.typedNull(c.type)} AS ${q(names[i])}`).join(', ')} WHERE 1 = 0`);
    return {
      from: `(${rows.join(' UNION ALL ')}) AS ${a}`,
      where: [],
      having: [],
      cols: out.map((c, i) => ({ name: c.name, type: c.type, sql: `${a}.${q(names[i])}` })),
      orderBy: [],
    };
  }

  /**
   * parse (simple): each literal is found after the previous one (its first occurrence); a column takes
   * the text between, the last column the rest. Any literal missing → every parsed column is null.
   * parse kind=regex: the pattern becomes one RE2 expression (`*` and string columns `.*?`, long/int
   * `-?\d+`, real a number), evaluated per column.
   * Every intermediate value (each literal's position, the text after it, each column's text and typed
   * value) is a column of its own subquery, fenced so that the engine computes it once per row instead
   * of inlining it into every expression that reads it.
   */
  parse(level: Level, op: Extract<Operator, { op: 'parse' }>, out: Column[], req: Set<string>): Level {
    if (level.bare || this.heavy(level) || level.groupBy || level.limit !== undefined) level = this.wrap(level, true);
    const source = `COALESCE(${this.toText(this.expr(op.source, this.scope(level)), op.source.type)}, '')`;
    level = this.stage(level, [[PARSE_SOURCE, 'string', source]]);
    // Input columns only the source needed are not carried through the stages.
    level = { ...level, cols: level.cols.filter((c) => req.has(c.name) || c.name === PARSE_SOURCE) };
    const parsed = op.kind === 'regex' ? this.parseRegex(level, op) : this.parseSimple(level, op.parts);
    level = parsed.level;
    const columns = [...parsed.texts.keys()];
    const col = (lv: Level, name: string) => this.scope(lv).get(name)!.sql;
    const typeOf = (name: string) => out.find((c) => c.name === name)?.type ?? 'string';
    level = this.stage(level, [...columns.map((c, i): StageCol => [`${PARSE_TEXT}${i}`, 'string', parsed.texts.get(c)!]), [PARSE_FOUND, 'bool', parsed.ok]]);
    // Strict, as Kusto's simple and regex kinds: a typed column that does not convert fails the whole row.
    const typed = columns.map((c, i) => ({ name: c, i, type: typeOf(c) })).filter((c) => c.type !== 'string');
    if (typed.length)
      level = this.stage(
        level,
        typed.map((c): StageCol => [`${PARSE_VALUE}${c.i}`, c.type, this.fromParsedText(col(level, `${PARSE_TEXT}${c.i}`), c.type)]),
      );
    const allOk = [col(level, PARSE_FOUND), ...typed.map((c) => `${col(level, `${PARSE_VALUE}${c.i}`)} IS NOT NULL`)].join(' AND ');
    const scope = this.scope(level);
    columns.forEach((name, i) => {
      const type = typeOf(name);
      const sql =
        type === 'string'
          ? `(CASE WHEN ${allOk} THEN ${col(level, `${PARSE_TEXT}${i}`)} ELSE '' END)`
          : `(CASE WHEN ${allOk} THEN ${col(level, `${PARSE_VALUE}${i}`)} END)`;
      scope.set(name, { name, type, sql });
    });
    return { ...level, cols: this.pick(out, scope, op.pos, req) };
  }

  /** The level with more columns, computed once per row in a fenced subquery (row order kept). */
  stage(level: Level, add: StageCol[]): Level {
    const cols = [...level.cols, ...add.map(([name, type, sql]) => ({ name, type, sql }))];
    return this.wrap({ ...level, cols }, true, true);
  }

  parseSimple(level: Level, parts: ParsePart[]): { level: Level; texts: Map<string, string>; ok: string } {
    const d = this.d;
    const col = (name: string) => this.scope(level).get(name)!.sql;
    let rest = PARSE_SOURCE;
    /** The column waiting for its end, and whether junk (`*`) follows it before the next literal. */
    let pending: { column: string; type: KType; junk: boolean } | null = null;
    const found: string[] = [];
    /** Column → the internal column holding its text. */
    const holders = new Map<string, string>();
    const closeText = (text: string): StageCol[] => {
      if (!pending) return [];
      // `col:long *` takes the number at the start of the text (Kusto matches it as -?\d+ then .*?).
      const numeric = pending.type === 'long' || pending.type === 'int';
      const holder = `${PARSE_PIECE}${holders.size}`;
      holders.set(pending.column, holder);
      return [[holder, 'string', pending.junk && numeric ? d.leadingInteger(text) : text]];
    };
    parts.forEach((part, i) => {
      if ('literal' in part) {
        const lit = this.p(part.literal, 'string');
        const at = `${PARSE_AT}${i}`;
        level = this.stage(level, [[at, 'long', d.position(col(rest), lit)]]);
        found.push(at);
        const next = `${PARSE_REST}${i}`;
        // (Not found: position 0, an empty text; PostgreSQL refuses a negative length.)
        level = this.stage(level, [
          ...closeText(d.substr(col(rest), '1', d.greatest(`${col(at)} - 1`, '0'))),
          [next, 'string', d.substr(col(rest), `${col(at)} + ${d.strlen(lit)}`)],
        ]);
        // The text before this literal is read no more.
        const done = rest;
        level = { ...level, cols: level.cols.filter((c) => c.name !== done) };
        rest = next;
        pending = null;
      } else if ('column' in part) pending = { column: part.column, type: part.type, junk: false };
      else if (pending) pending.junk = true;
    });
    const last = closeText(col(rest));
    if (last.length) level = this.stage(level, last);
    const texts = new Map([...holders].map(([c, h]) => [c, col(h)]));
    return { level, texts, ok: found.length ? found.map((at) => `${col(at)} > 0`).join(' AND ') : '1 = 1' };
  }

  parseRegex(level: Level, op: Extract<Operator, { op: 'parse' }>): { level: Level; texts: Map<string, string>; ok: string } {
    if (!this.d.re2Captures)
      throw this.err(op.pos, `'parse kind=regex' is not supported on ${this.d.title} (its regex engine picks different matches); use kind=simple or extract()`);
    let pattern = '';
    const columns: string[] = [];
    for (const part of op.parts) {
      if ('literal' in part) pattern += part.literal;
      else if ('star' in part) pattern += '.*?';
      else {
        columns.push(part.column);
        pattern += part.type === 'long' || part.type === 'int' ? '(-?\\d+)' : part.type === 'real' ? '(-?\\d+(?:\\.\\d*)?(?:[eE][+-]?\\d+)?)' : '(.*?)';
      }
    }
    const source = this.scope(level).get(PARSE_SOURCE)!.sql;
    const texts = new Map(columns.map((c, i) => [c, this.d.extract(source, pattern, i + 1, this.p)]));
    return { level, texts, ok: this.d.regexMatch(source, pattern, this.p) };
  }

  /** Text parsed out of a string → the declared column type (null when it does not convert). */
  fromParsedText(text: string, type: KType): string {
    switch (type) {
      case 'long':
      case 'int':
        return this.d.stringToLong(text);
      case 'real':
        return this.d.stringToReal(text);
      case 'datetime':
        return this.d.stringToDatetime(text);
      case 'bool':
        return `(CASE lower(${text}) WHEN 'true' THEN ${this.p(true, 'bool')} WHEN 'false' THEN ${this.p(false, 'bool')} END)`;
      case 'dynamic':
        return this.d.parseJson(text);
      default:
        return text;
    }
  }

  /**
   * make-series: per group (by keys) one array per aggregate with a value for every bin from `from`
   * (inclusive) to `to` (exclusive) in steps of `step` (the aggregate's `default`, else 0, where a bin
   * has no rows), and the axis as the array of bin starts. SQL: a bin generator crossed with the
   * groups, left-joined to the per-bin aggregates, folded into JSON arrays in bin order.
   */
  makeSeries(level: Level, op: Extract<Operator, { op: 'make-series' }>, out: Column[], req: Set<string>): Level {
    if (level.groupBy || level.limit !== undefined || level.bare || this.heavy(level)) level = this.wrap(level, false);
    const d = this.d;
    const scope = this.scope(level);
    const oneRow = this.scope(this.oneRow());
    const stepValue = constNumber(op.step, this.lets) ?? 1;
    const step = this.p(stepValue, 'long');
    const axis = this.expr(op.axis.expr, scope);
    // Without from/to the series spans the data: from the bin of the first axis value to the end of the bin of the last.
    const axisType = op.axis.expr.type;
    const dataBound = (fn: 'min' | 'max') =>
      `(SELECT ${this.bin(`${fn}(${axis})`, axisType, axisType, stepValue)}${fn === 'max' ? ` + ${step}` : ''} FROM ${level.from}${level.where.length ? ` WHERE ${level.where.join(' AND ')}` : ''})`;
    const from = op.from ? this.expr(op.from, oneRow) : dataBound('min');
    const to = op.to ? this.expr(op.to, oneRow) : dataBound('max');
    const keyNames = this.aliases(op.by.map((b) => b.name)).map((n) => `k_${n}`);
    const valueNames = op.items.map((_, i) => `v${i}`);
    const keySel = op.by.map((b, i) => `${this.expr(b.expr, scope)} AS ${q(keyNames[i])}`);
    const bin = `${d.truncToLong(`(${axis} - ${from}) / ${step}`)}`;
    const aggSql = this.selectSql(
      {
        ...level,
        where: [...level.where, `${axis} >= ${from}`, `${axis} < ${to}`],
        groupBy: [...op.by.map((b) => this.expr(b.expr, scope)), bin],
        having: [],
        orderBy: [],
        limit: undefined,
      },
      [...keySel, `${bin} AS ${q('_b')}`, ...op.items.map((it, i) => `${this.expr(it.expr, scope, true)} AS ${q(valueNames[i])}`)],
      false,
    );
    // One WITH: the per-bin aggregates (read twice: for the groups and for the values, so the engine
    // materialises them once), the groups, the bin numbers; then groups × bins left-joined to the values.
    const ag = q(this.alias('a'));
    const gr = q(this.alias('g'));
    const bins = q(this.alias('bins'));
    const ms = q(this.alias('m'));
    const b = q('b');
    const guard = d.counterGuard(`${bins}.${b}`);
    const binsCte =
      `${bins}(${b}) AS (SELECT 0 WHERE ${from} < ${to} UNION ALL SELECT ${bins}.${b} + 1 FROM ${bins}` +
      ` WHERE ${from} + (${bins}.${b} + 1) * ${step} < ${to} AND ${bins}.${b} < ${this.p(MAX_SERIES_BINS, 'long')}${guard ? ` AND ${guard}` : ''})`;
    const groupsCte = `${gr} AS (SELECT DISTINCT ${keyNames.length ? keyNames.map((k) => q(k)).join(', ') : `1 AS ${q('_k')}`} FROM ${ag})`;
    const on = [`${ag}.${q('_b')} = ${bins}.${b}`, ...keyNames.map((k) => d.nullSafeEq(`${ag}.${q(k)}`, `${gr}.${q(k)}`))];
    const sel = [...keyNames.map((k) => `${gr}.${q(k)} AS ${q(k)}`), `${bins}.${b} AS ${b}`, ...valueNames.map((v) => `${ag}.${q(v)} AS ${q(v)}`)];
    const inner = `WITH RECURSIVE ${ag} AS (${aggSql}), ${groupsCte}, ${binsCte} SELECT ${sel.join(', ')} FROM ${gr} CROSS JOIN ${bins} LEFT JOIN ${ag} ON ${on.join(' AND ')}`;
    const orderKey = `${ms}.${b}`;
    const cols: LCol[] = op.by.map((by, i) => ({ name: by.name, type: by.expr.type, sql: `${ms}.${q(keyNames[i])}` }));
    op.items.forEach((it, i) => {
      const dflt = it.default ? this.expr(it.default, oneRow) : this.p(0, 'long');
      const v = `COALESCE(${ms}.${q(valueNames[i])}, ${dflt})`;
      cols.push({
        name: it.name,
        type: 'dynamic',
        sql: d.jsonArrayAgg(
          d.jsonElement(v, it.expr.type, (x) => d.isoDatetime(x)),
          orderKey,
        ),
      });
    });
    const binStart = `(${from} + ${orderKey} * ${step})`;
    cols.push({
      name: op.axis.name,
      type: 'dynamic',
      sql: d.jsonArrayAgg(
        d.jsonElement(binStart, op.axis.expr.type, (x) => d.isoDatetime(x)),
        orderKey,
      ),
    });
    return {
      from: `(${inner}) AS ${ms}`,
      where: [],
      groupBy: keyNames.map((k) => `${ms}.${q(k)}`),
      having: [],
      cols: this.pick(out, new Map(cols.map((c) => [c.name, c])), op.pos, req),
      orderBy: [],
    };
  }

  order(k: OrderKey, scope: Scope): Order {
    return { sql: this.expr(k.expr, scope), dir: k.dir, nulls: k.nulls, string: k.expr.type === 'string' };
  }

  // ------------------------------------------------------------------ summarize

  summarize(level: Level, by: NamedExpr[], allItems: SummarizeItem[], out: Column[], pos: Span, req: Set<string>): Level {
    // Aggregates and arg_max outputs nobody downstream reads are not computed (group keys always are).
    const items = allItems
      .filter((i) => i.kind !== 'agg' || req.has(i.name))
      .map((i) => (i.kind === 'argExtreme' ? { ...i, outputs: i.outputs.filter((o) => req.has(o.name)) } : i));
    if (level.groupBy || level.limit !== undefined || level.bare || this.heavy(level)) level = this.wrap(level, false);
    const scope = this.scope(level);
    const keys = by.map((b) => ({ name: b.name, type: b.expr.type, sql: this.expr(b.expr, scope) }));
    const extremes = items.filter((i): i is Extract<SummarizeItem, { kind: 'argExtreme' }> => i.kind === 'argExtreme');
    if (extremes.length === 0) {
      const cols: LCol[] = [...keys];
      for (const it of items) if (it.kind === 'agg') cols.push({ name: it.name, type: it.expr.type, sql: this.expr(it.expr, scope, true) });
      return {
        from: level.from,
        where: level.where,
        groupBy: keys.map((k) => k.sql),
        having: [],
        cols: this.pick(out, new Map(cols.map((c) => [c.name, c])), pos, req),
        orderBy: [],
      };
    }
    const others = items.filter((i) => i.kind === 'agg');
    const usesMinMax = others.some((i) => i.kind === 'agg' && mentionsMinMax(i.expr));
    if (this.d.bareColumnAggregates && extremes.length === 1 && !usesMinMax) {
      // SQLite documents that with exactly one min()/max() aggregate, bare columns come from the row
      // holding that min/max: a GROUP BY instead of a window function.
      const ex = extremes[0];
      const cols: LCol[] = [...keys];
      for (const it of items) {
        if (it.kind === 'agg') cols.push({ name: it.name, type: it.expr.type, sql: this.expr(it.expr, scope, true) });
        else {
          const x = this.expr(it.by.expr, scope);
          cols.push({ name: it.by.name, type: it.by.expr.type, sql: `${it.fn === 'arg_max' ? 'max' : 'min'}(${x})` });
          for (const o of it.outputs) cols.push({ name: o.name, type: o.expr.type, sql: this.expr(o.expr, scope) });
        }
      }
      const picked = this.pick(out, new Map(cols.map((c) => [c.name, c])), pos, req);
      const x = cols.find((c) => c.name === ex.by.name);
      if (x && !picked.some((c) => c.name === ex.by.name)) picked.push({ ...x, name: '_argx', pinned: true });
      return {
        from: level.from,
        where: level.where,
        groupBy: keys.map((k) => k.sql),
        having: [],
        cols: picked,
        orderBy: [],
        bare: true,
      };
    }
    // General form: one ROW_NUMBER() subquery per arg_max/arg_min, joined to the grouped aggregates.
    const partition = keys.length ? `PARTITION BY ${keys.map((k) => k.sql).join(', ')} ` : '';
    const keyAliases = keys.map((_, i) => `_k${i}`);
    const subs = extremes.map((ex) => {
      const a = this.alias('r');
      const x = this.expr(ex.by.expr, scope);
      const outNames = this.aliases(ex.outputs.map((o) => o.name));
      const sel = [
        ...keys.map((k, i) => `${k.sql} AS ${q(keyAliases[i])}`),
        `${x} AS ${q('_x')}`,
        ...ex.outputs.map((o, i) => `${this.expr(o.expr, scope)} AS ${q(outNames[i])}`),
        `ROW_NUMBER() OVER (${partition}ORDER BY ${x} ${ex.fn === 'arg_max' ? 'DESC' : 'ASC'} NULLS LAST) AS ${q('_rn')}`,
      ];
      return { ex, a, outNames, sql: this.selectSql({ ...level, orderBy: [], limit: undefined }, sel, false) };
    });
    const cols: LCol[] = [];
    if (others.length === 0 && subs.length === 1) {
      const s = subs[0];
      const a = q(s.a);
      keys.forEach((k, i) => cols.push({ name: k.name, type: k.type, sql: `${a}.${q(keyAliases[i])}` }));
      cols.push({ name: s.ex.by.name, type: s.ex.by.expr.type, sql: `${a}.${q('_x')}` });
      s.ex.outputs.forEach((o, i) => cols.push({ name: o.name, type: o.expr.type, sql: `${a}.${q(s.outNames[i])}` }));
      return {
        from: `(${s.sql}) AS ${a}`,
        where: [`${a}.${q('_rn')} = 1`],
        having: [],
        cols: this.pick(out, new Map(cols.map((c) => [c.name, c])), pos, req),
        orderBy: [],
      };
    }
    const g = this.alias('g');
    const aggNames = this.aliases(others.map((o) => (o.kind === 'agg' ? o.name : '')));
    const gSel = [
      ...keys.map((k, i) => `${k.sql} AS ${q(keyAliases[i])}`),
      ...others.map((o, i) => `${this.expr((o as Extract<SummarizeItem, { kind: 'agg' }>).expr, scope, true)} AS ${q(aggNames[i])}`),
    ];
    if (gSel.length === 0) gSel.push(`count(*) AS ${q('_n')}`);
    const gSql = this.selectSql({ ...level, groupBy: keys.map((k) => k.sql), having: [], orderBy: [], limit: undefined }, gSel, false);
    let from = `(${gSql}) AS ${q(g)}`;
    for (const s of subs) {
      const on = [`${q(s.a)}.${q('_rn')} = 1`, ...keyAliases.map((k) => this.d.nullSafeEq(`${q(g)}.${q(k)}`, `${q(s.a)}.${q(k)}`))];
      from += ` LEFT JOIN (${s.sql}) AS ${q(s.a)} ON ${on.join(' AND ')}`;
    }
    keys.forEach((k, i) => cols.push({ name: k.name, type: k.type, sql: `${q(g)}.${q(keyAliases[i])}` }));
    others.forEach((o, i) => cols.push({ name: (o as { name: string }).name, type: (o as { expr: Scalar }).expr.type, sql: `${q(g)}.${q(aggNames[i])}` }));
    for (const s of subs) {
      cols.push({ name: s.ex.by.name, type: s.ex.by.expr.type, sql: `${q(s.a)}.${q('_x')}` });
      s.ex.outputs.forEach((o, i) => cols.push({ name: o.name, type: o.expr.type, sql: `${q(s.a)}.${q(s.outNames[i])}` }));
    }
    return { from, where: [], having: [], cols: this.pick(out, new Map(cols.map((c) => [c.name, c])), pos, req), orderBy: [] };
  }

  // ------------------------------------------------------------------ join / union

  join(left: Level, op: Extract<Operator, { op: 'join' }>, out: Column[], depth: number): Level {
    if (left.bare) left = this.wrap(left, false);
    let right = this.tabular(op.right, depth + 1);
    if (right.bare) right = this.wrap(right, false);
    const lw = this.wrapForJoin(left);
    const rw = this.wrapForJoin(right);
    const la = this.alias('jl');
    const ra = this.alias('jr');
    const lcol = (name: string) => {
      const i = left.cols.findIndex((c) => c.name === name);
      if (i < 0) throw this.err(op.pos, `join column '${name}' not found on the left side`);
      return `${q(la)}.${q(lw.names[i])}`;
    };
    const rcol = (name: string) => {
      const i = right.cols.findIndex((c) => c.name === name);
      if (i < 0) throw this.err(op.pos, `join column '${name}' not found on the right side`);
      return `${q(ra)}.${q(rw.names[i])}`;
    };
    const conds = op.on.map((k) => `${lcol(k.left)} = ${rcol(k.right)}`);
    let leftSql = lw.sql;
    const where: string[] = [];
    if (op.kind === 'innerunique') {
      // Kusto's default join: the left side is deduplicated on the join keys (one arbitrary row per key).
      const x = q(this.alias('u'));
      const keys = op.on.map((k) => `${x}.${q(lw.names[left.cols.findIndex((c) => c.name === k.left)])}`);
      leftSql = `SELECT ${x}.*, ROW_NUMBER() OVER (PARTITION BY ${keys.join(', ')}) AS ${q('_rn')} FROM (${lw.sql}) AS ${x}`;
      where.push(`${q(la)}.${q('_rn')} = 1`);
    }
    const guard = this.d.joinGuard();
    if (guard) where.push(guard);
    const semi = SEMI_JOINS[op.kind];
    if (semi) {
      // leftsemi/leftanti keep the left rows with (without) a match; right… the right rows.
      const [keepSql, keepAlias, keepCols, keepNames, otherSql, otherAlias] =
        semi.side === 'left' ? [lw.sql, la, left.cols, lw.names, rw.sql, ra] : [rw.sql, ra, right.cols, rw.names, lw.sql, la];
      if (keepCols.length !== out.length) throw this.err(op.pos, 'internal: unexpected join output schema');
      const exists = `${semi.anti ? 'NOT ' : ''}EXISTS (SELECT 1 FROM (${otherSql}) AS ${q(otherAlias)} WHERE ${conds.join(' AND ')})`;
      return {
        from: `(${keepSql}) AS ${q(keepAlias)}`,
        where: [exists],
        having: [],
        cols: out.map((c, i) => ({ name: c.name, type: c.type, sql: `${q(keepAlias)}.${q(keepNames[i])}` })),
        orderBy: [],
      };
    }
    const joinKw = JOIN_KEYWORDS[op.kind] ?? 'INNER JOIN';
    const from = `(${leftSql}) AS ${q(la)} ${joinKw} (${rw.sql}) AS ${q(ra)} ON ${conds.join(' AND ')}`;
    // An unmatched side's strings read "" (Kusto strings are never null).
    const padLeft = op.kind === 'rightouter' || op.kind === 'fullouter';
    const padRight = op.kind === 'leftouter' || op.kind === 'fullouter';
    const cols: LCol[] = [];
    left.cols.forEach((c, i) => {
      const ref = `${q(la)}.${q(lw.names[i])}`;
      cols.push({ name: c.name, type: c.type, sql: padLeft && c.type === 'string' ? `COALESCE(${ref}, '')` : ref });
    });
    const rightKeys = new Set(op.lookup ? op.on.map((k) => k.right) : []);
    right.cols.forEach((c, i) => {
      if (rightKeys.has(c.name)) return;
      const ref = `${q(ra)}.${q(rw.names[i])}`;
      cols.push({ name: c.name, type: c.type, sql: padRight && c.type === 'string' ? `COALESCE(${ref}, '')` : ref });
    });
    if (cols.length !== out.length) throw this.err(op.pos, 'internal: unexpected join output schema');
    return {
      from,
      where,
      having: [],
      cols: out.map((c, i) => ({ name: c.name, type: c.type, sql: cols[i].sql })),
      orderBy: [],
    };
  }

  wrapForJoin(input: Level): { sql: string; names: string[] } {
    const level = input.bare ? this.wrap(input, true) : input;
    const names = this.aliases(level.cols.map((c) => c.name));
    const items = level.cols.map((c, i) => `${c.sql} AS ${q(names[i])}`);
    return { sql: this.selectSql(level, items, level.limit !== undefined), names };
  }

  union(inputs: (Tabular | Level)[], out: Column[], depth: number): Level {
    const levels = inputs.map((t) => ('kind' in t ? this.tabular(t as Tabular, depth + 1) : (t as Level))).map((lv) => (lv.bare ? this.wrap(lv, false) : lv));
    const outNames = this.aliases(out.map((c) => c.name));
    const branches = levels.map((lv) => {
      const w = this.wrapForJoin(lv);
      const a = q(this.alias('b'));
      const items = out.map((c, i) => {
        let j = lv.cols.findIndex((x) => x.name === c.name && x.type === c.type);
        if (j < 0) {
          // Kusto renames same-named columns of different types to Name_type.
          j = lv.cols.findIndex((x) => `${x.name}_${x.type}` === c.name && x.type === c.type);
        }
        const v = j >= 0 ? `${a}.${q(w.names[j])}` : this.d.typedNull(c.type);
        return `${v} AS ${q(outNames[i])}`;
      });
      return `SELECT ${items.join(', ')} FROM (${w.sql}) AS ${a}`;
    });
    const u = q(this.alias('u'));
    return {
      from: `(${branches.join(' UNION ALL ')}) AS ${u}`,
      where: [],
      having: [],
      cols: out.map((c, i) => ({ name: c.name, type: c.type, sql: `${u}.${q(outNames[i])}` })),
      orderBy: [],
    };
  }

  // ------------------------------------------------------------------ scalars

  /** Compile a scalar. `agg`: inside a summarize item (aggregate functions allowed at this level). */
  expr(e: Scalar, scope: Scope, agg = false, depth = 0): string {
    if (depth > 1000) throw this.err(e.pos, 'expression nested too deeply');
    if (++this.scalarCompiles > MAX_SCALAR_COMPILES)
      throw new KqlError('UnsupportedError', 'The query is too complex (expressions too large after expanding lets)', { innerCode: 'UNS0003' });
    const x = (s: Scalar) => this.expr(s, scope, agg, depth + 1);
    switch (e.kind) {
      case 'literal':
        return this.p(e.value, e.type);
      case 'column': {
        const c = scope.get(e.name);
        if (!c) throw this.err(e.pos, `internal: unknown column '${e.name}'`);
        return c.sql;
      }
      case 'letRef': {
        const l = this.lets.get(e.id);
        if (!l || l.kind !== 'scalarLet') throw this.err(e.pos, `unknown let '${e.name}'`);
        return this.expr(l.expr, scope, agg, depth + 1);
      }
      case 'unary':
        return e.op === '-' ? `(-${x(e.operand)})` : x(e.operand);
      case 'binary':
        return this.binary(e, x);
      case 'in': {
        const op = e.negated ? 'NOT IN' : 'IN';
        if (!Array.isArray(e.values)) {
          const lv = this.tabular(e.values.tabular, depth + 1);
          if (!lv.cols.length) throw this.err(e.pos, "the subquery of 'in' returns no columns");
          const w = this.wrapForJoin(lv);
          const a = q(this.alias('s'));
          const sub = `SELECT ${a}.${q(w.names[0])} FROM (${w.sql}) AS ${a}`;
          const lhs = e.caseInsensitive ? this.d.lower(x(e.operand)) : x(e.operand);
          const col = e.caseInsensitive ? `SELECT ${this.d.lower(`${a}.${q(w.names[0])}`)} FROM (${w.sql}) AS ${a}` : sub;
          return `(${lhs} ${op} (${col}))`;
        }
        let lhs = x(e.operand);
        let vals = e.values.map((v) => x(v));
        if (e.caseInsensitive) {
          lhs = this.d.lower(lhs);
          vals = vals.map((v) => this.d.lower(v));
        }
        return `(${lhs} ${op} (${vals.join(', ')}))`;
      }
      case 'between': {
        const v = x(e.operand);
        const lo = x(e.low);
        let hi = x(e.high);
        if (e.operand.type === 'datetime' && e.high.type === 'timespan') hi = `(${lo} + ${hi})`;
        return `(${v} ${e.negated ? 'NOT BETWEEN' : 'BETWEEN'} ${lo} AND ${hi})`;
      }
      case 'member':
        return this.d.jsonMember(x(e.target), e.key, this.p);
      case 'call':
        return this.call(e, scope, agg, depth);
      case 'searchTerm':
        return this.searchTerm(e, scope);
      case 'star':
      case 'unsupported':
        throw this.err(e.pos, `${e.kind === 'star' ? "'*'" : e.what} is not supported here`);
    }
  }

  binary(e: Extract<Scalar, { kind: 'binary' }>, x: (s: Scalar) => string): string {
    const d = this.d;
    const lt = e.left.type;
    const rt = e.right.type;
    // A dynamic value compared with a string compares its text.
    const side = (s: Scalar, other: KType) => (s.type === 'dynamic' && other === 'string' ? d.jsonToText(x(s)) : x(s));
    const l = side(e.left, rt);
    const r = side(e.right, lt);
    const cs = (s: string) => (lt === 'string' || rt === 'string' ? d.binaryCollate(s) : s);
    const constStr = () => {
      const v = constValue(e.right, this.lets);
      return typeof v === 'string' ? v : undefined;
    };
    const like = (build: (s: string) => string, negate: boolean, fallback: () => string) => {
      const v = constStr();
      const sql = v !== undefined ? d.ilike(l, this.p(build(v.replace(/[\\%_]/g, '\\$&')), 'string')) : fallback();
      return negate ? `(NOT ${sql})` : sql;
    };
    switch (e.op) {
      case '+':
      case '-':
      case '*':
        return `(${l} ${e.op} ${r})`;
      case '/':
        if (lt === 'timespan' && rt === 'timespan') return `(${d.castReal(l)} / NULLIF(${r}, 0))`;
        return `(${l} / NULLIF(${r}, 0))`;
      case '%':
        return `(${l} % NULLIF(${r}, 0))`;
      case '==':
        return `(${l} = ${r})`;
      case '!=':
        return `(${l} <> ${r})`;
      case '<':
      case '<=':
      case '>':
      case '>=':
        return `(${cs(l)} ${e.op} ${r})`;
      case 'and':
        return `(${l} AND ${r})`;
      case 'or':
        return `(${l} OR ${r})`;
      case '=~':
        return `(${d.lower(l)} = ${d.lower(r)})`;
      case '!~':
        return `(${d.lower(l)} <> ${d.lower(r)})`;
      case 'has':
      case '!has':
      case 'has_cs':
      case '!has_cs': {
        const sql = d.has(l, constStr() ?? '', e.op.endsWith('_cs'), this.p);
        return e.op.startsWith('!') ? `(NOT ${sql})` : sql;
      }
      case 'contains':
      case '!contains':
        return like(
          (v) => `%${v}%`,
          e.op === '!contains',
          () => d.containsCs(d.lower(l), d.lower(r)),
        );
      case 'startswith':
      case '!startswith':
        return like(
          (v) => `${v}%`,
          e.op === '!startswith',
          () => d.startsWithCs(d.lower(l), d.lower(r)),
        );
      case 'endswith':
      case '!endswith':
        return like(
          (v) => `%${v}`,
          e.op === '!endswith',
          () => d.endsWithCs(d.lower(l), d.lower(r)),
        );
      case 'contains_cs':
        return d.containsCs(l, r);
      case '!contains_cs':
        return `(NOT ${d.containsCs(l, r)})`;
      case 'startswith_cs':
        return d.startsWithCs(l, r);
      case '!startswith_cs':
        return `(NOT ${d.startsWithCs(l, r)})`;
      case 'endswith_cs':
        return d.endsWithCs(l, r);
      case '!endswith_cs':
        return `(NOT ${d.endsWithCs(l, r)})`;
      case 'matches regex':
        return d.regexMatch(l, constStr() ?? '', this.p);
    }
  }

  call(e: Extract<Scalar, { kind: 'call' }>, scope: Scope, agg: boolean, depth: number): string {
    const d = this.d;
    const a = e.args;
    const x = (s: Scalar) => this.expr(s, scope, agg, depth + 1);
    const row = (s: Scalar) => this.expr(s, scope, false, depth + 1);
    const num = (s: Scalar) => constNumber(s, this.lets);
    switch (e.name) {
      // ---------------- serialized row order (only in extend/project items; see beforeRowExprs)
      case 'row_number':
        return `ROW_NUMBER() OVER (${this.windowOver})`;
      case 'prev':
      case 'next': {
        // Inlined: PostgreSQL's lag/lead take an integer offset (the subset checker made it a constant integer).
        const offset = String(Math.trunc(a.length > 1 ? (num(a[1]) ?? 1) : 1));
        const dflt = a.length > 2 ? `, ${row(a[2])}` : '';
        return `${e.name === 'prev' ? 'LAG' : 'LEAD'}(${row(a[0])}, ${offset}${dflt}) OVER (${this.windowOver})`;
      }
      // ---------------- aggregates (only reached with agg = true; the subset checker guarantees it)
      case 'count':
        return 'count(*)';
      case 'countif':
        return `count(*) FILTER (WHERE ${row(a[0])})`;
      case 'dcount':
        return `count(DISTINCT ${row(a[0])})`;
      case 'sum':
        return `sum(${row(a[0])})`;
      case 'avg':
        return `avg(${d.castReal(row(a[0]))})`;
      case 'min':
      case 'max':
        return d.minMax(e.name, row(a[0]), a[0].type);
      case 'percentile': {
        const pct = num(a[1]) ?? 50;
        return d.percentile(row(a[0]), this.p(pct / 100, 'real'));
      }
      case 'sumif':
        return `sum(${row(a[0])}) FILTER (WHERE ${row(a[1])})`;
      case 'avgif':
        return `avg(${d.castReal(row(a[0]))}) FILTER (WHERE ${row(a[1])})`;
      case 'dcountif':
        return `count(DISTINCT ${row(a[0])}) FILTER (WHERE ${row(a[1])})`;
      case 'stdev':
      case 'variance':
        return d.sampleVariance(d.castReal(row(a[0])), e.name === 'stdev');
      case 'make_bag':
        return d.makeBag(row(a[0]));
      case 'take_any':
        return d.minMax('max', row(a[0]), a[0].type);
      case 'make_set':
      case 'make_list': {
        const v = row(a[0]);
        return d.makeList(
          d.jsonElement(v, a[0].type, (s) => d.isoDatetime(s)),
          v,
          e.name === 'make_set',
        );
      }
      // ---------------- datetime
      case 'ago': {
        const v = num(a[0]);
        return v !== undefined ? this.p(this.now - v, 'datetime') : `(${this.nowSql()} - ${x(a[0])})`;
      }
      case 'now': {
        if (a.length === 0) return this.nowSql();
        const v = num(a[0]);
        return v !== undefined ? this.p(this.now + v, 'datetime') : `(${this.nowSql()} + ${x(a[0])})`;
      }
      case 'todatetime': {
        const t = a[0].type;
        if (t === 'datetime') return x(a[0]);
        const cv = constValue(a[0], this.lets);
        if (typeof cv === 'string') {
          const ms = parseDatetimeLiteral(cv);
          return this.p(ms === undefined ? null : ms, 'datetime');
        }
        return d.stringToDatetime(t === 'dynamic' ? d.jsonToText(x(a[0])) : x(a[0]));
      }
      case 'startofday':
      case 'endofday':
      case 'startofweek':
      case 'endofweek':
      case 'startofmonth':
      case 'endofmonth':
        return this.periodBoundary(e.name, x(a[0]), a.length > 1 ? x(a[1]) : undefined);
      case 'dayofweek':
        // A timespan: days since the preceding Sunday.
        return `(${this.binDatetime(x(a[0]), DAY_MS, EPOCH_OFFSET_MS)} - ${this.binDatetime(x(a[0]), WEEK_MS, EPOCH_OFFSET_MS + DAY_MS)})`;
      case 'hourofday':
        return `(((${x(a[0])} + ${this.p(EPOCH_OFFSET_MS, 'long')}) % ${this.p(DAY_MS, 'long')}) / ${this.p(3600000, 'long')})`;
      case 'bin_at':
        return this.binAt(x(a[0]), a[0].type, num(a[1]) ?? 1, x(a[2]));
      case 'format_datetime':
        return this.formatDatetime(x(a[0]), String(constValue(a[1], this.lets) ?? ''));
      case 'datetime_diff':
        return this.datetimeDiff(String(constValue(a[0], this.lets) ?? '').toLowerCase(), x(a[1]), x(a[2]));
      case 'bin':
      case 'floor':
        return this.bin(x(a[0]), a[0].type, e.type, num(a[1]) ?? 1);
      // ---------------- conversions
      case 'tostring':
        return `COALESCE(${this.toText(x(a[0]), a[0].type)}, '')`;
      case 'toint':
      case 'tolong':
        return this.toLong(x(a[0]), a[0].type);
      case 'todouble': {
        const t = a[0].type;
        if (t === 'string') return d.stringToReal(x(a[0]));
        if (t === 'dynamic') return d.stringToReal(d.jsonToText(x(a[0])));
        if (t === 'bool') return `(CASE WHEN ${x(a[0])} THEN 1.0 WHEN NOT ${x(a[0])} THEN 0.0 END)`;
        return d.castReal(x(a[0]));
      }
      // ---------------- strings
      case 'strlen':
        return d.strlen(x(a[0]));
      case 'strcat':
        return `(${a.map((s) => `COALESCE(${this.toText(x(s), s.type)}, '')`).join(' || ')})`;
      case 'substring': {
        const s = x(a[0]);
        const st = x(a[1]);
        const start = `(CASE WHEN ${st} >= 0 THEN ${st} + 1 ELSE ${d.greatest(`${d.strlen(s)} + ${st}`, '0')} + 1 END)`;
        return `COALESCE(${d.substr(s, start, a.length > 2 ? d.greatest(x(a[2]), '0') : undefined)}, '')`;
      }
      case 'tolower':
        return d.lower(x(a[0]));
      case 'toupper':
        return d.upper(x(a[0]));
      case 'trim':
        return d.trimRegex(x(a[1]), String(constValue(a[0], this.lets) ?? ''), this.p);
      case 'split': {
        const arr = d.split(x(a[0]), x(a[1]));
        if (a.length < 3) return arr;
        return d.jsonArray1(d.jsonMember(arr, num(a[2]) ?? 0, this.p));
      }
      case 'extract':
        return d.extract(x(a[2]), String(constValue(a[0], this.lets)), num(a[1]) ?? 0, this.p);
      case 'extract_all':
        return d.extractAll(x(a[1]), String(constValue(a[0], this.lets)), this.p);
      case 'replace_string':
        return `replace(${x(a[0])}, ${x(a[1])}, ${x(a[2])})`;
      case 'replace_regex':
        return d.replaceRegex(x(a[0]), String(constValue(a[1], this.lets)), String(constValue(a[2], this.lets)), this.p);
      case 'indexof':
        return `(${d.position(x(a[0]), x(a[1]))} - 1)`;
      case 'countof': {
        const regex = a.length > 2 && constValue(a[2], this.lets) === 'regex';
        return d.countOf(x(a[0]), String(constValue(a[1], this.lets)), regex, this.p);
      }
      // ---------------- dynamic
      case 'array_length':
        return d.arrayLength(x(a[0]));
      case 'bag_pack':
      case 'pack': {
        const pairs: [string, string][] = [];
        for (let i = 0; i + 1 < a.length; i += 2) pairs.push([`COALESCE(${x(a[i])}, '')`, d.jsonElement(x(a[i + 1]), a[i + 1].type, (v) => d.isoDatetime(v))]);
        return d.jsonObject(pairs);
      }
      case 'todynamic':
      case 'parse_json':
        return a[0].type === 'dynamic' ? x(a[0]) : d.parseJson(x(a[0]));
      case 'hash':
        return d.hash(x(a[0]), a[0].type === 'datetime', a.length > 1 ? x(a[1]) : null);
      case 'series_stats_dynamic':
        return `kql_series_stats(${x(a[0])})`;
      case 'series_fill_linear': {
        const missing = a.length > 1 ? constValue(a[1], this.lets) : null;
        const constant = a.length > 3 ? constValue(a[3], this.lets) : 0;
        const args = [
          x(a[0]),
          this.p(missing === null || missing === undefined ? null : JSON.stringify(Number(missing)), 'string'),
          this.p(a.length > 2 ? constValue(a[2], this.lets) !== false : true, 'bool'),
          this.p(constant === null || constant === undefined ? null : Number(constant), 'real'),
        ];
        return `kql_series_fill_linear(${args.join(', ')})`;
      }
      // ---------------- logic
      case 'max_of':
      case 'min_of':
        return d.extremeOf(
          e.name === 'max_of' ? 'max' : 'min',
          a.map((s) => x(s)),
        );
      case 'iff':
      case 'iif':
        return `(CASE WHEN ${x(a[0])} THEN ${x(a[1])} ELSE ${x(a[2])} END)`;
      case 'case': {
        let sql = '(CASE';
        for (let i = 0; i + 1 < a.length; i += 2) sql += ` WHEN ${x(a[i])} THEN ${x(a[i + 1])}`;
        return sql + ` ELSE ${x(a[a.length - 1])} END)`;
      }
      case 'not':
        return `(NOT ${x(a[0])})`;
      case 'isempty':
      case 'isnotempty': {
        const v = x(a[0]);
        const str = a[0].type === 'string' || a[0].type === 'dynamic';
        if (e.name === 'isempty') return str ? `(${v} IS NULL OR ${v} = '')` : `(${v} IS NULL)`;
        return str ? `(${v} IS NOT NULL AND ${v} <> '')` : `(${v} IS NOT NULL)`;
      }
      case 'isnull':
        return `(${x(a[0])} IS NULL)`;
      case 'isnotnull':
        return `(${x(a[0])} IS NOT NULL)`;
      case 'coalesce':
        if (e.type === 'string') return `COALESCE(${a.map((s) => `NULLIF(${x(s)}, '')`).join(', ')}, '')`;
        return `COALESCE(${a.map((s) => x(s)).join(', ')})`;
      // ---------------- math
      case 'round': {
        const digits = a.length > 1 ? (num(a[1]) ?? 0) : 0;
        const integral = e.type === 'long' || e.type === 'int' || e.type === 'timespan' || e.type === 'datetime';
        return d.round(x(a[0]), digits, integral, this.p);
      }
      default:
        throw this.err(e.namePos, `function '${e.name}' is not supported`);
    }
  }

  /** startofday/endofday/…: the first (or last) millisecond of the day, week or month of `v`, shifted by `offset` periods. */
  periodBoundary(fn: string, v: string, offset: string | undefined): string {
    const end = fn.startsWith('end');
    const n = `(${offset ?? '0'} + ${end ? 1 : 0})`;
    let start: string;
    if (fn.endsWith('month')) start = this.d.monthStart(v, n);
    else {
      const unit = fn.endsWith('week') ? WEEK_MS : DAY_MS;
      // 0001-01-01 was a Monday; Kusto weeks start on Sunday.
      const base = this.binDatetime(v, unit, EPOCH_OFFSET_MS + (unit === WEEK_MS ? DAY_MS : 0));
      start = offset === undefined && !end ? base : `(${base} + ${n} * ${this.p(unit, 'timespan')})`;
    }
    return end ? `(${start} - 1)` : start;
  }

  /** bin_at: bins of `step` aligned so that `fixed` starts a bin. */
  binAt(v: string, type: KType, step: number, fixed: string): string {
    if (type === 'real') {
      const st = this.p(step, 'real');
      return `(${fixed} + ${this.d.floor(`(${v} - ${fixed}) / ${st}`)} * ${st})`;
    }
    const st = this.p(Math.round(step), 'long');
    return `(${v} - (((${v} - ${fixed}) % ${st}) + ${st}) % ${st})`;
  }

  binDatetime(v: string, step: number, offset: number): string {
    return `(${v} - ((${v} + ${this.p(offset, 'long')}) % ${this.p(step, 'long')}))`;
  }

  bin(v: string, argType: KType, resultType: KType, step: number): string {
    if (argType === 'datetime') return this.binDatetime(v, Math.round(step), EPOCH_OFFSET_MS);
    if (resultType === 'real' || argType === 'real' || !Number.isInteger(step)) {
      return `(${this.d.floor(`${v} / ${this.p(step, 'real')}`)} * ${this.p(step, 'real')})`;
    }
    const s = this.p(step, 'long');
    return `(${v} - (((${v} % ${s}) + ${s}) % ${s}))`;
  }

  toText(v: string, type: KType): string {
    const d = this.d;
    switch (type) {
      case 'string':
        return v;
      case 'long':
      case 'int':
        return d.castText(v);
      case 'real':
        return d.realToText(v);
      case 'bool':
        return d.boolText(v);
      case 'datetime':
        return d.isoDatetime(v);
      case 'timespan':
        return this.timespanText(v);
      case 'dynamic':
        return d.jsonToText(v);
      default:
        return d.castText(v);
    }
  }

  timespanText(v: string): string {
    const d = this.d;
    const abs = `abs(${d.truncToLong(`round(${v})`)})`;
    const part = (div: number, mod: number) => d.pad(`(${abs} / ${div}) % ${mod}`, 2);
    return (
      `(CASE WHEN ${v} IS NULL THEN NULL ELSE ` +
      `(CASE WHEN ${v} < 0 THEN '-' ELSE '' END) || ` +
      `(CASE WHEN ${abs} >= ${DAY_MS} THEN ${d.castText(`${abs} / ${DAY_MS}`)} || '.' ELSE '' END) || ` +
      `${part(3600000, 24)} || ':' || ${part(60000, 60)} || ':' || ${part(1000, 60)} || ` +
      `(CASE WHEN ${abs} % 1000 <> 0 THEN '.' || ${d.pad(`${abs} % 1000`, 3)} || '0000' ELSE '' END) END)`
    );
  }

  toLong(v: string, type: KType): string {
    const d = this.d;
    switch (type) {
      case 'string':
        return d.stringToLong(v);
      case 'dynamic':
        return d.stringToLong(d.jsonToText(v));
      case 'real':
        return d.truncToLong(v);
      case 'bool':
        return `(CASE WHEN ${v} THEN 1 WHEN NOT ${v} THEN 0 END)`;
      default:
        return v;
    }
  }

  formatDatetime(v: string, fmt: string): string {
    const d = this.d;
    const tokens = tokenizeDatetimeFormat(fmt) ?? [];
    const shifted = `(${v} + ${this.p(EPOCH_OFFSET_MS, 'long')})`;
    const hour = `((${shifted} % ${DAY_MS}) / 3600000)`;
    const parts = tokens.map((t) => {
      if (t.literal !== undefined) return this.p(t.literal, 'string');
      const tok = t.token as string;
      switch (tok) {
        case 'yyyy':
          return d.pad(d.datePart('year', v), 4);
        case 'yy':
          return d.pad(`${d.datePart('year', v)} % 100`, 2);
        case 'MM':
          return d.pad(d.datePart('month', v), 2);
        case 'M':
          return d.castText(d.datePart('month', v));
        case 'dd':
          return d.pad(d.datePart('day', v), 2);
        case 'd':
          return d.castText(d.datePart('day', v));
        case 'HH':
          return d.pad(hour, 2);
        case 'H':
          return d.castText(hour);
        case 'hh':
          return d.pad(`((${hour} + 11) % 12) + 1`, 2);
        case 'h':
          return d.castText(`((${hour} + 11) % 12) + 1`);
        case 'mm':
          return d.pad(`(${shifted} % 3600000) / 60000`, 2);
        case 'm':
          return d.castText(`(${shifted} % 3600000) / 60000`);
        case 'ss':
          return d.pad(`(${shifted} % 60000) / 1000`, 2);
        case 's':
          return d.castText(`(${shifted} % 60000) / 1000`);
        case 'tt':
          return `(CASE WHEN ${hour} < 12 THEN 'AM' ELSE 'PM' END)`;
        default: {
          // f… (always that many digits) / F… (trailing zeros trimmed); we keep milliseconds.
          const n = tok.length;
          const ms = d.pad(`${shifted} % 1000`, 3);
          const digits = n <= 3 ? d.substr(ms, '1', String(n)) : `${ms} || ${this.p('0'.repeat(n - 3), 'string')}`;
          if (tok[0] === 'F') return `rtrim(${digits}, '0')`;
          return digits;
        }
      }
    });
    if (!parts.length) return this.p('', 'string');
    return `(CASE WHEN ${v} IS NULL THEN '' ELSE ${parts.join(' || ')} END)`;
  }

  datetimeDiff(part: string, a: string, b: string): string {
    const d = this.d;
    const y = (v: string) => d.datePart('year', v);
    const m = (v: string) => d.datePart('month', v);
    const unitDiff = (unit: number) =>
      `((${this.binDatetime(a, unit, EPOCH_OFFSET_MS)} - ${this.binDatetime(b, unit, EPOCH_OFFSET_MS)}) / ${this.p(unit, 'long')})`;
    switch (part) {
      case 'year':
        return `(${y(a)} - ${y(b)})`;
      case 'quarter':
        return `((${y(a)} * 4 + (${m(a)} - 1) / 3) - (${y(b)} * 4 + (${m(b)} - 1) / 3))`;
      case 'month':
        return `((${y(a)} * 12 + ${m(a)}) - (${y(b)} * 12 + ${m(b)}))`;
      case 'week':
        return `((${this.binDatetime(a, WEEK_MS, EPOCH_OFFSET_MS + DAY_MS)} - ${this.binDatetime(b, WEEK_MS, EPOCH_OFFSET_MS + DAY_MS)}) / ${this.p(WEEK_MS, 'long')})`;
      case 'day':
        return unitDiff(DAY_MS);
      case 'hour':
        return unitDiff(3600000);
      case 'minute':
        return unitDiff(60000);
      case 'second':
        return unitDiff(1000);
      case 'millisecond':
        return `(${a} - ${b})`;
      case 'microsecond':
        return `((${a} - ${b}) * 1000)`;
      case 'nanosecond':
        return `((${a} - ${b}) * 1000000)`;
      default:
        throw new KqlError('UnsupportedError', `datetime_diff part '${part}' is not supported`);
    }
  }
}

/** Column names a scalar reads from its row (not descending into tabular subqueries). */
function refs(e: Scalar, out: Set<string>, types?: Map<string, KType>): Set<string> {
  const r = (x: Scalar) => refs(x, out, types);
  switch (e.kind) {
    case 'column':
      out.add(e.name);
      types?.set(e.name, e.type);
      break;
    case 'binary':
      r(e.left);
      r(e.right);
      break;
    case 'unary':
      r(e.operand);
      break;
    case 'in':
      r(e.operand);
      if (Array.isArray(e.values)) e.values.forEach(r);
      break;
    case 'between':
      [e.operand, e.low, e.high].forEach(r);
      break;
    case 'call':
      e.args.forEach(r);
      break;
    case 'member':
      r(e.target);
      break;
    default:
      break;
  }
  return out;
}

/**
 * Required-columns pass: for each pipe node, which of its output columns later operators read, so
 * subqueries that cannot be flattened (arg_max groups, wrapped levels) carry only those.
 */
function analyzeNeeds(t: Tabular, req: Set<string>, map: Map<Tabular, Set<string>>): void {
  map.set(t, req);
  if (t.kind !== 'pipe') return;
  const op = t.op;
  const inputNames = t.input.columns.map((c) => c.name);
  let need: Set<string>;
  switch (op.op) {
    case 'where':
      need = refs(op.predicate, new Set(req));
      break;
    case 'project':
      need = new Set();
      for (const i of op.items) if (req.has(i.name)) refs(i.expr, need);
      break;
    case 'extend':
      need = new Set(req);
      for (const i of [...op.items].reverse()) {
        if (need.has(i.name)) {
          need.delete(i.name);
          refs(i.expr, need);
        }
      }
      break;
    case 'project-away':
    case 'take':
    case 'render':
      need = new Set(req);
      break;
    case 'project-rename':
      need = new Set(req);
      for (const r of op.renames) need.delete(r.to);
      for (const r of op.renames) if (req.has(r.to)) need.add(r.from);
      break;
    case 'summarize':
      need = new Set();
      op.by.forEach((b) => refs(b.expr, need));
      for (const i of op.items) {
        if (i.kind === 'agg') {
          if (req.has(i.name)) refs(i.expr, need);
        } else {
          refs(i.by.expr, need);
          i.outputs.forEach((o) => req.has(o.name) && refs(o.expr, need));
        }
      }
      break;
    case 'distinct':
      need = new Set();
      op.items.forEach((i) => refs(i.expr, need));
      break;
    case 'count':
      need = new Set();
      break;
    case 'parse': {
      const parsed = new Set(op.parts.flatMap((p) => ('column' in p ? [p.column] : [])));
      need = refs(op.source, new Set([...req].filter((n) => !parsed.has(n))));
      break;
    }
    case 'sort':
      need = new Set(req);
      op.keys.forEach((k) => refs(k.expr, need));
      break;
    case 'top':
      need = refs(op.key.expr, new Set(req));
      break;
    default:
      need = new Set(inputNames);
  }
  analyzeNeeds(t.input, new Set(inputNames.filter((n) => need.has(n))), map);
}

/** Whether the expression calls a function whose name is in `names` (at any depth). */
function callsAny(e: Scalar, names: ReadonlySet<string>): boolean {
  const any = (x: Scalar) => callsAny(x, names);
  switch (e.kind) {
    case 'call':
      return names.has(e.name) || e.args.some(any);
    case 'binary':
      return any(e.left) || any(e.right);
    case 'unary':
      return any(e.operand);
    case 'in':
      return any(e.operand) || (Array.isArray(e.values) && e.values.some(any));
    case 'between':
      return [e.operand, e.low, e.high].some(any);
    case 'member':
      return any(e.target);
    default:
      return false;
  }
}

const MIN_MAX = new Set(['min', 'max']);
const mentionsMinMax = (e: Scalar): boolean => callsAny(e, MIN_MAX);
const usesWindow = (e: Scalar): boolean => callsAny(e, WINDOW_FUNCTIONS);

/** Compile a checked AST (see `checkSubset`) into one SQL SELECT for the given dialect. */
export function compileKql(query: Query, opts: CompileOptions): CompiledQuery {
  return new Compiler(query, opts).compile();
}
