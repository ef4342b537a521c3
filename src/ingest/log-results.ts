/**
 * Log search results as embedded in log alerts (`SearchResults` in the common schema V1 alert context,
 * `SearchResult` in the legacy webhook): `{tables:[{name, columns:[{name,type}], rows:[[…]]}]}`.
 */
import type { LogRow } from '../core/alert.ts';
import { asRec, arr, isSafeKey, jsonText, MAX_VALUE_LENGTH, pick, text } from './json.ts';

/** Most rows kept from one payload (Azure caps payloads at 256 KB, so real alerts stay far below). */
export const MAX_ROWS = 5_000;

function cell(v: unknown): string | number | boolean | null {
  if (v === null || v === undefined) return null;
  if (typeof v === 'string') return v.length > MAX_VALUE_LENGTH ? v.slice(0, MAX_VALUE_LENGTH) : v;
  if (typeof v === 'number') return Number.isFinite(v) ? v : null;
  if (typeof v === 'boolean') return v;
  return jsonText(v) ?? null;
}

/**
 * Rows of the primary table (`PrimaryResult`, else the first table with columns). Column names matched to row
 * cells by position; unsafe or duplicate column names are skipped; rows that are not arrays are skipped.
 */
export function parseSearchResults(v: unknown): { rows: LogRow[]; columns: string[] } | undefined {
  const r = asRec(v);
  if (!r) return undefined;
  const tables = arr(pick(r, 'tables'));
  if (!tables) return undefined;
  let table = tables.map(asRec).find((t) => t && text(pick(t, 'name'))?.toLowerCase() === 'primaryresult');
  table ??= tables.map(asRec).find((t) => t && arr(pick(t, 'columns')));
  if (!table) return undefined;
  const cols = arr(pick(table, 'columns')) ?? [];
  const names: Array<string | undefined> = [];
  const used = new Set<string>();
  for (const c of cols) {
    const n = text(pick(asRec(c), 'name')) ?? (typeof c === 'string' ? c : undefined);
    if (n === undefined || !isSafeKey(n) || used.has(n)) names.push(undefined);
    else {
      used.add(n);
      names.push(n);
    }
  }
  const rows: LogRow[] = [];
  for (const raw of arr(pick(table, 'rows')) ?? []) {
    if (rows.length >= MAX_ROWS) break;
    const cells = arr(raw);
    if (!cells) continue;
    const row: LogRow = {};
    for (let i = 0; i < names.length; i++) {
      const n = names[i];
      if (n !== undefined) row[n] = cell(cells[i]);
    }
    rows.push(row);
  }
  return { rows, columns: names.filter((n): n is string => n !== undefined) };
}
