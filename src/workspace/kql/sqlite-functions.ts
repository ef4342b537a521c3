/**
 * SQL functions the KQL compiler relies on in SQLite (which has no regex engine): every SQLite
 * connection that runs compiled KQL must call `registerSqliteFunctions(db)` once after opening.
 * All functions are deterministic and null-propagating.
 *
 *  - kql_regex(pattern, s)  → 1/0   (`matches regex`; RE2 via re2js: linear time, Kusto's syntax)
 *  - kql_extract(pattern, group, s), kql_extract_all(pattern, s), kql_replace_regex(s, pattern, rewrite),
 *    kql_countof_regex(s, pattern): the Kusto functions of the same names, RE2 too
 *  - kql_has(s, term, cs)   → 1/0   (`has`: term = maximal run of letters/digits)
 *  - kql_has_affix(s, term, cs, 1|2) → 1/0 (`hasprefix` / `hassuffix`, for search "err*" / "*err")
 *  - kql_trim(regex, s)     → text  (`trim()`: strip leading and trailing matches)
 *  - kql_tick()             → 1, or throws once the query deadline (setQueryDeadline) has passed
 *  - kql_split(s, delim)    → JSON array text
 *  - kql_todouble(s)        → real or null
 *  - kql_tolong(s)          → integer or null (an integer literal of up to 18 digits)
 *  - kql_hash(x, isDatetime, mod) → Kusto `hash()` (xxHash64; mod null: the signed hash)
 *  - kql_series_stats(arr), kql_series_fill_linear(arr, placeholder, fillEdges, constant): the Kusto
 *    series functions (JSON text in and out)
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

import { re2 } from './regex.ts';
import { kustoHash } from './xxhash64.ts';
import { seriesFillLinear, seriesStats } from './series.ts';

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

/** `has` (the term is a whole run of letters and digits); `hasprefix` / `hassuffix` (it starts / ends one). */
export function kqlHas(s: string, term: string, cs: boolean, affix?: 'prefix' | 'suffix'): boolean {
  if (term === '') return true;
  const pre = affix !== 'suffix' && ALNUM.test(term[0]) ? '(?<![\\p{L}\\p{N}])' : '';
  const post = affix !== 'prefix' && ALNUM.test(term[term.length - 1]) ? '(?![\\p{L}\\p{N}])' : '';
  const re = cached(`has:${cs ? 1 : 0}:${affix ?? ''}:${term}`, () => new RegExp(pre + escapeRegExp(term) + post, cs ? 'u' : 'iu'));
  return re.test(s);
}

export function kqlTrim(pattern: string, s: string): string {
  const lead = re2(`^(?:${pattern})`);
  const trail = re2(`(?:${pattern})$`);
  let out = s;
  for (let guard = 0; guard < 10000 && out; guard++) {
    const m = lead.exec(out);
    if (!m || m[0] === '') break;
    out = out.slice(m[0].length);
  }
  for (let guard = 0; guard < 10000 && out; guard++) {
    const m = trail.matcher(out);
    if (!m.find() || m.group(0) === '') break;
    out = out.slice(0, m.start());
  }
  return out;
}

/** Kusto `extract(regex, group, s)`: the group of the first match, or null when nothing matches. */
export function kqlExtract(pattern: string, group: number, s: string): string | null {
  const m = re2(pattern).exec(s);
  if (!m) return null;
  return m[group] ?? null;
}

/** Kusto `extract_all(regex, s)`: every match; the groups of each match when the pattern has groups. */
export function kqlExtractAll(pattern: string, s: string): unknown[] | null {
  const re = re2(pattern);
  const groups = re.groupCount();
  const out: unknown[] = [];
  const m = re.matcher(s);
  while (m.find()) {
    if (groups === 0) out.push(m.group(0));
    else if (groups === 1) out.push(m.group(1) ?? '');
    else out.push(Array.from({ length: groups }, (_, g) => m.group(g + 1) ?? ''));
    if (out.length >= 100_000) break;
  }
  return out.length ? out : null;
}

/** Kusto `replace_regex(s, regex, rewrite)`: `\\n` in the rewrite is group n. */
export function kqlReplaceRegex(s: string, pattern: string, rewrite: string): string {
  const js = rewrite.replace(/\$/g, '$$$$').replace(/\\(\d)/g, '$$$1');
  return re2(pattern).matcher(s).replaceAll(js);
}

export function kqlCountRegex(s: string, pattern: string): number {
  const m = re2(pattern).matcher(s);
  let n = 0;
  while (m.find()) n++;
  return n;
}

interface Welford {
  n: number;
  mean: number;
  m2: number;
  sqrt: boolean;
}

/** Kusto `countof(s, search)`: occurrences of a text, overlapping ones included. */
export function kqlCountOf(s: string, search: string): number {
  if (search === '') return 0;
  let n = 0;
  for (let i = s.indexOf(search); i >= 0; i = s.indexOf(search, i + 1)) n++;
  return n;
}

let queryDeadline = Infinity;

/** Deadline (performance.now() ms) after which `kql_tick()` aborts the running statement on this thread. */
export function setQueryDeadline(deadline: number | undefined): void {
  queryDeadline = deadline ?? Infinity;
}

export function registerSqliteFunctions(db: SqliteFunctionHost): void {
  const det = { deterministic: true };
  // Called by compiled SQL every few thousand scanned rows and per joined pair: a way back into
  // JavaScript, where the deadline is checked (and where a terminated worker thread stops).
  db.function('kql_tick', { deterministic: false }, () => {
    if (performance.now() > queryDeadline) throw Object.assign(new Error('query timeout'), { name: 'QueryTimeoutError' });
    return 1;
  });
  db.function('kql_regex', det, (pattern: unknown, s: unknown) => {
    if (pattern === null || s === null) return null;
    return re2(String(pattern)).test(String(s)) ? 1 : 0;
  });
  db.function('kql_has', det, (s: unknown, term: unknown, cs: unknown) => {
    if (s === null || term === null) return null;
    return kqlHas(String(s), String(term), Number(cs) === 1) ? 1 : 0;
  });
  db.function('kql_has_affix', det, (s: unknown, term: unknown, cs: unknown, affix: unknown) => {
    if (s === null || term === null) return null;
    return kqlHas(String(s), String(term), Number(cs) === 1, Number(affix) === 1 ? 'prefix' : 'suffix') ? 1 : 0;
  });
  db.function('kql_trim', det, (pattern: unknown, s: unknown) => {
    if (pattern === null || s === null) return null;
    return kqlTrim(String(pattern), String(s));
  });
  db.function('kql_extract', det, (pattern: unknown, group: unknown, s: unknown) => {
    if (pattern === null || group === null || s === null) return null;
    return kqlExtract(String(pattern), Number(group), String(s));
  });
  db.function('kql_extract_all', det, (pattern: unknown, s: unknown) => {
    if (pattern === null || s === null) return null;
    const all = kqlExtractAll(String(pattern), String(s));
    return all === null ? null : JSON.stringify(all);
  });
  db.function('kql_replace_regex', det, (s: unknown, pattern: unknown, rewrite: unknown) => {
    if (s === null || pattern === null || rewrite === null) return null;
    return kqlReplaceRegex(String(s), String(pattern), String(rewrite));
  });
  db.function('kql_countof_regex', det, (s: unknown, pattern: unknown) => {
    if (s === null || pattern === null) return null;
    return kqlCountRegex(String(s), String(pattern));
  });
  db.function('kql_countof', det, (s: unknown, search: unknown) => {
    if (s === null || search === null) return null;
    return kqlCountOf(String(s), String(search));
  });
  db.aggregate('kql_variance', {
    deterministic: true,
    start: () => ({ n: 0, mean: 0, m2: 0, sqrt: false }),
    step: (acc: Welford, x: unknown, sqrt: unknown) => {
      acc.sqrt = Number(sqrt) === 1;
      if (x === null || x === undefined) return acc;
      // Welford's online update: numerically stable in one pass.
      const v = Number(x);
      acc.n++;
      const delta = v - acc.mean;
      acc.mean += delta / acc.n;
      acc.m2 += delta * (v - acc.mean);
      return acc;
    },
    result: (acc: Welford) => {
      if (acc.n === 0) return null;
      const variance = acc.n === 1 ? 0 : acc.m2 / (acc.n - 1);
      return acc.sqrt ? Math.sqrt(variance) : variance;
    },
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
  db.function('kql_hash', det, (x: unknown, isDatetime: unknown, mod: unknown) => {
    if (x === null || x === undefined) return null;
    return kustoHash(typeof x === 'bigint' ? x : typeof x === 'number' ? x : String(x), Number(isDatetime) === 1, mod === null ? null : BigInt(mod as number));
  });
  db.function('kql_series_stats', det, (arr: unknown) => JSON.stringify(seriesStats(arr === null ? null : String(arr))));
  db.function('kql_series_fill_linear', det, (arr: unknown, placeholder: unknown, fillEdges: unknown, constant: unknown) => {
    const out = seriesFillLinear(
      arr === null ? null : String(arr),
      placeholder === null ? null : String(placeholder),
      Number(fillEdges) !== 0,
      constant === null ? null : Number(constant),
    );
    return out === null ? null : JSON.stringify(out);
  });
  db.function('kql_tolong', det, (s: unknown) => {
    if (s === null) return null;
    if (typeof s === 'bigint') return s;
    // Kusto tolong(string): an integer literal (sign optional, up to 18 digits), blanks around it allowed.
    const t = String(s).replace(/^ +| +$/g, '');
    return /^[+-]?[0-9]{1,18}$/.test(t) ? BigInt(t) : null;
  });
  db.function('kql_todouble', det, (s: unknown) => {
    if (s === null) return null;
    if (typeof s === 'number' || typeof s === 'bigint') return Number(s);
    const t = String(s).trim();
    if (!/^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d{1,3})?$/i.test(t)) return null;
    return Number(t);
  });
}
