/** Shared pieces of the shape parsers: the parse context, synthetic ids, details, HTML-to-text. */
import { createHash } from 'node:crypto';
import type { AlertDetail } from '../core/alert.ts';
import { str } from './json.ts';

export interface ParseContext {
  /** When the request arrived (ISO UTC); the fallback for a payload that carries no usable time. */
  receivedAt: string;
}

/**
 * A deterministic id for payloads without one (legacy Log Analytics webhook, classic metric alerts): the same
 * event delivered twice gets the same id, so redeliveries are recognised.
 */
export function syntheticId(prefix: string, parts: Array<string | number | undefined>): string {
  const h = createHash('sha256')
    .update(JSON.stringify(parts.map((p) => p ?? null)))
    .digest('hex');
  return `${prefix}:${h.slice(0, 32)}`;
}

/** Collects label/value facts, skipping empty values and capping length. */
export class Details {
  readonly items: AlertDetail[] = [];
  add(label: string, value: unknown): void {
    const s = str(value)?.trim();
    if (s === undefined || s === '' || this.items.length >= 200) return;
    this.items.push({ label, value: s.length > 4000 ? `${s.slice(0, 4000)}…` : s });
  }
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: ' ', '#39': "'" };

/** Plain text from the small HTML fragments Service Health puts in `communication`. */
export function htmlToText(s: string): string {
  return s
    .replace(/<\s*(br|\/p|\/li|\/div|\/h\d)\s*\/?>/gi, '\n')
    .replace(/<[^<>]*>/g, '')
    .replace(/&(amp|lt|gt|quot|apos|nbsp|#39);/g, (_m, e: string) => ENTITIES[e] ?? '')
    .replace(/[ \t]+\n/g, '\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}

/** Only http(s) links are kept (a link goes verbatim into a ticket). */
export function httpLink(v: unknown): string | undefined {
  const s = str(v)?.trim();
  if (!s || s.length > 8192) return undefined;
  return /^https?:\/\/[^\s]+$/i.test(s) ? s : undefined;
}

/** Minutes (as number or numeric string) → ISO 8601 duration `PT<n>M`. */
export function minutesToDuration(v: unknown): string | undefined {
  const s = str(v)?.trim();
  if (!s || !/^\d{1,7}$/.test(s)) return undefined;
  return `PT${Number(s)}M`;
}

/** Shallow copy without undefined-valued keys (so parsed alerts compare equal to their JSON form). */
export function compact<T extends object>(o: T): T {
  const out = {} as Record<string, unknown>;
  for (const [k, v] of Object.entries(o)) if (v !== undefined) out[k] = v;
  return out as T;
}
