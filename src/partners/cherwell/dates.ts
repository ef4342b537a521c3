/**
 * Cherwell shows and reads date/times as US local time, `M/d/yyyy h:mm:ss tt` ("4/10/2019 3:10:12 PM"),
 * in the server's time zone (partner-apis.md §2.4). The sandbox stores epoch milliseconds and converts
 * at the edge, in a configurable IANA zone, so DST transitions behave as on a real server.
 */

const US_LOCAL = /^\s*(\d{1,2})\/(\d{1,2})\/(\d{4})(?:\s+(\d{1,2}):(\d{2})(?::(\d{2}))?\s*([AaPp][Mm])?)?\s*$/;

const partsFormatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let f = partsFormatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    partsFormatters.set(timeZone, f);
  }
  return f;
}

interface Civil {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

function civilIn(ms: number, timeZone: string): Civil {
  const out: Record<string, number> = {};
  for (const p of formatterFor(timeZone).formatToParts(new Date(ms))) {
    if (p.type !== 'literal') out[p.type] = Number(p.value);
  }
  return { year: out.year, month: out.month, day: out.day, hour: out.hour % 24, minute: out.minute, second: out.second };
}

/** Throws a RangeError for a zone name the runtime does not know. */
export function assertTimeZone(timeZone: string): void {
  formatterFor(timeZone);
}

/** Whether the runtime knows the IANA zone name. */
export function isTimeZone(timeZone: string): boolean {
  try {
    formatterFor(timeZone);
    return true;
  } catch {
    return false;
  }
}

/** `M/d/yyyy h:mm:ss tt` of an instant, in `timeZone`. */
export function formatUsLocal(ms: number, timeZone: string): string {
  const c = civilIn(ms, timeZone);
  const h12 = c.hour % 12 === 0 ? 12 : c.hour % 12;
  const mm = String(c.minute).padStart(2, '0');
  const ss = String(c.second).padStart(2, '0');
  return `${c.month}/${c.day}/${c.year} ${h12}:${mm}:${ss} ${c.hour < 12 ? 'AM' : 'PM'}`;
}

function offsetAt(ms: number, timeZone: string): number {
  const c = civilIn(ms, timeZone);
  const asUtc = Date.UTC(c.year, c.month - 1, c.day, c.hour, c.minute, c.second);
  return asUtc - Math.floor(ms / 1000) * 1000;
}

/**
 * Every instant a local wall-clock time names in `timeZone`, earliest first: one normally, two in the
 * repeated hour after a DST fall-back, none for a time a spring-forward skips. Null when the text is not
 * a US date. Also accepts a date alone (midnight) and a 24-hour time without AM/PM.
 */
export function usLocalCandidates(text: string, timeZone: string): { wall: number; instants: number[]; offsets: number[] } | null {
  const m = US_LOCAL.exec(text);
  if (!m) return null;
  const [month, day, year] = [Number(m[1]), Number(m[2]), Number(m[3])];
  let hour = m[4] === undefined ? 0 : Number(m[4]);
  const minute = m[5] === undefined ? 0 : Number(m[5]);
  const second = m[6] === undefined ? 0 : Number(m[6]);
  if (m[7]) {
    if (hour < 1 || hour > 12) return null;
    const pm = m[7].toUpperCase() === 'PM';
    hour = (hour % 12) + (pm ? 12 : 0);
  }
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 59) return null;
  const wall = Date.UTC(year, month - 1, day, hour, minute, second);
  if (new Date(wall).getUTCDate() !== day) return null;
  // Try the offsets in force a day either side; keep the candidates that read back as this wall time.
  const offsets = [...new Set([offsetAt(wall - 86_400_000, timeZone), offsetAt(wall + 86_400_000, timeZone)])];
  const instants = offsets
    .map((o) => wall - o)
    .filter((ms) => {
      const c = civilIn(ms, timeZone);
      return Date.UTC(c.year, c.month - 1, c.day, c.hour, c.minute, c.second) === wall;
    })
    .sort((a, b) => a - b);
  return { wall, instants: [...new Set(instants)], offsets };
}

/**
 * The instant a local wall-clock time names in `timeZone`. In the repeated hour after a DST fall-back
 * the earlier instant is taken; a time skipped by a spring-forward is moved forward by the gap (as
 * .NET's TimeZoneInfo does). Returns null when the text is not a US date.
 */
export function parseUsLocal(text: string, timeZone: string): number | null {
  const c = usLocalCandidates(text, timeZone);
  if (!c) return null;
  if (c.instants.length) return c.instants[0];
  // Skipped local time (spring forward): read it with the offset from before the gap.
  return c.wall - Math.min(...c.offsets);
}

/**
 * Reads a US local time that is known to be at or after `notBefore` (results sorted by time): in the
 * repeated DST hour this picks the occurrence that keeps the sequence ascending.
 */
export function parseUsLocalAfter(text: string, timeZone: string, notBefore: number): number | null {
  const c = usLocalCandidates(text, timeZone);
  if (!c) return null;
  return c.instants.find((ms) => ms >= notBefore) ?? parseUsLocal(text, timeZone);
}
