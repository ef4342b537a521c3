/**
 * THE Provance mapping — the one file that names Provance-specific entities, fields and option-set values.
 *
 * UNVERIFIED against a real Provance instance: no public Provance API reference exists
 * (partner-apis.md §4). Provance ITSM is built on Dynamics 365 / Dataverse, so the connector speaks the
 * documented Dataverse Web API; everything Dataverse defines (incident = Case, annotation = Note,
 * incidentresolution + CloseIncident, systemuser, account, statecode/statuscode) is used as Microsoft
 * documents it. What Provance adds on top (the change request and configuration item entities, the
 * custom columns and their option values, the `prov_` prefix) is a guess kept here so that a real
 * instance's names can be put in by editing this file alone. The Provance sandbox reads the same
 * constants, so it plays whatever this file says.
 *
 * Also here: Dataverse records (with formatted-value annotations) → ServiceDesk_CL rows.
 */
import type { SyncScope } from '../partner.ts';

export const MAPPING_VERIFIED = false;
export const MAPPING_NOTE = 'Provance entity and field names are modelled on the Dataverse Web API and are unverified against a real Provance instance.';

/** Publisher prefix of the Provance solution's custom entities and columns (unverified). */
export const PREFIX = 'prov_';

export interface OptionSet {
  /** Option value → label. */
  readonly [value: number]: string;
}

/**
 * Option sets. The case's own (priority, origin, type) are Dataverse's documented ones; the Provance-added
 * ones use custom option values from 100000000 as Dataverse assigns them (unverified).
 */
export const OPTIONS = {
  casePriority: { 1: 'High', 2: 'Normal', 3: 'Low' },
  caseOrigin: { 1: 'Phone', 2: 'Email', 3: 'Web', 2483: 'Facebook', 3986: 'Twitter', 700: 'IoT' },
  caseType: { 1: 'Question', 2: 'Problem', 3: 'Request' },
  impact: { 100000000: 'High', 100000001: 'Medium', 100000002: 'Low' },
  urgency: { 100000000: 'High', 100000001: 'Medium', 100000002: 'Low' },
  changeState: {
    100000000: 'New',
    100000001: 'Assess',
    100000002: 'Authorize',
    100000003: 'Scheduled',
    100000004: 'Implement',
    100000005: 'Review',
    100000006: 'Closed',
    100000007: 'Cancelled',
  },
  changeType: { 100000000: 'Standard', 100000001: 'Normal', 100000002: 'Emergency' },
  risk: { 100000000: 'High', 100000001: 'Moderate', 100000002: 'Low' },
  changeCategory: { 100000000: 'Hardware', 100000001: 'Software', 100000002: 'Network', 100000003: 'Service', 100000004: 'Other' },
  ciType: { 100000000: 'Computer', 100000001: 'Server', 100000002: 'Network Device', 100000003: 'Application' },
} as const satisfies Record<string, OptionSet>;

/** Change states that end a change (also set statecode 1 Inactive). */
export const CHANGE_CLOSED_STATES: readonly number[] = [100000006, 100000007];

/** Entity, entity set, column and navigation names. Standard Dataverse names are included for completeness. */
export const NAMES = {
  incident: {
    entity: 'incident',
    set: 'incidents',
    id: 'incidentid',
    number: 'ticketnumber',
    title: 'title',
    description: 'description',
    state: 'statecode',
    status: 'statuscode',
    priority: 'prioritycode',
    origin: 'caseorigincode',
    caseType: 'casetypecode',
    escalated: 'isescalated',
    /** Provance custom columns (unverified). */
    correlationKey: 'prov_correlationkey',
    impact: 'prov_impact',
    urgency: 'prov_urgency',
    resolvedOn: 'prov_resolvedon',
    /** The latest note the connector wrote (notes themselves are Dataverse annotations; this makes the case's modifiedon move). */
    lastNote: 'prov_lastnote',
    /** Single-valued lookup to the primary CI: column, its `_x_value` form and navigation property. */
    ci: 'prov_configurationitemid',
    ciNav: 'prov_ConfigurationItemId',
    /** N:N relationship (collection-valued navigation property) to further CIs. */
    cisNav: 'prov_incident_configurationitem',
  },
  change: {
    entity: 'prov_changerequest',
    set: 'prov_changerequests',
    id: 'prov_changerequestid',
    number: 'prov_name',
    title: 'prov_title',
    description: 'prov_description',
    changeState: 'prov_changestate',
    changeType: 'prov_changetype',
    risk: 'prov_risk',
    category: 'prov_category',
    impact: 'prov_impact',
    urgency: 'prov_urgency',
    plannedStart: 'prov_scheduledstart',
    plannedEnd: 'prov_scheduledend',
    workStart: 'prov_actualstart',
    workEnd: 'prov_actualend',
    closedOn: 'prov_closedon',
    ci: 'prov_configurationitemid',
    ciNav: 'prov_ConfigurationItemId',
    cisNav: 'prov_changerequest_configurationitem',
  },
  ci: {
    entity: 'prov_configurationitem',
    set: 'prov_configurationitems',
    id: 'prov_configurationitemid',
    name: 'prov_name',
    type: 'prov_citype',
    fqdn: 'prov_fqdn',
  },
  /** Dataverse's Note table, used for work notes (standard). */
  note: {
    entity: 'annotation',
    set: 'annotations',
    id: 'annotationid',
    subject: 'subject',
    text: 'notetext',
    objectNavIncident: 'objectid_incident',
    objectNavChange: 'objectid_prov_changerequest',
  },
  /** Number prefixes the sandbox gives new records (Dataverse's CAS- autonumber for cases is standard). */
  numberPrefix: { incident: 'CAS-', change: 'CHG-' },
} as const;

/** Incident statecode (Dataverse): 0 Active, 1 Resolved, 2 Canceled. */
export const INCIDENT_STATE = { active: 0, resolved: 1, canceled: 2 } as const;
/** Incident statuscode used when resolving (5 Problem Solved) and reopening (1 In Progress). */
export const INCIDENT_STATUS = { inProgress: 1, problemSolved: 5 } as const;

export function isIncidentClosed(statecode: string): boolean {
  return statecode === '1' || statecode === '2';
}

export function isChangeClosed(changeState: string): boolean {
  return CHANGE_CLOSED_STATES.includes(Number(changeState));
}

// ------------------------------------------------------------------ writing work items

/** Subject of the notes (annotations) the connector writes. */
export const NOTE_SUBJECT = 'OpenITSMC';
/** Type given to configuration items the connector creates (Computer). */
export const NEW_CI_TYPE = 100000000;
/** Correlation keys longer than the column are stored as `sha-<sha256 hex>`. */
export const CORRELATION_KEY_MAX = 400;

/** The action layer's impact/urgency scale (1 High, 2 Medium, 3 Low) → Provance option values. */
const SCALE: Record<string, number> = { '1': 100000000, '2': 100000001, '3': 100000002 };

/** Option-set columns of a case a WorkItemData field may set: column → options. */
const CASE_OPTION_COLUMNS: Record<string, OptionSet> = {
  [NAMES.incident.impact]: OPTIONS.impact,
  [NAMES.incident.urgency]: OPTIONS.urgency,
  [NAMES.incident.priority]: OPTIONS.casePriority,
  [NAMES.incident.origin]: OPTIONS.caseOrigin,
  [NAMES.incident.caseType]: OPTIONS.caseType,
};

/** Neutral field names the action layer uses → case columns. */
const GENERIC_FIELDS: Record<string, string> = { impact: NAMES.incident.impact, urgency: NAMES.incident.urgency };

/**
 * WorkItemData / severity fields → case column values. Option-set columns take an option value, a label
 * or (impact/urgency) the 1–3 scale; anything else is written as text. Throws a message naming the field.
 */
export function caseFieldValues(fields: Record<string, string>): Record<string, string | number> {
  const out: Record<string, string | number> = {};
  for (const [key, value] of Object.entries(fields)) {
    const column = GENERIC_FIELDS[key] ?? key;
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(column)) throw new RangeError(`"${key}" is not a Dataverse column name`);
    const options = CASE_OPTION_COLUMNS[column];
    if (!options) {
      out[column] = value;
      continue;
    }
    const v = value.trim();
    const byScale = column === NAMES.incident.impact || column === NAMES.incident.urgency ? SCALE[v] : undefined;
    const byLabel = Object.entries(options).find(([, l]) => l.toLowerCase() === v.toLowerCase())?.[0];
    const n = byScale ?? (/^\d+$/.test(v) && Number(v) in options ? Number(v) : byLabel !== undefined ? Number(byLabel) : undefined);
    if (n === undefined)
      throw new RangeError(
        `"${value}" is not a value of ${column} (${Object.entries(options)
          .map(([k, l]) => `${k} ${l}`)
          .join(', ')})`,
      );
    out[column] = n;
  }
  return out;
}

// ------------------------------------------------------------------ ServiceDesk_CL rows

/** A Dataverse record as the Web API returns it with formatted-value annotations. */
export type DvRecord = Record<string, unknown>;

const FORMATTED = '@OData.Community.Display.V1.FormattedValue';

/** The raw value of a column (`_x_value` for lookups) as a string; '' when null or absent. */
export function raw(rec: DvRecord, column: string): string {
  const v = rec[column];
  return v === null || v === undefined ? '' : String(v);
}

/** What a human sees: the formatted-value annotation, else the raw value; null when empty. */
export function label(rec: DvRecord, column: string): string | null {
  const f = rec[column + FORMATTED];
  if (typeof f === 'string' && f !== '') return f;
  const r = raw(rec, column);
  return r === '' ? null : r;
}

function text(rec: DvRecord, column: string): string | null {
  const r = raw(rec, column);
  return r === '' ? null : r;
}

/** Dataverse dates are ISO 8601 UTC (`2026-01-02T03:04:05Z`); normalise to seconds, null when absent. */
export function isoDate(rec: DvRecord, column: string): string | null {
  const r = raw(rec, column);
  const ms = Date.parse(r);
  return r === '' || !Number.isFinite(ms) ? null : new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

const lookup = (column: string): string => `_${column}_value`;

type Cell = (rec: DvRecord) => string | null;

const I = NAMES.incident;
const C = NAMES.change;

/** ServiceDesk_CL column → how it is read, per scope (the same column names Microsoft's ITSMC used). */
const INCIDENT_COLUMNS: Record<string, Cell> = {
  ServiceDeskId_s: (r) => text(r, I.number),
  IncidentState_s: (r) => label(r, I.state),
  Urgency_s: (r) => label(r, I.urgency),
  Impact_s: (r) => label(r, I.impact),
  Priority_s: (r) => label(r, I.priority),
  Escalation_s: (r) => label(r, I.escalated),
  CreatedBy_s: (r) => label(r, lookup('createdby')),
  AssignedTo_s: (r) => label(r, lookup('ownerid')),
  Source_s: (r) => label(r, I.origin),
  Category_s: (r) => label(r, I.caseType),
  Title_s: (r) => text(r, I.title),
  Description_s: (r) => text(r, I.description),
  CreatedDate_t: (r) => isoDate(r, 'createdon'),
  ResolvedDate_t: (r) => isoDate(r, I.resolvedOn),
  LastModifiedDate_t: (r) => isoDate(r, 'modifiedon'),
  Computer: (r) => label(r, lookup(I.ci)),
};

const CHANGE_COLUMNS: Record<string, Cell> = {
  ServiceDeskId_s: (r) => text(r, C.number),
  CRState_s: (r) => label(r, C.changeState),
  Urgency_s: (r) => label(r, C.urgency),
  Impact_s: (r) => label(r, C.impact),
  CreatedBy_s: (r) => label(r, lookup('createdby')),
  AssignedTo_s: (r) => label(r, lookup('ownerid')),
  Category_s: (r) => label(r, C.category),
  Title_s: (r) => text(r, C.title),
  Description_s: (r) => text(r, C.description),
  Type_s: (r) => label(r, C.changeType),
  Risk_s: (r) => label(r, C.risk),
  CreatedDate_t: (r) => isoDate(r, 'createdon'),
  ClosedDate_t: (r) => isoDate(r, C.closedOn),
  LastModifiedDate_t: (r) => isoDate(r, 'modifiedon'),
  RequestedDate_t: (r) => isoDate(r, 'createdon'),
  PlannedStartDate_t: (r) => isoDate(r, C.plannedStart),
  PlannedEndDate_t: (r) => isoDate(r, C.plannedEnd),
  WorkStartDate_t: (r) => isoDate(r, C.workStart),
  WorkEndDate_t: (r) => isoDate(r, C.workEnd),
  Computer: (r) => label(r, lookup(C.ci)),
};

export const SCOPES: Record<SyncScope, { set: string; id: string; columns: Record<string, Cell>; select: string[] }> = {
  Incident: {
    set: I.set,
    id: I.id,
    columns: INCIDENT_COLUMNS,
    select: [
      I.id,
      I.number,
      I.state,
      I.urgency,
      I.impact,
      I.priority,
      I.escalated,
      lookup('createdby'),
      lookup('ownerid'),
      I.origin,
      I.caseType,
      I.title,
      I.description,
      'createdon',
      I.resolvedOn,
      'modifiedon',
      lookup(I.ci),
    ],
  },
  ChangeRequest: {
    set: C.set,
    id: C.id,
    columns: CHANGE_COLUMNS,
    select: [
      C.id,
      C.number,
      C.changeState,
      C.urgency,
      C.impact,
      lookup('createdby'),
      lookup('ownerid'),
      C.category,
      C.title,
      C.description,
      C.changeType,
      C.risk,
      'createdon',
      C.closedOn,
      'modifiedon',
      C.plannedStart,
      C.plannedEnd,
      C.workStart,
      C.workEnd,
      lookup(C.ci),
    ],
  },
};

export type ServiceDeskRow = Record<string, string | null>;

/** One Dataverse record (read with formatted values) → one ServiceDesk_CL row. */
export function toServiceDeskRow(scope: SyncScope, rec: DvRecord): ServiceDeskRow {
  const row: ServiceDeskRow = { ServiceDeskWorkItemType_s: scope };
  for (const [column, read] of Object.entries(SCOPES[scope].columns)) row[column] = read(rec);
  return row;
}
