/**
 * SQL functions the KQL compiler relies on in SQLite (which has no regex engine): every SQLite
 * connection that runs compiled KQL must call `registerSqliteFunctions(db)` once after opening.
 * All functions are deterministic and null-propagating.
 *
 *  - kql_regex(pattern, s)  → 1/0   (`matches regex`; JavaScript RegExp syntax, close to RE2)
 *  - kql_has(s, term, cs)   → 1/0   (`has`: term = maximal run of letters/digits)
 *  - kql_trim(regex, s)     → text  (`trim()`: strip leading and trailing matches)
 *  - kql_split(s, delim)    → JSON array text
 *  - kql_todouble(s)        → real or null
 *  - kql_percentile(x, f)   → aggregate: nearest-rank percentile, f in [0, 1] (SQLite's own
 *                             percentile_disc picks a different rank)
 */

/** The subset of better-sqlite3's Database we need (keeps this file free of a driver import). */
export interface SqliteFunctionHost {
  function(name: string, options: { deterministic?: boolean; varargs?: boolean }, fn: (...args: any[]) => unknown): unknown;
  aggregate(
    name: string,
    options: { start: () => unknown; step: (acc: any, ...args: any[]) => unknown; result: (acc: any) => unknown; deterministic?: boolean },
  ): unknown;
}

/** Kusto `percentile`: nearest-rank (the value at rank ceil(p/100 · n) of the sorted non-null values). */
export function nearestRank(values: number[], fraction: number): number | null {
  if (!values.length) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil(fraction * sorted.length));
  return sorted[Math.min(rank, sorted.length) - 1];
}

import { compileRegex } from './regex.ts';

const MAX_CACHE = 256;
const cache = new Map<string, RegExp>();

function cached(key: string, make: () => RegExp): RegExp {
  let re = cache.get(key);
  if (!re) {
    if (cache.size >= MAX_CACHE) cache.clear();
    re = make();
    cache.set(key, re);
  }
  return re;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

const ALNUM = /[\p{L}\p{N}]/u;

export function kqlHas(s: string, term: string, cs: boolean): boolean {
  if (term === '') return true;
  const pre = ALNUM.test(term[0]) ? '(?<![\\p{L}\\p{N}])' : '';
  const post = ALNUM.test(term[term.length - 1]) ? '(?![\\p{L}\\p{N}])' : '';
  const re = cached(`has:${cs ? 1 : 0}:${term}`, () => new RegExp(pre + escapeRegExp(term) + post, cs ? 'u' : 'iu'));
  return re.test(s);
}

export function kqlTrim(pattern: string, s: string): string {
  // Iterative strip (not `(?:re)+$`, which can backtrack exponentially on a failed trailing match).
  const lead = cached(`tl:${pattern}`, () => compileRegex(`^(?:${pattern})`));
  const trail = cached(`tt:${pattern}`, () => compileRegex(`(?:${pattern})$`));
  let out = s;
  for (let guard = 0; guard < 10000 && out; guard++) {
    const m = lead.exec(out);
    if (!m || m[0] === '') break;
    out = out.slice(m[0].length);
  }
  for (let guard = 0; guard < 10000 && out; guard++) {
    const m = trail.exec(out);
    if (!m || m[0] === '') break;
    out = out.slice(0, m.index);
  }
  return out;
}

export function registerSqliteFunctions(db: SqliteFunctionHost): void {
  const det = { deterministic: true };
  db.function('kql_regex', det, (pattern: unknown, s: unknown) => {
    if (pattern === null || s === null) return null;
    const re = cached(`re:${String(pattern)}`, () => compileRegex(String(pattern)));
    return re.test(String(s)) ? 1 : 0;
  });
  db.function('kql_has', det, (s: unknown, term: unknown, cs: unknown) => {
    if (s === null || term === null) return null;
    return kqlHas(String(s), String(term), Number(cs) === 1) ? 1 : 0;
  });
  db.function('kql_trim', det, (pattern: unknown, s: unknown) => {
    if (pattern === null || s === null) return null;
    return kqlTrim(String(pattern), String(s));
  });
  db.function('kql_split', det, (s: unknown, delim: unknown) => {
    if (s === null || delim === null) return null;
    const d = String(delim);
    return JSON.stringify(d === '' ? [String(s)] : String(s).split(d));
  });
  db.aggregate('kql_percentile', {
    deterministic: true,
    start: () => ({ values: [] as number[], fraction: 0.5 }),
    step: (acc: { values: number[]; fraction: number }, x: unknown, f: unknown) => {
      if (x === null || x === undefined) return acc;
      acc.values.push(Number(x));
      acc.fraction = Number(f);
      return acc;
    },
    result: (acc: { values: number[]; fraction: number }) => nearestRank(acc.values, acc.fraction),
  });
  db.function('kql_todouble', det, (s: unknown) => {
    if (s === null) return null;
    if (typeof s === 'number' || typeof s === 'bigint') return Number(s);
    const t = String(s).trim();
    if (!/^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d{1,3})?$/i.test(t)) return null;
    return Number(t);
  });
}
