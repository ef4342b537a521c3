/**
 * Kusto's series functions over JSON array text, for SQLite (registered functions); PostgreSQL runs
 * the same rules in PL/pgSQL (`kql_series_stats`, `kql_series_fill_linear` in ../tables.ts).
 */

/** A series holds reals when any number in its JSON text has a fraction or an exponent (else ints). */
export const REAL_NUMBER_TOKEN = /\d\.\d|\d[eE]/;

function parseArray(text: string | null): unknown[] | null {
  if (text === null) return null;
  try {
    const v: unknown = JSON.parse(text);
    return Array.isArray(v) ? v : null;
  } catch {
    return null;
  }
}

export interface SeriesStats {
  min: number | null;
  min_idx: number | null;
  max: number | null;
  max_idx: number | null;
  avg: number | null;
  stdev: number | null;
  variance: number | null;
}

/**
 * series_stats / series_stats_dynamic: min and max (first index of each), average, sample variance and
 * standard deviation of the numeric elements (others are skipped); nulls when there is none.
 */
export function seriesStats(text: string | null): SeriesStats | null {
  const arr = parseArray(text);
  if (!arr) return null;
  const out: SeriesStats = { min: null, min_idx: null, max: null, max_idx: null, avg: null, stdev: null, variance: null };
  let n = 0;
  let sum = 0;
  let mean = 0;
  let m2 = 0;
  arr.forEach((v, i) => {
    if (typeof v !== 'number') return;
    if (out.min === null || v < out.min) [out.min, out.min_idx] = [v, i];
    if (out.max === null || v > out.max) [out.max, out.max_idx] = [v, i];
    n++;
    sum += v;
    const delta = v - mean;
    mean += delta / n;
    m2 += delta * (v - mean);
  });
  if (n === 0) return out;
  out.avg = sum / n;
  out.variance = n === 1 ? 0 : m2 / (n - 1);
  out.stdev = Math.sqrt(out.variance);
  return out;
}

/**
 * series_fill_linear(x, missing, fill_edges, constant): each run of missing elements (null, or equal to
 * `missing`) between two values is replaced by the straight line between them; leading and trailing runs
 * take the nearest value when `fillEdges`; an array with no value at all is filled with `constant` (left
 * as it is when `constant` is null). Series of integers stay integers (interpolated values truncated).
 */
export function seriesFillLinear(text: string | null, missingJson: string | null, fillEdges: boolean, constant: number | null): unknown[] | null {
  const arr = parseArray(text);
  if (!arr) return null;
  const missing = missingJson === null ? null : (JSON.parse(missingJson) as unknown);
  const isMissing = (v: unknown) => (missing === null ? v === null : v === missing);
  const ints = !REAL_NUMBER_TOKEN.test(text ?? '');
  const known = arr.map((v, i) => (!isMissing(v) && typeof v === 'number' ? i : -1)).filter((i) => i >= 0);
  const out = [...arr];
  if (!known.length) return constant === null ? out : out.map(() => constant);
  for (let k = 0; k + 1 < known.length; k++) {
    const [a, b] = [known[k], known[k + 1]];
    const [va, vb] = [arr[a] as number, arr[b] as number];
    for (let i = a + 1; i < b; i++) {
      const v = va + ((vb - va) * (i - a)) / (b - a);
      out[i] = ints ? Math.trunc(v) : v;
    }
  }
  if (fillEdges) {
    for (let i = 0; i < known[0]; i++) out[i] = arr[known[0]];
    for (let i = known[known.length - 1] + 1; i < arr.length; i++) out[i] = arr[known[known.length - 1]];
  }
  return out;
}
