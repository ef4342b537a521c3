/** ServiceNow date/time encoding: `yyyy-MM-dd HH:mm:ss`, always UTC in the API (display_value=false). */

export function snDateTime(ms: number): string {
  // Civil-from-days (H. Hinnant), much cheaper than a Date object per value.
  const secs = Math.floor(ms / 1000);
  let days = Math.floor(secs / 86400);
  const sod = secs - days * 86400;
  days += 719468;
  const era = Math.floor(days / 146097);
  const doe = days - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp < 10 ? mp + 3 : mp - 9;
  const y = yoe + era * 400 + (m <= 2 ? 1 : 0);
  const hh = Math.floor(sod / 3600);
  const mm = Math.floor((sod % 3600) / 60);
  const ss = sod % 60;
  return (y < 1000 ? String(y).padStart(4, '0') : String(y)) + '-' + PAD2[m] + '-' + PAD2[d] + ' ' + PAD2[hh] + ':' + PAD2[mm] + ':' + PAD2[ss];
}

const PAD2 = Array.from({ length: 60 }, (_, i) => (i < 10 ? '0' + i : String(i)));

export function snDate(ms: number): string {
  return snDateTime(ms).slice(0, 10);
}

const SN_DT = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2})(?::(\d{2}))?(?:\.\d+)?(Z|[+-]\d{2}:?\d{2})?$/;
const SN_D = /^(\d{4})-(\d{2})-(\d{2})$/;

/**
 * Normalises a date/time input to the stored form. Accepts `yyyy-MM-dd HH:mm:ss` (taken as UTC, as the
 * Table API does with sysparm_input_display_value=false), ISO 8601 with an offset, and a bare date.
 * Returns null when the text is not a date.
 */
export function parseSnDateTime(text: string): string | null {
  const t = text.trim();
  let m = SN_DT.exec(t);
  if (m) {
    if (m[7]) {
      const ms = Date.parse(t.replace(' ', 'T'));
      return Number.isNaN(ms) ? null : snDateTime(ms);
    }
    return `${m[1]}-${m[2]}-${m[3]} ${m[4]}:${m[5]}:${m[6] ?? '00'}`;
  }
  m = SN_D.exec(t);
  if (m) return `${m[1]}-${m[2]}-${m[3]} 00:00:00`;
  return null;
}

export function parseSnDate(text: string): string | null {
  const dt = parseSnDateTime(text);
  return dt ? dt.slice(0, 10) : null;
}

/** Milliseconds since the epoch for a stored `yyyy-MM-dd HH:mm:ss` (UTC). */
export function snToMs(text: string): number {
  return Date.parse(text.replace(' ', 'T') + 'Z');
}
