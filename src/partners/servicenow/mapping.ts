/**
 * Pure mapping from ServiceNow records (read with sysparm_display_value=all) to ServiceDesk_CL rows, with
 * the column names Microsoft's ITSMC used (itsmc-features §2.1), plus state and severity helpers.
 */
import type { AlertSeverity, MonitorCondition } from '../../core/alert.ts';
import type { SyncScope } from '../partner.ts';
import type { ServiceDeskRow } from '../../workspace/tables.ts';

/** A field as the Table API returns it: plain string, `{value, display_value}` (display_value=all) or `{link, value}`. */
export type SnField = string | { value?: unknown; display_value?: unknown; link?: unknown } | null | undefined;
export type SnRecord = Record<string, SnField>;

/** Raw stored value of a field. */
export function rawValue(f: SnField): string {
  if (f === null || f === undefined) return '';
  if (typeof f === 'string') return f;
  if (typeof f === 'object') {
    const v = f.value;
    return v === null || v === undefined ? '' : String(v);
  }
  return String(f);
}

/** What a human sees (display label); falls back to the raw value. */
export function displayValue(f: SnField): string {
  if (f === null || f === undefined) return '';
  if (typeof f === 'string') return f;
  if (typeof f === 'object') {
    const d = f.display_value;
    if (d !== null && d !== undefined) return String(d);
    return rawValue(f);
  }
  return String(f);
}

/** ServiceNow `yyyy-MM-dd HH:mm:ss` (UTC) → `yyyy-MM-ddTHH:mm:ssZ`; empty or unparsable → null. */
export function snDateToIso(value: string): string | null {
  const v = value.trim();
  if (v === '') return null;
  const m = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})(?:\.\d+)?Z?$/.exec(v);
  if (m) return `${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}Z`;
  const d = /^(\d{4})-(\d{2})-(\d{2})$/.exec(v);
  if (d) return `${d[1]}-${d[2]}-${d[3]}T00:00:00Z`;
  return null;
}

/** ISO 8601 (any offset) → ServiceNow UTC literal `yyyy-MM-dd HH:mm:ss` (seconds floored). */
export function isoToSnDate(iso: string): string {
  const ms = Date.parse(iso);
  if (!Number.isFinite(ms)) throw new RangeError(`not an ISO 8601 time: ${iso}`);
  return new Date(ms).toISOString().slice(0, 19).replace('T', ' ');
}

export type KustoType = 'string' | 'datetime';

export interface ServiceDeskColumn {
  name: string;
  type: KustoType;
  /** Which work item types carry the column. */
  scopes: readonly SyncScope[];
}

type Source = { field: string; label: boolean } | { date: string };

const both: readonly SyncScope[] = ['Incident', 'ChangeRequest'];
const inc: readonly SyncScope[] = ['Incident'];
const cr: readonly SyncScope[] = ['ChangeRequest'];

/** Column → [type, scopes, source field per scope]. Labels where ITSMC showed labels (states, choices, users, CI name). */
const COLUMN_SPEC: readonly { name: keyof ServiceDeskRow; type: KustoType; scopes: readonly SyncScope[]; incident?: Source; change?: Source }[] = [
  { name: 'ServiceDeskWorkItemType_s', type: 'string', scopes: both },
  { name: 'ServiceDeskId_s', type: 'string', scopes: both, incident: { field: 'number', label: false }, change: { field: 'number', label: false } },
  { name: 'IncidentState_s', type: 'string', scopes: inc, incident: { field: 'state', label: true } },
  { name: 'CRState_s', type: 'string', scopes: cr, change: { field: 'state', label: true } },
  { name: 'Urgency_s', type: 'string', scopes: both, incident: { field: 'urgency', label: true }, change: { field: 'urgency', label: true } },
  { name: 'Impact_s', type: 'string', scopes: both, incident: { field: 'impact', label: true }, change: { field: 'impact', label: true } },
  { name: 'Priority_s', type: 'string', scopes: both, incident: { field: 'priority', label: true }, change: { field: 'priority', label: true } },
  { name: 'Escalation_s', type: 'string', scopes: both, incident: { field: 'escalation', label: true }, change: { field: 'escalation', label: true } },
  { name: 'CreatedBy_s', type: 'string', scopes: both, incident: { field: 'opened_by', label: true }, change: { field: 'requested_by', label: true } },
  { name: 'ResolvedBy_s', type: 'string', scopes: inc, incident: { field: 'resolved_by', label: true } },
  { name: 'ClosedBy_s', type: 'string', scopes: both, incident: { field: 'closed_by', label: true }, change: { field: 'closed_by', label: true } },
  { name: 'Source_s', type: 'string', scopes: both, incident: { field: 'contact_type', label: true }, change: { field: 'contact_type', label: true } },
  { name: 'AssignedTo_s', type: 'string', scopes: both, incident: { field: 'assigned_to', label: true }, change: { field: 'assigned_to', label: true } },
  { name: 'Category_s', type: 'string', scopes: both, incident: { field: 'category', label: true }, change: { field: 'category', label: true } },
  {
    name: 'Title_s',
    type: 'string',
    scopes: both,
    incident: { field: 'short_description', label: false },
    change: { field: 'short_description', label: false },
  },
  { name: 'Description_s', type: 'string', scopes: both, incident: { field: 'description', label: false }, change: { field: 'description', label: false } },
  { name: 'Type_s', type: 'string', scopes: cr, change: { field: 'type', label: true } },
  { name: 'Risk_s', type: 'string', scopes: cr, change: { field: 'risk', label: true } },
  { name: 'ConflictStatus_s', type: 'string', scopes: cr, change: { field: 'conflict_status', label: true } },
  { name: 'CreatedDate_t', type: 'datetime', scopes: both, incident: { date: 'opened_at' }, change: { date: 'opened_at' } },
  { name: 'ClosedDate_t', type: 'datetime', scopes: both, incident: { date: 'closed_at' }, change: { date: 'closed_at' } },
  { name: 'ResolvedDate_t', type: 'datetime', scopes: inc, incident: { date: 'resolved_at' } },
  { name: 'LastModifiedDate_t', type: 'datetime', scopes: both, incident: { date: 'sys_updated_on' }, change: { date: 'sys_updated_on' } },
  { name: 'RequestedDate_t', type: 'datetime', scopes: cr, change: { date: 'requested_by_date' } },
  { name: 'PlannedStartDate_t', type: 'datetime', scopes: cr, change: { date: 'start_date' } },
  { name: 'PlannedEndDate_t', type: 'datetime', scopes: cr, change: { date: 'end_date' } },
  { name: 'WorkStartDate_t', type: 'datetime', scopes: cr, change: { date: 'work_start' } },
  { name: 'WorkEndDate_t', type: 'datetime', scopes: cr, change: { date: 'work_end' } },
  { name: 'Computer', type: 'string', scopes: both, incident: { field: 'cmdb_ci', label: true }, change: { field: 'cmdb_ci', label: true } },
];

/** Every ServiceDesk_CL column this mapping produces, with its Kusto type and the work item types that carry it. */
export const serviceDeskColumns: readonly ServiceDeskColumn[] = COLUMN_SPEC.map(({ name, type, scopes }) => ({ name, type, scopes }));

export const SCOPE_TABLE: Record<SyncScope, 'incident' | 'change_request'> = { Incident: 'incident', ChangeRequest: 'change_request' };

/** The ServiceNow fields a sync read needs for a scope (for sysparm_fields). */
export function syncFields(scope: SyncScope): string[] {
  const fields = new Set<string>(['sys_id', 'sys_updated_on']);
  for (const c of COLUMN_SPEC) {
    const src = scope === 'Incident' ? c.incident : c.change;
    if (src) fields.add('field' in src ? src.field : src.date);
  }
  return [...fields];
}

export type { ServiceDeskRow };

/** A ServiceNow incident/change_request record (display_value=all) → one ServiceDesk_CL row. */
export function toServiceDeskRow(scope: SyncScope, record: SnRecord): ServiceDeskRow {
  const row: ServiceDeskRow = {};
  for (const c of COLUMN_SPEC) {
    if (!c.scopes.includes(scope)) continue;
    if (c.name === 'ServiceDeskWorkItemType_s') {
      row[c.name] = scope;
      continue;
    }
    const src = scope === 'Incident' ? c.incident : c.change;
    if (!src) continue;
    if ('date' in src) row[c.name] = snDateToIso(rawValue(record[src.date]));
    else row[c.name] = src.label ? displayValue(record[src.field]) : rawValue(record[src.field]);
  }
  return row;
}

/** Incident states 6 Resolved, 7 Closed, 8 Canceled count as closed. */
export function isIncidentClosed(state: string): boolean {
  return state === '6' || state === '7' || state === '8';
}

/** change_request states 3 Closed and 4 Canceled. */
export function isChangeClosed(state: string): boolean {
  return state === '3' || state === '4';
}

/** em_alert state (Open, Reopen, Flapping, Closed). */
export function isAlertClosed(state: string): boolean {
  return state.trim().toLowerCase() === 'closed';
}

/** ServiceNow event severity: 0 Clear, 1 Critical, 2 Major, 3 Minor, 4 Warning, 5 OK/Info. */
export type EventSeverity = '0' | '1' | '2' | '3' | '4' | '5';

const SEVERITY: Record<AlertSeverity, EventSeverity> = { Sev0: '1', Sev1: '2', Sev2: '3', Sev3: '4', Sev4: '5' };

/** Our Sev0…Sev4 → ServiceNow event severity 1…5; a resolved alert is 0 (Clear, closes the ServiceNow alert). */
export function eventSeverity(severity: AlertSeverity, condition: MonitorCondition = 'Fired'): EventSeverity {
  return condition === 'Resolved' ? '0' : SEVERITY[severity];
}

export function isEventSeverity(value: string): value is EventSeverity {
  return /^[0-5]$/.test(value);
}
