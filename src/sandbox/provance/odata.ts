/**
 * The OData query options the Provance sandbox understands — `$select`, `$filter` (eq ne gt ge lt le,
 * and or not, parentheses, contains/startswith/endswith), `$orderby`, `$top` — compiled to SQLite with
 * bound parameters, plus Dataverse's error body `{"error":{"code","message"}}`.
 */
import type { AttrDef, EntityMeta } from './schema.ts';
import { propertyMap } from './schema.ts';

/** An error answered with Dataverse's body `{"error":{"code","message"}}`. */
export class DvError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

/** Dataverse error codes the sandbox uses (names from the Dataverse web service error code list). */
export const CODE = {
  syntax: '0x80060888',
  propertyNotFound: '0x0',
  recordNotFound: '0x80040217',
  resourceNotFound: '0x8006088a',
  invalidArgument: '0x80040203',
  outOfRange: '0x8004431a',
  tooLong: '0x80044331',
  duplicate: '0x80040237',
  requests: '0x80072322',
  concurrency: '0x80072326',
  notSupported: '0x8004d2a8',
} as const;

export const propertyNotFound = (meta: EntityMeta, name: string): DvError =>
  new DvError(400, CODE.propertyNotFound, `Could not find a property named '${name}' on type 'Microsoft.Dynamics.CRM.${meta.logical}'.`);

export interface SqlPart {
  sql: string;
  params: unknown[];
}

/** Column(s) a Web API property is stored in. */
export function columnOf(a: AttrDef): string {
  return a.name;
}

export function quote(ident: string): string {
  return `"${ident.replace(/"/g, '""')}"`;
}

// ------------------------------------------------------------------ literals

const GUID = /^\{?([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})\}?$/;
const DATE_TIME = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?)?$/;

export function normaliseGuid(text: string): string | undefined {
  const m = GUID.exec(text.trim());
  return m ? m[1].toLowerCase() : undefined;
}

/** Any ISO 8601 date/time → the stored form `yyyy-MM-ddTHH:mm:ssZ` (UTC, seconds). */
export function normaliseDate(text: string): string | undefined {
  if (!DATE_TIME.test(text)) return undefined;
  const withZone = text.length === 10 ? `${text}T00:00:00Z` : /Z|[+-]\d{2}:\d{2}$/.test(text) ? text : `${text}Z`;
  const ms = Date.parse(withZone);
  return Number.isFinite(ms) ? isoSeconds(ms) : undefined;
}

export function isoSeconds(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

// ------------------------------------------------------------------ $filter

type Token = { kind: 'word' | 'string' | 'punct'; text: string; pos: number };

function tokenize(src: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const ch = src[i];
    if (ch === ' ' || ch === '\t') {
      i++;
    } else if (ch === '(' || ch === ')' || ch === ',') {
      out.push({ kind: 'punct', text: ch, pos: i });
      i++;
    } else if (ch === "'") {
      let j = i + 1;
      let s = '';
      for (;;) {
        if (j >= src.length) throw syntax(src, i, 'unterminated string literal');
        if (src[j] === "'") {
          if (src[j + 1] === "'") {
            s += "'";
            j += 2;
            continue;
          }
          break;
        }
        s += src[j++];
      }
      out.push({ kind: 'string', text: s, pos: i });
      i = j + 1;
    } else {
      let j = i;
      while (j < src.length && !" \t(),'".includes(src[j])) j++;
      out.push({ kind: 'word', text: src.slice(i, j), pos: i });
      i = j;
    }
  }
  return out;
}

function syntax(src: string, pos: number, what: string): DvError {
  return new DvError(400, CODE.syntax, `Syntax error at position ${pos} in '${src}': ${what}.`);
}

const COMPARISON: Record<string, string> = { eq: '=', ne: '<>', gt: '>', ge: '>=', lt: '<', le: '<=' };
const FUNCTIONS = new Set(['contains', 'startswith', 'endswith']);

class FilterCompiler {
  private i = 0;
  private readonly params: unknown[] = [];
  private readonly props: Map<string, AttrDef>;

  constructor(
    private readonly src: string,
    private readonly tokens: Token[],
    private readonly meta: EntityMeta,
  ) {
    this.props = propertyMap(meta);
  }

  compile(): SqlPart {
    const sql = this.or();
    if (this.i < this.tokens.length) throw syntax(this.src, this.tokens[this.i].pos, `unexpected '${this.tokens[this.i].text}'`);
    return { sql, params: this.params };
  }

  private peek(): Token | undefined {
    return this.tokens[this.i];
  }

  private next(what: string): Token {
    const t = this.tokens[this.i++];
    if (!t) throw syntax(this.src, this.src.length, `expected ${what}`);
    return t;
  }

  private expect(text: string): void {
    const t = this.next(`'${text}'`);
    if (t.text !== text || t.kind === 'string') throw syntax(this.src, t.pos, `expected '${text}'`);
  }

  private or(): string {
    let left = this.and();
    while (this.peek()?.kind === 'word' && this.peek()!.text === 'or') {
      this.i++;
      left = `(${left} OR ${this.and()})`;
    }
    return left;
  }

  private and(): string {
    let left = this.not();
    while (this.peek()?.kind === 'word' && this.peek()!.text === 'and') {
      this.i++;
      left = `(${left} AND ${this.not()})`;
    }
    return left;
  }

  private not(): string {
    const t = this.peek();
    if (t?.kind === 'word' && t.text === 'not') {
      this.i++;
      return `(NOT ${this.not()})`;
    }
    return this.primary();
  }

  private primary(): string {
    const t = this.next('an expression');
    if (t.kind === 'punct' && t.text === '(') {
      const inner = this.or();
      this.expect(')');
      return `(${inner})`;
    }
    if (t.kind !== 'word') throw syntax(this.src, t.pos, `unexpected '${t.text}'`);
    if (FUNCTIONS.has(t.text) && this.peek()?.text === '(') return this.func(t.text);
    const attr = this.property(t);
    const op = this.next('a comparison operator');
    const sqlOp = COMPARISON[op.text];
    if (!sqlOp || op.kind !== 'word') throw syntax(this.src, op.pos, `unknown operator '${op.text}'`);
    const value = this.literal(attr);
    const col = quote(columnOf(attr));
    if (value === null) {
      if (op.text === 'eq') return `${col} IS NULL`;
      if (op.text === 'ne') return `${col} IS NOT NULL`;
      throw syntax(this.src, op.pos, `null can only be compared with eq or ne`);
    }
    this.params.push(value);
    return op.text === 'ne' ? `(${col} <> ? OR ${col} IS NULL)` : `${col} ${sqlOp} ?`;
  }

  private func(name: string): string {
    this.expect('(');
    const attr = this.property(this.next('a property name'));
    this.expect(',');
    const lit = this.next('a string literal');
    if (lit.kind !== 'string') throw syntax(this.src, lit.pos, `${name} needs a string literal`);
    this.expect(')');
    if (attr.type !== 'String' && attr.type !== 'Memo') {
      throw new DvError(400, CODE.syntax, `The '${name}' function needs a string property; '${attr.name}' is ${attr.type}.`);
    }
    const escaped = lit.text.replace(/[\\%_]/g, (c) => `\\${c}`);
    this.params.push(name === 'contains' ? `%${escaped}%` : name === 'startswith' ? `${escaped}%` : `%${escaped}`);
    return `${quote(columnOf(attr))} LIKE ? ESCAPE '\\'`;
  }

  private property(t: Token): AttrDef {
    if (t.kind !== 'word') throw syntax(this.src, t.pos, 'expected a property name');
    const a = this.props.get(t.text);
    if (!a) throw propertyNotFound(this.meta, t.text);
    return a;
  }

  private literal(attr: AttrDef): unknown {
    const t = this.next('a literal');
    if (t.kind === 'word' && t.text === 'null') return null;
    switch (attr.type) {
      case 'String':
      case 'Memo':
        if (t.kind !== 'string') throw this.typeError(attr, t);
        return t.text;
      case 'Uniqueidentifier':
      case 'Lookup': {
        const g = t.kind === 'word' ? normaliseGuid(t.text) : undefined;
        if (!g) throw this.typeError(attr, t);
        return g;
      }
      case 'DateTime': {
        const d = t.kind === 'word' ? normaliseDate(t.text) : undefined;
        if (!d) throw this.typeError(attr, t);
        return d;
      }
      case 'Boolean':
        if (t.kind !== 'word' || (t.text !== 'true' && t.text !== 'false')) throw this.typeError(attr, t);
        return t.text === 'true' ? 1 : 0;
      default: {
        const n = t.kind === 'word' && /^-?\d+$/.test(t.text) ? Number(t.text) : NaN;
        if (!Number.isSafeInteger(n)) throw this.typeError(attr, t);
        return n;
      }
    }
  }

  private typeError(attr: AttrDef, t: Token): DvError {
    return new DvError(
      400,
      CODE.syntax,
      `A binary operator with incompatible types was detected. Found operand types for '${attr.name}' (${attr.type}) and literal '${t.text}' at position ${t.pos}.`,
    );
  }
}

export function compileFilter(meta: EntityMeta, filter: string | undefined): SqlPart {
  if (filter === undefined || filter.trim() === '') return { sql: '1=1', params: [] };
  return new FilterCompiler(filter, tokenize(filter), meta).compile();
}

// ------------------------------------------------------------------ $orderby / $select / $top

export interface OrderKey {
  column: string;
  desc: boolean;
}

/** `$orderby=a desc,b` → keys, always ending with the primary id (stable paging, as Dataverse does). */
export function parseOrderBy(meta: EntityMeta, orderby: string | undefined): OrderKey[] {
  const props = propertyMap(meta);
  const keys: OrderKey[] = [];
  for (const part of (orderby ?? '').split(',')) {
    const words = part.trim().split(/\s+/).filter(Boolean);
    if (words.length === 0) continue;
    const a = props.get(words[0]);
    if (!a) throw propertyNotFound(meta, words[0]);
    const dir = (words[1] ?? 'asc').toLowerCase();
    if (words.length > 2 || (dir !== 'asc' && dir !== 'desc'))
      throw new DvError(400, CODE.syntax, `Syntax error in $orderby '${orderby}': expected 'property [asc|desc]'.`);
    keys.push({ column: columnOf(a), desc: dir === 'desc' });
  }
  if (!keys.some((k) => k.column === meta.primaryId)) keys.push({ column: meta.primaryId, desc: false });
  return keys;
}

/** `$select` → the attributes to return (all when absent); the primary id is always returned. */
export function parseSelect(meta: EntityMeta, select: string | undefined): AttrDef[] {
  if (select === undefined || select.trim() === '') return [...meta.attrs];
  const props = propertyMap(meta);
  const out = new Map<string, AttrDef>();
  for (const name of select
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const a = props.get(name);
    if (!a) throw propertyNotFound(meta, name);
    out.set(a.name, a);
  }
  const id = meta.attr.get(meta.primaryId)!;
  out.set(id.name, id);
  return [...out.values()];
}

export function parseTop(top: string | undefined): number | undefined {
  if (top === undefined) return undefined;
  const n = Number(top);
  if (!/^\d+$/.test(top) || !Number.isSafeInteger(n))
    throw new DvError(400, CODE.syntax, `Invalid value '${top}' for $top query option found. The $top query option requires a non-negative integer value.`);
  return n;
}

/** SQL for "after this row" in keyset order (NULLs sort first ascending and last descending, as in SQLite). */
export function keysetAfter(keys: OrderKey[], last: unknown[]): SqlPart {
  const params: unknown[] = [];
  const branch = (i: number): string => {
    const { column, desc } = keys[i];
    const c = quote(column);
    const v = last[i];
    let after: string;
    if (v === null || v === undefined) after = desc ? '0' : `${c} IS NOT NULL`;
    else {
      after = desc ? `(${c} < ? OR ${c} IS NULL)` : `${c} > ?`;
      params.push(v);
    }
    if (i === keys.length - 1) return after;
    let same: string;
    if (v === null || v === undefined) same = `${c} IS NULL`;
    else {
      same = `${c} = ?`;
      params.push(v);
    }
    return `(${after} OR (${same} AND ${branch(i + 1)}))`;
  };
  return { sql: branch(0), params };
}
