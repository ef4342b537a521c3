/**
 * Configuration items and targets: Azure resource ids become their last segment as the CI name (the full id
 * goes to targets); names are de-duplicated case-insensitively, first spelling kept.
 */
import type { LogRow } from '../core/alert.ts';

/** `/subscriptions/…` or anything with a `/providers/` segment is an Azure resource id. */
export function isResourceId(s: string): boolean {
  const l = s.toLowerCase();
  return l.startsWith('/subscriptions/') || l.includes('/providers/') || l.startsWith('/resourcegroups/');
}

/**
 * Whether a target id names a resource that can be a CI (has a `/providers/` segment): a bare subscription or
 * resource group id (service health targets) is not a configuration item.
 */
export function isResourceCiTarget(s: string): boolean {
  return s.toLowerCase().includes('/providers/');
}

/** Last non-empty path segment of a resource id (`…/virtualMachines/vm-web-01` → `vm-web-01`). */
export function resourceName(id: string): string {
  const parts = id.split('/').filter((p) => p.trim() !== '');
  return parts.length ? parts[parts.length - 1].trim() : id.trim();
}

/** A CI name from a value that may be a resource id. */
export function ciName(value: string): string {
  const v = value.trim();
  return isResourceId(v) ? resourceName(v) : v;
}

/** Ordered, case-insensitively unique list builder. */
export class UniqueList {
  private readonly seen = new Set<string>();
  readonly items: string[] = [];
  constructor(private readonly limit = 10_000) {}
  add(v: string | undefined): void {
    if (v === undefined) return;
    const t = v.trim();
    if (t === '' || this.items.length >= this.limit) return;
    const k = t.toLowerCase();
    if (this.seen.has(k)) return;
    this.seen.add(k);
    this.items.push(t);
  }
  addAll(vs: Iterable<string>): void {
    for (const v of vs) this.add(v);
  }
}

/** The log result columns that name a CI, in the priority Azure uses for `configurationItems`. */
export const CI_COLUMNS = ['Computer', '_ResourceId', 'ResourceId', 'Resource'] as const;

/**
 * The CI a log result row is about: the first non-empty of Computer, _ResourceId, ResourceId, Resource
 * (column names matched case-insensitively). Returns the CI name and, for resource ids, the full id.
 */
export function ciOfRow(row: LogRow): { name: string; resourceId?: string } | undefined {
  const byLower = new Map<string, unknown>();
  for (const k of Object.keys(row)) if (!byLower.has(k.toLowerCase())) byLower.set(k.toLowerCase(), row[k]);
  for (const col of CI_COLUMNS) {
    const v = byLower.get(col.toLowerCase());
    if (typeof v !== 'string' || v.trim() === '') continue;
    const t = v.trim();
    return isResourceId(t) ? { name: resourceName(t), resourceId: t } : { name: t };
  }
  return undefined;
}

/** Every resource id in the row's _ResourceId, ResourceId and Resource columns (kept as targets). */
export function resourceIdsOfRow(row: LogRow): string[] {
  const out: string[] = [];
  for (const k of Object.keys(row)) {
    const l = k.toLowerCase();
    if (l !== '_resourceid' && l !== 'resourceid' && l !== 'resource') continue;
    const v = row[k];
    if (typeof v === 'string' && isResourceId(v.trim())) out.push(v.trim());
  }
  return out;
}

/** Host name from an Alertmanager `instance` label (`https://host:443/path`, `host:9100`, `[::1]:9100`). */
export function hostOfInstance(instance: string): string {
  let s = instance.trim();
  const scheme = /^[a-z][a-z0-9+.-]*:\/\//i.exec(s);
  if (scheme) s = s.slice(scheme[0].length);
  s = s.split(/[/?#]/)[0];
  const at = s.lastIndexOf('@');
  if (at >= 0) s = s.slice(at + 1);
  if (s.startsWith('[')) {
    const end = s.indexOf(']');
    return end > 0 ? s.slice(1, end) : s;
  }
  const colon = s.indexOf(':');
  if (colon >= 0 && s.indexOf(':', colon + 1) < 0) s = s.slice(0, colon);
  return s;
}
