/** The overview's time range: presets or a custom interval, turned into KQL predicates (every tile's query is self-contained). */
export type RangeKey = '24h' | '7d' | '30d' | '120d' | 'custom';
export interface TimeRange {
  key: RangeKey;
  /** ISO dates (yyyy-mm-dd) for custom. */
  from?: string;
  to?: string;
}

export const RANGE_PRESETS: { key: Exclude<RangeKey, 'custom'>; label: string; kql: string; bin: string }[] = [
  { key: '24h', label: 'Last 24 hours', kql: '24h', bin: '1h' },
  { key: '7d', label: 'Last 7 days', kql: '7d', bin: '1d' },
  { key: '30d', label: 'Last 30 days', kql: '30d', bin: '1d' },
  { key: '120d', label: 'Last 120 days', kql: '120d', bin: '7d' },
];

/** `Col > ago(7d)` or `Col between (datetime(a) .. datetime(b))`. */
export function inRange(column: string, r: TimeRange): string {
  if (r.key === 'custom' && r.from && r.to) return `${column} between (datetime(${r.from}T00:00:00Z) .. datetime(${r.to}T23:59:59Z))`;
  const preset = RANGE_PRESETS.find((p) => p.key === r.key) ?? RANGE_PRESETS[1];
  return `${column} > ago(${preset.kql})`;
}

export function binFor(r: TimeRange): string {
  if (r.key === 'custom' && r.from && r.to) {
    const days = (Date.parse(r.to) - Date.parse(r.from)) / 86_400_000;
    return days <= 2 ? '1h' : days <= 60 ? '1d' : '7d';
  }
  return (RANGE_PRESETS.find((p) => p.key === r.key) ?? RANGE_PRESETS[1]).bin;
}

export function encodeRange(r: TimeRange): string {
  return r.key === 'custom' ? `custom:${r.from ?? ''}:${r.to ?? ''}` : r.key;
}

export function decodeRange(s: string | null): TimeRange {
  if (!s) return { key: '7d' };
  if (s.startsWith('custom:')) {
    const [, from, to] = s.split(':');
    return { key: 'custom', from, to };
  }
  return RANGE_PRESETS.some((p) => p.key === s) ? { key: s as RangeKey } : { key: '7d' };
}

export function formatValue(v: unknown, type?: string): string {
  if (v === null || v === undefined) return '';
  if (type === 'datetime' && typeof v === 'string') return v.replace('T', ' ').replace(/\.000Z$|Z$/, '');
  if (typeof v === 'number') return Number.isInteger(v) ? v.toLocaleString('en-US') : v.toLocaleString('en-US', { maximumFractionDigits: 2 });
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

export function relativeTime(iso: string | null | undefined): string {
  if (!iso) return 'never';
  const s = Math.round((Date.now() - Date.parse(iso)) / 1000);
  if (s < 60) return `${Math.max(0, s)} s ago`;
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  if (s < 86400) return `${Math.round(s / 3600)} h ago`;
  return `${Math.round(s / 86400)} d ago`;
}
