/**
 * Timestamp parsing for alert payloads, without Date.parse's implementation-defined guessing.
 * Accepted (all normalized to ISO 8601 UTC with milliseconds, `2019-03-22T13:58:24.371Z`):
 * - ISO 8601 / RFC 3339 with any number of fractional digits and `Z`, `±hh:mm`, `±hhmm` or no offset (= UTC):
 *   `2019-03-22T13:58:24.3713213Z`, `2018-08-03T09:52:26.739266876+02:00`, `2019-03-22 13:58:24`
 * - US format as Log Analytics writes it, UTC: `3/22/2019 1:36:31 PM`, `03/22/2019 13:36:31`
 * - epoch milliseconds (numbers ≥ 1e11) or seconds (numbers below).
 * The Go zero time `0001-01-01T00:00:00Z` (Alertmanager's "not ended") and anything before 1970 or after 9999
 * count as absent.
 */

const ISO = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,12}))?)?)?\s*(Z|z|[+-]\d{2}:?\d{2}|UTC|GMT)?$/;
const US = /^(\d{1,2})\/(\d{1,2})\/(\d{4})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d{1,12}))?)?\s*([AaPp][Mm])?)?\s*(Z|UTC|GMT)?$/;

function build(y: number, mo: number, d: number, h: number, mi: number, s: number, frac: string | undefined, offsetMinutes: number): string | undefined {
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60) return undefined;
  const ms = frac ? Math.floor(Number(`0.${frac}`) * 1000) : 0;
  const t = Date.UTC(y, mo - 1, d, h, mi, Math.min(s, 59), ms) - offsetMinutes * 60_000;
  const check = new Date(Date.UTC(y, mo - 1, d));
  if (check.getUTCDate() !== d) return undefined; // 31 February …
  return fromEpochMs(t);
}

function fromEpochMs(t: number): string | undefined {
  if (!Number.isFinite(t) || t < 0 || t > 253402300799999) return undefined;
  return new Date(t).toISOString();
}

/** Parse a payload timestamp to ISO 8601 UTC, or undefined when absent/unparseable. */
export function parseTimestamp(v: unknown): string | undefined {
  if (typeof v === 'number') {
    if (!Number.isFinite(v) || v <= 0) return undefined;
    return fromEpochMs(v >= 1e11 ? v : v * 1000);
  }
  if (typeof v !== 'string') return undefined;
  const s = v.trim();
  if (s.length === 0 || s.length > 64) return undefined;
  let m = ISO.exec(s);
  if (m) {
    let off = 0;
    const z = m[8];
    if (z && z !== 'Z' && z !== 'z' && z !== 'UTC' && z !== 'GMT') {
      const sign = z[0] === '-' ? -1 : 1;
      const digits = z.slice(1).replace(':', '');
      const oh = Number(digits.slice(0, 2));
      const om = Number(digits.slice(2, 4));
      if (oh > 23 || om > 59) return undefined;
      off = sign * (oh * 60 + om);
    }
    return build(+m[1], +m[2], +m[3], +(m[4] ?? 0), +(m[5] ?? 0), +(m[6] ?? 0), m[7], off);
  }
  m = US.exec(s);
  if (m) {
    let h = +(m[4] ?? 0);
    const ampm = m[8]?.toUpperCase();
    if (ampm) {
      if (h < 1 || h > 12) return undefined;
      if (ampm === 'AM' && h === 12) h = 0;
      else if (ampm === 'PM' && h !== 12) h += 12;
    }
    return build(+m[3], +m[1], +m[2], h, +(m[5] ?? 0), +(m[6] ?? 0), m[7], 0);
  }
  return undefined;
}
