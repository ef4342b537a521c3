/**
 * Rows → Web API JSON, with the annotations Dataverse adds when asked through
 * `Prefer: odata.include-annotations="…"`: `@OData.Community.Display.V1.FormattedValue` (option labels,
 * Yes/No, lookup names, dates) and, for lookups, `@Microsoft.Dynamics.CRM.lookuplogicalname` and
 * `@Microsoft.Dynamics.CRM.associatednavigationproperty`. Also parses the `Prefer` header.
 */
import type { AttrDef, EntityMeta } from './schema.ts';
import { propertyName } from './schema.ts';
import type { ProvanceStore, Row } from './store.ts';

export const FORMATTED = 'OData.Community.Display.V1.FormattedValue';
export const LOOKUP_LOGICAL = 'Microsoft.Dynamics.CRM.lookuplogicalname';
export const ASSOCIATED_NAV = 'Microsoft.Dynamics.CRM.associatednavigationproperty';

export interface Preferences {
  maxPageSize?: number;
  annotations: string[];
  returnRepresentation: boolean;
  /** The `Preference-Applied` header value for what was honoured. */
  applied(): string;
}

/** Splits a Prefer header on commas outside quotes; each preference is `name[=value]`. */
export function parsePrefer(header: string | string[] | undefined): Preferences {
  const text = Array.isArray(header) ? header.join(',') : (header ?? '');
  const items: string[] = [];
  let cur = '';
  let quoted = false;
  for (const ch of text) {
    if (ch === '"') quoted = !quoted;
    if (ch === ',' && !quoted) {
      items.push(cur);
      cur = '';
    } else cur += ch;
  }
  items.push(cur);
  const prefs: Preferences = { annotations: [], returnRepresentation: false, applied: () => '' };
  const applied: string[] = [];
  for (const item of items) {
    const eq = item.indexOf('=');
    const name = (eq < 0 ? item : item.slice(0, eq)).trim().toLowerCase();
    const value =
      eq < 0
        ? ''
        : item
            .slice(eq + 1)
            .trim()
            .replace(/^"|"$/g, '');
    if (name === 'odata.maxpagesize' && /^\d+$/.test(value) && Number(value) > 0) {
      prefs.maxPageSize = Number(value);
    } else if (name === 'odata.include-annotations' && value) {
      prefs.annotations = value
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
      applied.push(`odata.include-annotations="${value}"`);
    } else if (name === 'return' && value === 'representation') {
      prefs.returnRepresentation = true;
    }
  }
  prefs.applied = () => applied.join(',');
  return prefs;
}

/** Whether an annotation term is requested by the include-annotations patterns (`*`, `ns.*`, exact, `-` exclusions). */
export function wants(patterns: readonly string[], term: string): boolean {
  let ok = false;
  for (const p of patterns) {
    const exclude = p.startsWith('-');
    const pat = exclude ? p.slice(1) : p;
    const hit = pat === '*' || pat === term || (pat.endsWith('.*') && term.startsWith(pat.slice(0, -1)));
    if (hit) ok = !exclude;
  }
  return ok;
}

const MONTH_DAY = (d: Date): string => `${d.getUTCMonth() + 1}/${d.getUTCDate()}/${d.getUTCFullYear()}`;

/** Dataverse's formatted date/time for a user in UTC with en-US settings: `1/2/2026 3:04 PM`. */
export function formatDateTime(iso: string): string {
  const d = new Date(iso);
  const h = d.getUTCHours();
  const mm = String(d.getUTCMinutes()).padStart(2, '0');
  return `${MONTH_DAY(d)} ${h % 12 === 0 ? 12 : h % 12}:${mm} ${h < 12 ? 'AM' : 'PM'}`;
}

export class RecordWriter {
  private readonly names = new Map<string, string | null>();
  private readonly formatted: boolean;
  private readonly lookupAnnotations: [boolean, boolean];

  constructor(
    private readonly store: ProvanceStore,
    annotations: readonly string[],
  ) {
    this.formatted = wants(annotations, FORMATTED);
    this.lookupAnnotations = [wants(annotations, LOOKUP_LOGICAL), wants(annotations, ASSOCIATED_NAV)];
  }

  /** Primary name of a referenced record (cached for the request). */
  private nameOf(entity: string, id: string): string | null {
    const key = `${entity}:${id}`;
    if (!this.names.has(key)) {
      const meta = this.store.byLogical.get(entity);
      const row = meta ? this.store.get(meta, id) : undefined;
      this.names.set(key, row ? ((row[meta!.primaryName] as string | null) ?? null) : null);
    }
    return this.names.get(key)!;
  }

  private lookupTarget(a: AttrDef, row: Row): { entity: string; nav: string } {
    const targets = a.targets!;
    if (targets.length === 1) return targets[0];
    const type = row[`${a.name}_type`];
    return targets.find((t) => t.entity === type) ?? targets[0];
  }

  record(meta: EntityMeta, row: Row, attrs: readonly AttrDef[]): Record<string, unknown> {
    const out: Record<string, unknown> = { '@odata.etag': `W/"${String(row.versionnumber ?? 0)}"` };
    for (const a of attrs) {
      const prop = propertyName(a);
      const v = row[a.name];
      if (v === null || v === undefined) {
        out[prop] = null;
        continue;
      }
      if (a.type === 'Boolean') out[prop] = v === 1 || v === true;
      else out[prop] = v;
      const label = this.label(a, row, v);
      if (this.formatted && label !== undefined) out[`${prop}@${FORMATTED}`] = label;
      if (a.type === 'Lookup') {
        const t = this.lookupTarget(a, row);
        if (this.lookupAnnotations[1]) out[`${prop}@${ASSOCIATED_NAV}`] = t.nav;
        if (this.lookupAnnotations[0]) out[`${prop}@${LOOKUP_LOGICAL}`] = t.entity;
      }
    }
    return out;
  }

  private label(a: AttrDef, row: Row, v: unknown): string | undefined {
    switch (a.type) {
      case 'Picklist':
      case 'State':
      case 'Status':
        return a.options?.[Number(v)];
      case 'Boolean':
        return a.booleanLabels?.[v === 1 || v === true ? 0 : 1];
      case 'DateTime':
        return formatDateTime(String(v));
      case 'Integer':
        return Number(v).toLocaleString('en-US');
      case 'Lookup':
        return this.nameOf(this.lookupTarget(a, row).entity, String(v)) ?? undefined;
      default:
        return undefined;
    }
  }
}
