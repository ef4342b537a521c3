/**
 * Encoded query (`sysparm_query`) parser and its translation into SQL over the sandbox's typed columns
 * (partner-apis.md §1.3). `^` AND, `^OR` OR with the neighbouring condition, `^NQ` a new OR'd group,
 * `ORDERBY`/`ORDERBYDESC` anywhere, `^^` a literal caret. Conditions on unknown fields are dropped, as a
 * real instance does, unless `invalidQueryReturnsNoRows` (glide.invalid_query.returns_no_rows) is set.
 */
import type { FieldDef, TableMeta } from './schema.ts';
import { isVirtual } from './schema.ts';
import { parseSnDate, parseSnDateTime, snDateTime } from './time.ts';

export interface Condition {
  field: string;
  op: string;
  value: string;
}

export interface OrderTerm {
  field: string;
  desc: boolean;
}

/** groups[g][t][c]: groups are OR'd (^NQ), terms within a group AND'd (^), conditions within a term OR'd (^OR). */
export interface ParsedQuery {
  groups: Condition[][][];
  orderBy: OrderTerm[];
}

const OPERATORS = [
  'ISNOTEMPTY',
  'ISEMPTY',
  'ANYTHING',
  'EMPTYSTRING',
  'NOT LIKE',
  'NOTLIKE',
  'NOT IN',
  'NOTIN',
  'INSTANCEOF',
  'STARTSWITH',
  'ENDSWITH',
  'LIKE',
  'BETWEEN',
  'NOTON',
  'NSAMEAS',
  'SAMEAS',
  'DYNAMIC',
  'VALCHANGES',
  'CHANGESFROM',
  'CHANGESTO',
  'DATEPART',
  'RELATIVEGT',
  'RELATIVELT',
  'RELATIVEGE',
  'RELATIVELE',
  'RELATIVEEE',
  'MORETHAN',
  'LESSTHAN',
  'IN',
  'ON',
  '>=',
  '<=',
  '!=',
  '>',
  '<',
  '=',
];

/** Splits on `^`, keeping `^^` as a literal caret. */
function splitCarets(q: string): string[] {
  const out: string[] = [];
  let cur = '';
  for (let i = 0; i < q.length; i++) {
    const ch = q[i];
    if (ch === '^') {
      if (q[i + 1] === '^') {
        cur += '^';
        i++;
        continue;
      }
      out.push(cur);
      cur = '';
      continue;
    }
    cur += ch;
  }
  out.push(cur);
  return out;
}

export function parseCondition(text: string): Condition | null {
  const m = /^[a-z0-9_.$]+/.exec(text);
  if (!m) return null;
  const field = m[0];
  const rest = text.slice(field.length);
  for (const op of OPERATORS) {
    if (rest.startsWith(op)) {
      const norm = op === 'NOTLIKE' ? 'NOT LIKE' : op === 'NOTIN' ? 'NOT IN' : op;
      return { field, op: norm, value: rest.slice(op.length) };
    }
  }
  return null;
}

export function parseEncodedQuery(q: string | undefined): ParsedQuery {
  const groups: Condition[][][] = [[]];
  const orderBy: OrderTerm[] = [];
  if (!q) return { groups: [], orderBy };
  let text = q;
  if (text.startsWith('GOTO')) text = text.slice(4);
  for (let token of splitCarets(text)) {
    if (token.startsWith('NQ')) {
      groups.push([]);
      token = token.slice(2);
    }
    if (token === '' || token === 'EQ') continue;
    if (token.startsWith('ORDERBYDESC')) {
      orderBy.push({ field: token.slice(11), desc: true });
      continue;
    }
    if (token.startsWith('ORDERBY')) {
      orderBy.push({ field: token.slice(7), desc: false });
      continue;
    }
    if (token.startsWith('GROUPBY') || token.startsWith('RLQUERY') || token.startsWith('ENDRLQUERY')) continue;
    const group = groups[groups.length - 1];
    if (token.startsWith('OR')) {
      const c = parseCondition(token.slice(2));
      const cond = c ?? { field: token.slice(2), op: '?', value: '' };
      if (group.length === 0) group.push([cond]);
      else group[group.length - 1].push(cond);
      continue;
    }
    const c = parseCondition(token);
    group.push([c ?? { field: token, op: '?', value: '' }]);
  }
  return { groups: groups.filter((g) => g.length > 0), orderBy };
}

export interface CompileContext {
  metas: Map<string, TableMeta>;
  userSysId: string;
  userName: string;
  nowMs: number;
  invalidQueryReturnsNoRows: boolean;
}

export interface CompiledQuery {
  /** SQL boolean expression (never empty; "1" when unrestricted). */
  where: string;
  params: unknown[];
  /** `ORDER BY …` clause or "". */
  orderBy: string;
  /** Columns of the ORDER BY, in order. */
  orderColumns: string[];
  /** The query can match nothing (invalid field with returns_no_rows). */
  noRows: boolean;
  /** Set when the query is (the start of) a keyset walk; lets X-Total-Count be derived from the previous page. */
  keyset?: Keyset;
}

interface Piece {
  sql: string;
  params: unknown[];
  /** For the keyset bound: a plain comparison on a stored column of the base table. */
  column?: string;
  op?: string;
  value?: unknown;
}

const DROP = Symbol('drop');
const INVALID = Symbol('invalid');
type Result = Piece | typeof DROP | typeof INVALID;

export function quoteIdent(name: string): string {
  return '"' + name.replace(/"/g, '""') + '"';
}

/** `"sys_class_name" IN (…)` for a class stored in a shared table, or "" when it covers the whole table. */
export function classFilter(meta: TableMeta, metas: Map<string, TableMeta>, alias = ''): string {
  if (!meta.hierarchical) return '';
  if (meta.name === meta.root) return '';
  void metas;
  return `${alias}"sys_class_name" IN (${meta.classes.map((c) => `'${c}'`).join(',')})`;
}

function escapeLike(v: string): string {
  return v.replace(/[\\%_]/g, (c) => '\\' + c);
}

function startOfUtcDay(ms: number): number {
  const d = new Date(ms);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate());
}

/** Evaluates the supported `javascript:gs.*` values. undefined = unsupported (the condition is dropped). */
export function evalJavascript(value: string, ctx: CompileContext): string | undefined {
  const m = /^javascript\s*:\s*gs\.(\w+)\s*\(([^)]*)\)\s*;?\s*$/.exec(value.trim());
  if (!m) return undefined;
  const fn = m[1];
  const args = m[2]
    .split(',')
    .map((a) => a.trim().replace(/^['"]|['"]$/g, ''))
    .filter((a) => a !== '');
  const n = args.length > 0 ? Number(args[0]) : 0;
  const day = 86_400_000;
  const today = startOfUtcDay(ctx.nowMs);
  switch (fn) {
    case 'getUserID':
      return ctx.userSysId;
    case 'getUserName':
      return ctx.userName;
    case 'now':
    case 'nowDateTime':
      return snDateTime(ctx.nowMs);
    case 'daysAgo':
      return snDateTime(ctx.nowMs - n * day);
    case 'daysAgoStart':
      return snDateTime(today - n * day);
    case 'daysAgoEnd':
      return snDateTime(today - n * day + day - 1000);
    case 'hoursAgo':
      return snDateTime(ctx.nowMs - n * 3_600_000);
    case 'hoursAgoStart':
      return snDateTime(Math.floor((ctx.nowMs - n * 3_600_000) / 3_600_000) * 3_600_000);
    case 'hoursAgoEnd':
      return snDateTime(Math.floor((ctx.nowMs - n * 3_600_000) / 3_600_000) * 3_600_000 + 3_599_000);
    case 'minutesAgo':
      return snDateTime(ctx.nowMs - n * 60_000);
    case 'beginningOfToday':
      return snDateTime(today);
    case 'endOfToday':
      return snDateTime(today + day - 1000);
    case 'beginningOfYesterday':
      return snDateTime(today - day);
    case 'endOfYesterday':
      return snDateTime(today - 1000);
    case 'dateGenerate': {
      const d = args[0];
      let t = args[1] ?? '00:00:00';
      if (t === 'start') t = '00:00:00';
      if (t === 'end') t = '23:59:59';
      return parseSnDateTime(`${d} ${t}`) ?? undefined;
    }
    default:
      return undefined;
  }
}

function convert(fd: FieldDef, v: string): unknown {
  switch (fd.type) {
    case 'boolean':
      if (v === 'true' || v === '1') return 1;
      if (v === 'false' || v === '0') return 0;
      return v;
    case 'integer':
      return /^-?\d+$/.test(v) ? Number(v) : v;
    case 'decimal':
      return v.trim() !== '' && !Number.isNaN(Number(v)) ? Number(v) : v;
    case 'datetime':
      return parseSnDateTime(v) ?? v;
    case 'date':
      return parseSnDate(v) ?? v;
    default:
      if (fd.intChoice) return /^-?\d+$/.test(v) ? Number(v) : v;
      return v;
  }
}

class Compiler {
  constructor(private readonly ctx: CompileContext) {}

  /** SQL for a field of `meta` referenced by name; null when unknown or not queryable. */
  private column(meta: TableMeta, name: string, alias: string): { sql: string; fd: FieldDef } | null {
    const fd = meta.fieldMap.get(name);
    if (!fd) return null;
    if (isVirtual(fd, meta)) {
      if (fd.name === 'sys_class_name') return { sql: `'${meta.name}'`, fd };
      if (fd.name === 'task_effective_number') return { sql: `${alias}"number"`, fd };
      if (fd.name === 'sys_tags') return { sql: 'NULL', fd };
      return null;
    }
    return { sql: alias + quoteIdent(fd.name), fd };
  }

  private value(v: string): string | undefined {
    if (v.startsWith('javascript')) return evalJavascript(v, this.ctx);
    return v;
  }

  condition(meta: TableMeta, c: Condition, alias: string, depth = 0): Result {
    if (c.op === '?') return INVALID;
    const dot = c.field.indexOf('.');
    if (dot > 0) {
      const head = c.field.slice(0, dot);
      const col = this.column(meta, head, alias);
      if (!col) return INVALID;
      if (col.fd.type !== 'reference' || !col.fd.ref) return INVALID;
      const target = this.ctx.metas.get(col.fd.ref);
      if (!target || depth > 4) return INVALID;
      const sub = this.condition(target, { ...c, field: c.field.slice(dot + 1) }, `t${depth}.`, depth + 1);
      if (sub === DROP || sub === INVALID) return sub;
      const cf = classFilter(target, this.ctx.metas, `t${depth}.`);
      const where = cf ? `${cf} AND (${sub.sql})` : sub.sql;
      return {
        sql: `${col.sql} IN (SELECT t${depth}."sys_id" FROM ${quoteIdent(target.physical)} t${depth} WHERE ${where})`,
        params: sub.params,
      };
    }
    const col = this.column(meta, c.field, alias);
    if (!col) return INVALID;
    const { sql: C, fd } = col;
    const op = c.op;
    switch (op) {
      case 'ISEMPTY':
        return { sql: `(${C} IS NULL OR ${C} = '')`, params: [] };
      case 'ISNOTEMPTY':
        return { sql: `(${C} IS NOT NULL AND ${C} != '')`, params: [] };
      case 'ANYTHING':
        return { sql: '1', params: [] };
      case 'EMPTYSTRING':
        return { sql: `${C} = ''`, params: [] };
      case 'LIKE':
      case 'NOT LIKE':
      case 'STARTSWITH':
      case 'ENDSWITH': {
        const v = this.value(c.value);
        if (v === undefined) return DROP;
        const e = escapeLike(v);
        const pattern = op === 'STARTSWITH' ? `${e}%` : op === 'ENDSWITH' ? `%${e}` : `%${e}%`;
        const not = op === 'NOT LIKE' ? 'NOT ' : '';
        return { sql: `${C} ${not}LIKE ? ESCAPE '\\'`, params: [pattern] };
      }
      case 'IN':
      case 'NOT IN': {
        const parts = c.value === '' ? [] : c.value.split(',');
        const vals: unknown[] = [];
        for (const p of parts) {
          const v = this.value(p.trim());
          if (v === undefined) continue;
          vals.push(convert(fd, v));
        }
        if (vals.length === 0) return { sql: op === 'IN' ? '0' : '1', params: [] };
        const ph = vals.map(() => '?').join(',');
        return { sql: `${C} ${op === 'IN' ? 'IN' : 'NOT IN'} (${ph})`, params: vals };
      }
      case 'INSTANCEOF': {
        if (fd.name !== 'sys_class_name') return DROP;
        const target = this.ctx.metas.get(c.value);
        if (!target) return { sql: '0', params: [] };
        return { sql: `${C} IN (${target.classes.map((x) => `'${x}'`).join(',')})`, params: [] };
      }
      case 'BETWEEN': {
        const [a, b] = c.value.split('@');
        const va = a === undefined ? undefined : this.value(a);
        const vb = b === undefined ? undefined : this.value(b);
        if (va === undefined || vb === undefined) return DROP;
        return { sql: `${C} BETWEEN ? AND ?`, params: [convert(fd, va), convert(fd, vb)] };
      }
      case 'ON':
      case 'NOTON': {
        const parts = c.value.split('@');
        if (parts.length < 3) return DROP;
        const va = this.value(parts[1]);
        const vb = this.value(parts[2]);
        if (va === undefined || vb === undefined) return DROP;
        const not = op === 'NOTON' ? 'NOT ' : '';
        return { sql: `${C} ${not}BETWEEN ? AND ?`, params: [convert(fd, va), convert(fd, vb)] };
      }
      case 'SAMEAS':
      case 'NSAMEAS': {
        const other = this.column(meta, c.value, alias);
        if (!other) return DROP;
        return { sql: `${C} ${op === 'SAMEAS' ? '=' : '!='} ${other.sql}`, params: [] };
      }
      case '=':
      case '!=':
      case '>':
      case '>=':
      case '<':
      case '<=': {
        const raw = this.value(c.value);
        if (raw === undefined) return DROP;
        if (raw === '' && (op === '=' || op === '!=')) {
          return { sql: op === '=' ? `(${C} IS NULL OR ${C} = '')` : `(${C} IS NOT NULL AND ${C} != '')`, params: [] };
        }
        const v = convert(fd, raw);
        return { sql: `${C} ${op} ?`, params: [v], column: alias === '' ? fd.name : undefined, op, value: v };
      }
      default:
        return DROP;
    }
  }
}

function boundOf(pieces: Piece[][], column: string, asc: boolean): unknown {
  let best: unknown = undefined;
  for (const group of pieces) {
    let groupBound: unknown = undefined;
    for (const p of group) {
      if (p.column !== column || p.value === undefined) continue;
      const ok = asc ? p.op === '>' || p.op === '>=' || p.op === '=' : p.op === '<' || p.op === '<=' || p.op === '=';
      if (!ok) continue;
      if (groupBound === undefined) groupBound = p.value;
      else if (typeof groupBound === typeof p.value) {
        groupBound = asc ? (p.value! > groupBound! ? p.value : groupBound) : p.value! < groupBound! ? p.value : groupBound;
      }
    }
    if (groupBound === undefined) return undefined;
    if (best === undefined) best = groupBound;
    else if (typeof best !== typeof groupBound) return undefined;
    else best = asc ? (groupBound! < best! ? groupBound : best) : groupBound! > best! ? groupBound : best;
  }
  return best;
}

export function compileQuery(meta: TableMeta, parsed: ParsedQuery, ctx: CompileContext): CompiledQuery {
  const compiler = new Compiler(ctx);
  let noRows = false;
  /** Per group: its terms, each a SQL snippet with params; `piece` set when the term is one plain condition. */
  const groups: { sql: string; params: unknown[]; piece?: Piece }[][] = [];
  let unrestrictedGroup = false;
  for (const group of parsed.groups) {
    const terms: { sql: string; params: unknown[]; piece?: Piece }[] = [];
    for (const term of group) {
      const ors: Piece[] = [];
      for (const c of term) {
        const r = compiler.condition(meta, c, '');
        if (r === INVALID) {
          if (ctx.invalidQueryReturnsNoRows) noRows = true;
          continue;
        }
        if (r === DROP) continue;
        ors.push(r);
      }
      if (ors.length === 0) continue;
      if (ors.length === 1) terms.push({ sql: ors[0].sql, params: ors[0].params, piece: ors[0] });
      else terms.push({ sql: '(' + ors.map((o) => o.sql).join(' OR ') + ')', params: ors.flatMap((o) => o.params) });
    }
    if (terms.length === 0) {
      unrestrictedGroup = true;
      continue;
    }
    groups.push(terms);
  }

  const order: string[] = [];
  const orderCols: { name: string; desc: boolean }[] = [];
  for (const o of parsed.orderBy) {
    const fd = meta.fieldMap.get(o.field);
    if (!fd || isVirtual(fd, meta)) continue;
    if (orderCols.some((x) => x.name === fd.name)) continue;
    orderCols.push({ name: fd.name, desc: o.desc });
    order.push(`${quoteIdent(fd.name)} ${o.desc ? 'DESC' : 'ASC'}`);
  }
  const orderBy = order.length ? 'ORDER BY ' + order.join(', ') : '';
  const cf = classFilter(meta, ctx.metas);
  const finish = (where: string, params: unknown[], keyset?: Keyset): CompiledQuery => {
    if (cf) where = where === '1' ? cf : `${cf} AND (${where})`;
    return { where, params, orderBy, orderColumns: orderCols.map((c) => c.name), noRows, keyset };
  };
  const and = (terms: { sql: string; params: unknown[] }[]): { sql: string; params: unknown[] } => ({
    sql: terms.length ? terms.map((t) => t.sql).join(' AND ') : '1',
    params: terms.flatMap((t) => t.params),
  });

  if (unrestrictedGroup || groups.length === 0) return finish('1', []);
  if (groups.length === 1) {
    const g = and(groups[0]);
    // A first page of a keyset walk: `c1>=X` (plus other terms) ordered by c1 — remember it as the start of a chain.
    let keyset: Keyset | undefined;
    if (orderCols.length > 0) {
      const c1 = orderCols[0];
      const i = groups[0].findIndex(
        (t) => t.piece?.column === c1.name && (c1.desc ? t.piece.op === '<=' || t.piece.op === '<' : t.piece.op === '>=' || t.piece.op === '>'),
      );
      if (i >= 0) {
        const rest = and(groups[0].filter((_, k) => k !== i));
        keyset = { family: family(meta, rest, orderBy), columns: [], values: [] };
      }
    }
    return finish(g.sql, g.params, keyset);
  }

  // Several ^NQ groups. Recognise the lexicographic keyset `(c1,…,ck) > (v1,…,vk)` (with conditions
  // common to every group) and turn it into a row-value range, which SQLite walks on the (c1,…,ck) index.
  const ks = recogniseKeyset(groups, orderCols);
  if (ks) {
    const common = and(ks.common);
    const sameDir = ks.columns.every((_, i) => orderCols[i].desc === orderCols[0].desc);
    if (sameDir) {
      const cols = ks.columns.map(quoteIdent).join(', ');
      const cmp = `(${cols}) ${orderCols[0].desc ? '<' : '>'} (${ks.values.map(() => '?').join(', ')})`;
      const where = ks.common.length ? `${common.sql} AND ${cmp}` : cmp;
      return finish(where, [...common.params, ...ks.values], { family: family(meta, common, orderBy), columns: ks.columns, values: ks.values });
    }
  }
  const params: unknown[] = [];
  const parts: string[] = [];
  for (const g of groups) {
    const x = and(g);
    parts.push(`(${x.sql})`);
    params.push(...x.params);
  }
  let where = parts.join(' OR ');
  // Otherwise add the bound every group implies on the first ORDER BY column, so SQLite can still
  // range-scan that index in order instead of sorting the whole union.
  if (orderCols.length > 0) {
    const first = orderCols[0];
    const bound = boundOf(
      groups.map((g) => g.filter((t) => t.piece).map((t) => t.piece!)),
      first.name,
      !first.desc,
    );
    if (bound !== undefined) {
      where = `(${where}) AND ${quoteIdent(first.name)} ${first.desc ? '<=' : '>='} ?`;
      params.push(bound);
    }
  }
  return finish(where, params);
}

/** A keyset page: rows after `values` (in ORDER BY order) within the query family `family`. */
export interface Keyset {
  /** Identifies the query apart from the key (table, common conditions and their values, order). */
  family: string;
  /** Key columns (a prefix of the ORDER BY); empty for the first page of a walk. */
  columns: string[];
  values: unknown[];
}

function family(meta: TableMeta, common: { sql: string; params: unknown[] }, orderBy: string): string {
  return `${meta.name}\u0000${common.sql}\u0000${JSON.stringify(common.params)}\u0000${orderBy}`;
}

function recogniseKeyset(
  groups: { sql: string; params: unknown[]; piece?: Piece }[][],
  orderCols: { name: string; desc: boolean }[],
): { common: { sql: string; params: unknown[] }[]; columns: string[]; values: unknown[] } | undefined {
  const k = groups.length;
  if (k < 2 || orderCols.length < k) return undefined;
  const sig = (t: { sql: string; params: unknown[] }): string => t.sql + '\u0000' + JSON.stringify(t.params);
  const commonSigs = new Set(groups[0].map(sig));
  for (const g of groups.slice(1)) {
    const here = new Set(g.map(sig));
    for (const x of [...commonSigs]) if (!here.has(x)) commonSigs.delete(x);
  }
  const common = groups[0].filter((t) => commonSigs.has(sig(t)));
  const rest = groups.map((g) => g.filter((t) => !commonSigs.has(sig(t))));
  if (rest.some((g) => g.some((t) => !t.piece || !t.piece.column))) return undefined;
  const sorted = [...rest].sort((a, b) => a.length - b.length);
  const values: unknown[] = [];
  for (let j = 0; j < k; j++) {
    const g = sorted[j];
    if (g.length !== j + 1) return undefined;
    for (let i = 0; i <= j; i++) {
      const col = orderCols[i];
      const strict = col.desc ? '<' : '>';
      const want = i === j ? strict : '=';
      const t = g.find((x) => x.piece!.column === col.name && x.piece!.op === want);
      if (!t) return undefined;
      if (values[i] === undefined) values[i] = t.piece!.value;
      else if (values[i] !== t.piece!.value) return undefined;
    }
  }
  return { common, columns: orderCols.slice(0, k).map((c) => c.name), values };
}
