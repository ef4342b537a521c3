/**
 * `getsearchresults` ad-hoc filters (partner-apis.md §2.4): operators eq, gt, lt, contains, startswith;
 * filters on the same field are OR'ed, filters on different fields AND'ed; text compares ignore case
 * (SQL Server's default collation); date values are US local times in the server zone. Anything else is
 * refused with a message naming the filter.
 */
import { parseUsLocal } from '../../partners/cherwell/dates.ts';
import type { BusObDef, FieldDef } from './schema.ts';
import { resolveField } from './schema.ts';
import { fieldPath } from './store.ts';

export class SearchError extends Error {
  constructor(
    readonly errorCode: string,
    message: string,
  ) {
    super(message);
  }
}

export interface CompiledSearch {
  where: string;
  params: unknown[];
  orderBy: string;
}

const OPERATORS = new Set(['eq', 'gt', 'lt', 'contains', 'startswith']);

function likePrefix(text: string): string {
  return text.toLowerCase().replace(/[\\%_]/g, (c) => '\\' + c) + '%';
}

function condition(f: FieldDef, op: string, value: string, timeZone: string, where: string): { sql: string; param: unknown } {
  const col = fieldPath(f);
  if (f.type === 'DateTime') {
    if (op === 'contains' || op === 'startswith')
      throw new SearchError('INVALIDFILTER', `${where}: operator '${op}' does not apply to the date field ${f.name}`);
    const ms = parseUsLocal(value, timeZone);
    if (ms === null) throw new SearchError('INVALIDFILTER', `${where}: '${value}' is not a date/time (expected M/d/yyyy h:mm:ss tt)`);
    const cmp = op === 'eq' ? '=' : op === 'gt' ? '>' : '<';
    return { sql: `${col} ${cmp} ?`, param: ms };
  }
  const text = `IFNULL(CAST(${col} AS TEXT), '')`;
  switch (op) {
    case 'eq':
      return { sql: `${text} = ? COLLATE NOCASE`, param: value };
    case 'gt':
      return { sql: `${text} > ? COLLATE NOCASE`, param: value };
    case 'lt':
      return { sql: `${text} < ? COLLATE NOCASE`, param: value };
    case 'contains':
      return { sql: `instr(lower(${text}), ?) > 0`, param: value.toLowerCase() };
    default:
      return { sql: `lower(${text}) LIKE ? ESCAPE '\\'`, param: likePrefix(value) };
  }
}

export function compileSearch(bo: BusObDef, filters: unknown, sorting: unknown, timeZone: string): CompiledSearch {
  const groups = new Map<FieldDef, { sql: string; param: unknown }[]>();
  const list = filters === undefined || filters === null ? [] : filters;
  if (!Array.isArray(list)) throw new SearchError('INVALIDFILTER', 'filters must be an array of {fieldId, operator, value}');
  list.forEach((raw, i) => {
    const where = `filters[${i}]`;
    if (!raw || typeof raw !== 'object') throw new SearchError('INVALIDFILTER', `${where} must be an object`);
    const fi = raw as { fieldId?: unknown; operator?: unknown; value?: unknown };
    const f = typeof fi.fieldId === 'string' ? resolveField(bo, fi.fieldId, undefined) : undefined;
    if (!f) throw new SearchError('FIELDNOTFOUND', `${where}: field '${String(fi.fieldId ?? '')}' does not exist on ${bo.name}`);
    const op = typeof fi.operator === 'string' ? fi.operator.toLowerCase() : '';
    if (!OPERATORS.has(op)) {
      throw new SearchError('INVALIDFILTER', `${where}: unknown operator '${String(fi.operator ?? '')}' (use eq, gt, lt, contains or startswith)`);
    }
    const value = fi.value === null || fi.value === undefined ? '' : String(fi.value);
    const c = condition(f, op, value, timeZone, where);
    groups.set(f, [...(groups.get(f) ?? []), c]);
  });
  const params: unknown[] = [];
  const parts: string[] = [];
  for (const conds of groups.values()) {
    parts.push('(' + conds.map((c) => c.sql).join(' OR ') + ')');
    params.push(...conds.map((c) => c.param));
  }
  return { where: parts.join(' AND '), params, orderBy: compileSorting(bo, sorting) };
}

/** sortDirection 1 = ascending, 0 or -1 = descending [UNVERIFIED values]; ties keep insertion order. */
function compileSorting(bo: BusObDef, sorting: unknown): string {
  const keys: string[] = [];
  if (sorting !== undefined && sorting !== null && !Array.isArray(sorting))
    throw new SearchError('INVALIDSORT', 'sorting must be an array of {fieldId, sortDirection}');
  for (const [i, s] of ((sorting as unknown[] | null) ?? []).entries()) {
    const si = (s ?? {}) as { fieldId?: unknown; sortDirection?: unknown };
    const f = typeof si.fieldId === 'string' ? resolveField(bo, si.fieldId, undefined) : undefined;
    if (!f) throw new SearchError('FIELDNOTFOUND', `sorting[${i}]: field '${String(si.fieldId ?? '')}' does not exist on ${bo.name}`);
    keys.push(`${fieldPath(f)} ${Number(si.sortDirection) >= 1 ? 'ASC' : 'DESC'}`);
  }
  keys.push('seq ASC');
  return keys.join(', ');
}
