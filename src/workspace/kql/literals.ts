/** Parsing of KQL literal texts (timespan, datetime, numbers) into our values. */

const TIMESPAN_UNITS: Record<string, number> = {
  d: 86400000,
  day: 86400000,
  days: 86400000,
  h: 3600000,
  hr: 3600000,
  hrs: 3600000,
  hour: 3600000,
  hours: 3600000,
  m: 60000,
  min: 60000,
  minute: 60000,
  minutes: 60000,
  s: 1000,
  sec: 1000,
  second: 1000,
  seconds: 1000,
  ms: 1,
  milli: 1,
  millis: 1,
  millisecond: 1,
  milliseconds: 1,
  microsecond: 0.001,
  microseconds: 0.001,
  micro: 0.001,
  micros: 0.001,
  tick: 0.0001,
  ticks: 0.0001,
  nanosecond: 0.000001,
  nanoseconds: 0.000001,
};

/** Timespan literal text → milliseconds; null for `time(null)`; undefined if not understood. */
export function parseTimespanLiteral(text: string): number | null | undefined {
  let t = text.trim();
  const wrapped = /^(?:time|timespan)\s*\(\s*(.*?)\s*\)$/is.exec(t);
  if (wrapped) {
    t = wrapped[1];
    if (/^null$/i.test(t)) return null;
    const clock = /^([+-])?(?:(\d+)\.)?(\d{1,2}):(\d{1,2})(?::(\d{1,2})(?:\.(\d{1,7}))?)?$/.exec(t);
    if (clock) {
      const [, sign, d = '0', h, m, s = '0', f = ''] = clock;
      const ms = +d * 86400000 + +h * 3600000 + +m * 60000 + +s * 1000 + (f ? Number('0.' + f) * 1000 : 0);
      return sign === '-' ? -ms : ms;
    }
    if (/^[+-]?\d+(\.\d+)?$/.test(t)) return Number(t) * 86400000; // time(2) = 2 days
  }
  const unit = /^([+-]?\d+(?:\.\d+)?)\s*([a-z]+)$/i.exec(t);
  if (unit) {
    const mult = TIMESPAN_UNITS[unit[2].toLowerCase()];
    if (mult !== undefined) return Number(unit[1]) * mult;
  }
  return undefined;
}

/** Datetime literal text (`datetime(…)`) → epoch ms; null for `datetime(null)`; undefined if invalid. */
export function parseDatetimeLiteral(text: string): number | null | undefined {
  const m = /^datetime\s*\(\s*(.*?)\s*\)$/is.exec(text.trim());
  // datetime("2015-01-01") is the same literal as datetime(2015-01-01).
  const inner = (m ? m[1] : text.trim()).replace(/^(["'])(.*)\1$/s, '$2');
  if (/^null$/i.test(inner)) return null;
  const iso = /^(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ](\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d{1,7}))?)?)?\s*(Z|[+-]\d{2}:?\d{2})?$/i.exec(inner);
  if (iso) {
    const [, y, mo, d, h = '0', mi = '0', s = '0', f = '', tz] = iso;
    let ms = Date.UTC(+y, +mo - 1, +d, +h, +mi, +s) + (f ? Math.floor(Number('0.' + f) * 1000 + 1e-6) : 0);
    const check = new Date(ms);
    if (check.getUTCDate() !== +d || check.getUTCMonth() !== +mo - 1 || +h > 23 || +mi > 59 || +s > 59) return undefined;
    if (+y < 100) ms = new Date(ms).setUTCFullYear(+y);
    if (tz && tz.toUpperCase() !== 'Z') {
      const sign = tz[0] === '-' ? -1 : 1;
      const dg = tz.slice(1).replace(':', '');
      ms -= sign * (Number(dg.slice(0, 2)) * 60 + Number(dg.slice(2, 4))) * 60000;
    }
    return ms;
  }
  // RFC 822 / 1123 style ("Sat, 8 Nov 2014 15:05:02 GMT"): accept only with an explicit zone.
  if (/\b(GMT|UTC|UT|Z)\b|[+-]\d{4}$/.test(inner)) {
    const ms = Date.parse(inner);
    if (!Number.isNaN(ms)) return ms;
  }
  return undefined;
}

export function parseNumberLiteral(text: string, kind: 'long' | 'int' | 'real'): number | bigint | null | undefined {
  let t = text.trim();
  const w = /^(?:long|int|real|double)\s*\(\s*(.*?)\s*\)$/is.exec(t);
  if (w) t = w[1];
  if (/^null$/i.test(t)) return null;
  if (kind === 'real') {
    if (/^nan$/i.test(t)) return NaN;
    if (/^\+?inf$/i.test(t)) return Infinity;
    if (/^-inf$/i.test(t)) return -Infinity;
    const n = Number(t);
    return Number.isNaN(n) ? undefined : n;
  }
  if (!/^[+-]?(0x[0-9a-f]+|\d+)$/i.test(t)) return undefined;
  const neg = t.startsWith('-');
  const body = t.replace(/^[+-]/, '');
  const big = BigInt(body);
  const v = neg ? -big : big;
  if (v > 9223372036854775807n || v < -9223372036854775808n) return undefined;
  if (kind === 'int' && (v > 2147483647n || v < -2147483648n)) return undefined;
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
}

/**
 * The body of `dynamic(…)` (JSON, with Kusto's single-quoted strings allowed) → normalised JSON text,
 * null for `dynamic(null)`, undefined when it is not plain JSON (e.g. contains datetime(…)).
 */
export function parseDynamicLiteral(body: string): string | null | undefined {
  let json = '';
  for (let i = 0; i < body.length; i++) {
    const ch = body[i];
    if (ch !== "'" && ch !== '"') {
      json += ch;
      continue;
    }
    let value = '';
    let j = i + 1;
    for (; j < body.length && body[j] !== ch; j++) {
      if (body[j] === '\\') {
        const esc = body[++j];
        value += esc === 'n' ? '\n' : esc === 't' ? '\t' : esc === 'r' ? '\r' : esc;
      } else value += body[j];
    }
    if (j >= body.length) return undefined;
    json += JSON.stringify(value);
    i = j;
  }
  try {
    const parsed: unknown = JSON.parse(json);
    return parsed === null ? null : compactJson(json);
  } catch {
    return undefined;
  }
}

/** Valid JSON text without the whitespace between tokens; numbers keep their written form (111.0 stays a real). */
function compactJson(json: string): string {
  let out = '';
  for (let i = 0; i < json.length; i++) {
    const ch = json[i];
    if (ch === '"') {
      let j = i + 1;
      while (json[j] !== '"') j += json[j] === '\\' ? 2 : 1;
      out += json.slice(i, j + 1);
      i = j;
    } else if (!/\s/.test(ch)) out += ch;
  }
  return out;
}
