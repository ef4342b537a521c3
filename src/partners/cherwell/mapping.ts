/**
 * The one place that maps Cherwell business objects to ServiceDesk_CL columns (the columns Microsoft's
 * ITSMC used, itsmc-features §2.1) and says which Cherwell states count as closed. Cherwell records are
 * read as `{ fieldName: value }`; date/times arrive as US local times of the server's zone and leave as
 * ISO 8601 UTC.
 */
import type { SyncScope } from '../partner.ts';
import { parseUsLocal } from './dates.ts';

/** Cherwell business object names per work item scope. */
export const BUSINESS_OBJECT: Record<SyncScope, string> = { Incident: 'Incident', ChangeRequest: 'ChangeRequest' };

/** Public-id field (what a human sees) per scope. */
export const PUBLIC_ID_FIELD: Record<SyncScope, string> = { Incident: 'IncidentID', ChangeRequest: 'ChangeID' };

/** Text column → Cherwell field, per scope. */
const TEXT: Record<SyncScope, Record<string, string>> = {
  Incident: {
    ServiceDeskId_s: 'IncidentID',
    IncidentState_s: 'Status',
    Urgency_s: 'Urgency',
    Impact_s: 'Impact',
    Priority_s: 'Priority',
    CreatedBy_s: 'CreatedBy',
    Source_s: 'Source',
    AssignedTo_s: 'OwnedBy',
    Category_s: 'Category',
    Title_s: 'ShortDescription',
    Description_s: 'Description',
    Computer: 'ConfigItemDisplayName',
  },
  ChangeRequest: {
    ServiceDeskId_s: 'ChangeID',
    CRState_s: 'Status',
    Priority_s: 'Priority',
    CreatedBy_s: 'RequestedBy',
    AssignedTo_s: 'OwnedBy',
    Category_s: 'Category',
    Title_s: 'Title',
    Description_s: 'Description',
    Type_s: 'Type',
    Risk_s: 'Risk',
    Computer: 'ConfigItemDisplayName',
  },
};

/** Datetime column → Cherwell field, per scope. */
const DATES: Record<SyncScope, Record<string, string>> = {
  Incident: {
    CreatedDate_t: 'CreatedDateTime',
    ResolvedDate_t: 'ResolvedDateTime',
    ClosedDate_t: 'ClosedDateTime',
    LastModifiedDate_t: 'LastModifiedDateTime',
  },
  ChangeRequest: {
    CreatedDate_t: 'CreatedDateTime',
    ClosedDate_t: 'ClosedDateTime',
    LastModifiedDate_t: 'LastModifiedDateTime',
    PlannedStartDate_t: 'ProposedStartDate',
    PlannedEndDate_t: 'ProposedEndDate',
    WorkStartDate_t: 'ActualStartDateTime',
    WorkEndDate_t: 'ActualEndDateTime',
  },
};

/** Every ServiceDesk_CL column the rows of either scope fill. */
export const serviceDeskColumns: readonly string[] = [
  ...new Set(['ServiceDeskWorkItemType_s', ...(['Incident', 'ChangeRequest'] as const).flatMap((s) => [...Object.keys(TEXT[s]), ...Object.keys(DATES[s])])]),
];

/** Every Cherwell field a sync read of `scope` needs. */
export function syncFieldNames(scope: SyncScope): string[] {
  return [...new Set(['RecID', ...Object.values(TEXT[scope]), ...Object.values(DATES[scope])])];
}

/** US local time of the server zone → ISO 8601 UTC; empty or unreadable → null. */
export function cherwellDateToIso(value: string | undefined, timeZone: string): string | null {
  if (!value) return null;
  const ms = parseUsLocal(value, timeZone);
  return ms === null ? null : new Date(ms).toISOString().replace('.000Z', 'Z');
}

export type ServiceDeskRow = Record<string, string | null>;

/** One Cherwell Incident / ChangeRequest (field name → value) → one ServiceDesk_CL row. */
export function toServiceDeskRow(scope: SyncScope, fields: Record<string, string>, timeZone: string): ServiceDeskRow {
  const row: ServiceDeskRow = { ServiceDeskWorkItemType_s: scope };
  for (const [column, field] of Object.entries(TEXT[scope])) row[column] = fields[field] ?? '';
  for (const [column, field] of Object.entries(DATES[scope])) row[column] = cherwellDateToIso(fields[field], timeZone);
  return row;
}

/** Incident states Resolved and Closed count as closed (Reopened does not). */
export function isIncidentClosed(status: string): boolean {
  return status === 'Resolved' || status === 'Closed';
}

export function isChangeClosed(status: string): boolean {
  return status === 'Closed' || status === 'Cancelled';
}

/** The Cherwell fields the client writes for a work item, by role (names resolved to ids via the template). */
export const WRITE_FIELDS = {
  title: 'ShortDescription',
  description: 'Description',
  status: 'Status',
  correlationKey: 'CorrelationKey',
  ciRecId: 'ConfigItemRecID',
  ciName: 'ConfigItemDisplayName',
  resolution: 'CloseDescription',
} as const;

export const RESOLVED_STATUS = 'Resolved';
export const REOPENED_STATUS = 'Reopened';
