/**
 * Pure mapping from Service Manager work items, as the web app returns them (`{bmeId, displayName,
 * fields:[{name, value, valueDisplayName}]}`), to ServiceDesk_CL rows with ITSMC's column names.
 * Enum-valued properties map to their display names (`valueDisplayName`), never to enum GUIDs.
 * The table is documented in the README (SCSM section); keep the two in step.
 */
import type { SyncScope } from '../partner.ts';

export interface ScsmField {
  fieldId?: string;
  name: string;
  value: unknown;
  valueDisplayName?: unknown;
}

export interface ScsmObject {
  bmeId: string;
  displayName?: string;
  fields: ScsmField[];
}

export type ServiceDeskRow = Record<string, string | null>;

export const INCIDENT_CLASS = 'System.WorkItem.Incident';
export const CHANGE_CLASS = 'System.WorkItem.ChangeRequest';
export const SCOPE_CLASS: Record<SyncScope, string> = { Incident: INCIDENT_CLASS, ChangeRequest: CHANGE_CLASS };

type Source = { prop: string; as: 'value' | 'label' | 'date' } | { when: string; prop: string };

const v = (prop: string): Source => ({ prop, as: 'value' });
const label = (prop: string): Source => ({ prop, as: 'label' });
const date = (prop: string): Source => ({ prop, as: 'date' });

/**
 * Column → source property per work item type. Columns ITSMC had for ServiceNow with no counterpart in
 * what the web app exposes (CreatedBy, ResolvedBy, ClosedBy, AssignedTo, ConflictStatus) are left null.
 */
export const COLUMNS: readonly { name: string; incident?: Source; change?: Source }[] = [
  { name: 'ServiceDeskId_s', incident: v('Id'), change: v('Id') },
  { name: 'IncidentState_s', incident: label('Status') },
  { name: 'CRState_s', change: label('Status') },
  { name: 'Urgency_s', incident: label('Urgency') },
  { name: 'Impact_s', incident: label('Impact'), change: label('Impact') },
  { name: 'Priority_s', incident: v('Priority'), change: label('Priority') },
  { name: 'Escalation_s', incident: v('Escalated') },
  { name: 'Source_s', incident: label('Source') },
  { name: 'Category_s', incident: label('Classification'), change: label('Area') },
  { name: 'Type_s', change: label('Category') },
  { name: 'Risk_s', change: label('Risk') },
  { name: 'Title_s', incident: v('Title'), change: v('Title') },
  { name: 'Description_s', incident: v('Description'), change: v('Description') },
  { name: 'CreatedDate_t', incident: date('CreatedDate'), change: date('CreatedDate') },
  { name: 'ResolvedDate_t', incident: date('ResolvedDate') },
  { name: 'ClosedDate_t', incident: date('ClosedDate'), change: { when: 'Closed', prop: 'ActualEndDate' } },
  { name: 'LastModifiedDate_t', incident: date('LastModified'), change: date('LastModified') },
  { name: 'RequestedDate_t', change: date('RequiredByDate') },
  { name: 'PlannedStartDate_t', change: date('ScheduledStartDate') },
  { name: 'PlannedEndDate_t', change: date('ScheduledEndDate') },
  { name: 'WorkStartDate_t', change: date('ActualStartDate') },
  { name: 'WorkEndDate_t', change: date('ActualEndDate') },
];

/** Every ServiceDesk_CL column the rows fill. */
export const serviceDeskColumns: readonly string[] = ['ServiceDeskWorkItemType_s', ...COLUMNS.map((c) => c.name), 'Computer'];

/** Every property a sync read needs for a scope (for `showFields`). */
export function syncFields(scope: SyncScope): string[] {
  const props = new Set<string>(['Id', 'LastModified', 'Status']);
  for (const c of COLUMNS) {
    const src = scope === 'Incident' ? c.incident : c.change;
    if (src) props.add(src.prop);
  }
  return [...props];
}

export function fieldsByName(obj: ScsmObject): Map<string, ScsmField> {
  return new Map(obj.fields.map((f) => [f.name, f]));
}

function text(x: unknown): string | null {
  if (x === null || x === undefined || x === '') return null;
  return typeof x === 'string' ? x : String(x);
}

/** A Json.NET date (`2026-06-15T12:00:00.12Z`, or without zone = UTC) → ISO 8601 UTC; unparsable → null. */
export function scsmDateToIso(x: unknown): string | null {
  const t = text(x);
  if (!t) return null;
  const ms = Date.parse(/Z|[+-]\d{2}:?\d{2}$/.test(t) ? t : `${t}Z`);
  return Number.isFinite(ms) ? new Date(ms).toISOString() : null;
}

/** The display name of a field (enum label), falling back to its value. */
export function labelOf(f: ScsmField | undefined): string | null {
  if (!f) return null;
  return text(f.valueDisplayName) ?? text(f.value);
}

function resolve(src: Source, fields: Map<string, ScsmField>): string | null {
  if ('when' in src) return labelOf(fields.get('Status')) === src.when ? scsmDateToIso(fields.get(src.prop)?.value) : null;
  const f = fields.get(src.prop);
  if (src.as === 'label') return labelOf(f);
  if (src.as === 'date') return scsmDateToIso(f?.value);
  return text(f?.value);
}

/** One work item → one ServiceDesk_CL row; `computer` is its affected CI (System.WorkItemAboutConfigItem). */
export function toServiceDeskRow(scope: SyncScope, obj: ScsmObject, computer: string | null): ServiceDeskRow {
  const fields = fieldsByName(obj);
  const row: ServiceDeskRow = { ServiceDeskWorkItemType_s: scope };
  for (const c of COLUMNS) {
    const src = scope === 'Incident' ? c.incident : c.change;
    if (src) row[c.name] = resolve(src, fields);
  }
  row.Computer = computer;
  return row;
}

/** Incident statuses Resolved and Closed count as closed (Active and Pending are open). */
export function isIncidentClosed(statusLabel: string | null): boolean {
  return statusLabel === 'Resolved' || statusLabel === 'Closed';
}
