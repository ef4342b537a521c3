/**
 * The business objects of the Cherwell sandbox: Incident (the out-of-the-box id and the field ids that
 * partner-apis.md §2.2/§2.5 document), ChangeRequest, ConfigurationItem and JournalNote. Field ids that no
 * source documents are derived deterministically from the object and field name [INF]: clients must
 * resolve names to ids through the template, never hard-code them.
 */
import { createHash } from 'node:crypto';

export type FieldType = 'Text' | 'Number' | 'DateTime' | 'Logical';

export interface FieldDef {
  name: string;
  displayName: string;
  /** 32-hex field definition id (the `FI:` part). */
  id: string;
  type: FieldType;
  required?: boolean;
  readOnly?: boolean;
  /** Longest text the field holds (0 = unlimited). */
  maxLength?: number;
  /** Allowed values (validated on save). */
  choices?: readonly string[];
  defaultValue?: string;
}

export interface BusObDef {
  name: string;
  displayName: string;
  busObId: string;
  /** Field holding the human-facing public id (IncidentID …). */
  publicIdField: string;
  /** Status field and its states (summary `states`), when the object has a lifecycle. */
  stateField?: string;
  states?: readonly string[];
  /** Prefix-free numeric public ids start here. */
  firstPublicId?: number;
  major: boolean;
  fields: FieldDef[];
  byName: Map<string, FieldDef>;
  byId: Map<string, FieldDef>;
}

function derivedId(...parts: string[]): string {
  return createHash('md5').update(parts.join('\u0000')).digest('hex');
}

type FieldSpec = Omit<FieldDef, 'id' | 'displayName'> & { id?: string; displayName?: string };

function define(spec: Omit<BusObDef, 'fields' | 'byName' | 'byId'>, fields: FieldSpec[]): BusObDef {
  const defs: FieldDef[] = fields.map((f) => ({
    ...f,
    displayName: f.displayName ?? f.name.replace(/([a-z])([A-Z])/g, '$1 $2'),
    id: f.id ?? derivedId(spec.name, f.name),
  }));
  return {
    ...spec,
    fields: defs,
    byName: new Map(defs.map((f) => [f.name.toLowerCase(), f])),
    byId: new Map(defs.map((f) => [f.id, f])),
  };
}

const COMMON_TAIL: FieldSpec[] = [
  { name: 'CreatedDateTime', type: 'DateTime', readOnly: true },
  { name: 'CreatedBy', type: 'Text', readOnly: true },
  { name: 'LastModifiedDateTime', type: 'DateTime', readOnly: true },
  { name: 'LastModBy', displayName: 'Last Modified By', type: 'Text', readOnly: true },
];

export const INCIDENT_STATES = ['Pending', 'Closed', 'Reopened', 'New', 'In Progress', 'Resolved', 'Assigned'] as const;
export const CHANGE_STATES = ['New', 'Classify', 'Pending Approval', 'Scheduled', 'Implementing', 'Review', 'Closed', 'Cancelled'] as const;
export const PRIORITIES = ['1', '2', '3', '4', '5'] as const;

export const INCIDENT = define(
  {
    name: 'Incident',
    displayName: 'Incident',
    busObId: '6dd53665c0c24cab86870a21cf6434ae',
    publicIdField: 'IncidentID',
    stateField: 'Status',
    states: INCIDENT_STATES,
    firstPublicId: 100001,
    major: true,
  },
  [
    { name: 'RecID', displayName: 'RecID', id: 'fa03d51b709e4a6eb2d52885b2ef7e04', type: 'Text', readOnly: true },
    { name: 'IncidentID', displayName: 'Incident ID', id: '6ae282c55e8e4266ae66ffc070c17fa3', type: 'Text', readOnly: true },
    { name: 'Status', id: '5eb3234ae1344c64a19819eda437f18d', type: 'Text', choices: INCIDENT_STATES, defaultValue: 'New' },
    { name: 'ShortDescription', type: 'Text', required: true, maxLength: 250 },
    { name: 'Description', type: 'Text', maxLength: 0 },
    { name: 'Priority', type: 'Text', choices: PRIORITIES, defaultValue: '3' },
    { name: 'Impact', type: 'Text', choices: ['High', 'Medium', 'Low'], defaultValue: 'Low' },
    { name: 'Urgency', type: 'Text', choices: ['High', 'Medium', 'Low'], defaultValue: 'Low' },
    { name: 'IncidentType', type: 'Text', choices: ['Incident', 'Service Request'], defaultValue: 'Incident' },
    { name: 'Service', type: 'Text', maxLength: 100 },
    { name: 'Category', type: 'Text', maxLength: 100 },
    { name: 'Subcategory', type: 'Text', maxLength: 100 },
    { name: 'Source', displayName: 'Call Source', type: 'Text', maxLength: 50 },
    { name: 'CustomerDisplayName', displayName: 'Customer', type: 'Text', maxLength: 100 },
    { name: 'CustomerRecID', type: 'Text' },
    { name: 'OwnedBy', displayName: 'Owned By', type: 'Text', maxLength: 100 },
    { name: 'OwnedByTeam', displayName: 'Owned By Team', type: 'Text', maxLength: 100 },
    { name: 'ConfigItemRecID', displayName: 'Primary CI RecID', type: 'Text' },
    { name: 'ConfigItemDisplayName', displayName: 'Primary CI', type: 'Text', maxLength: 100 },
    { name: 'CorrelationKey', displayName: 'Correlation Key', type: 'Text', maxLength: 200 },
    { name: 'CloseDescription', displayName: 'Resolution', type: 'Text', maxLength: 0 },
    { name: 'ResolvedDateTime', type: 'DateTime', readOnly: true },
    { name: 'ClosedDateTime', type: 'DateTime', readOnly: true },
    ...COMMON_TAIL,
  ],
);

export const CHANGE_REQUEST = define(
  {
    name: 'ChangeRequest',
    displayName: 'Change Request',
    busObId: derivedId('busob', 'ChangeRequest'),
    publicIdField: 'ChangeID',
    stateField: 'Status',
    states: CHANGE_STATES,
    firstPublicId: 20001,
    major: true,
  },
  [
    { name: 'RecID', displayName: 'RecID', type: 'Text', readOnly: true },
    { name: 'ChangeID', displayName: 'Change ID', type: 'Text', readOnly: true },
    { name: 'Status', type: 'Text', choices: CHANGE_STATES, defaultValue: 'New' },
    { name: 'Title', type: 'Text', required: true, maxLength: 250 },
    { name: 'Description', type: 'Text', maxLength: 0 },
    { name: 'Priority', type: 'Text', choices: PRIORITIES, defaultValue: '3' },
    { name: 'Type', displayName: 'Change Type', type: 'Text', choices: ['Standard', 'Normal', 'Emergency'], defaultValue: 'Normal' },
    { name: 'Risk', displayName: 'Risk Level', type: 'Text', choices: ['High', 'Medium', 'Low'], defaultValue: 'Low' },
    { name: 'Category', type: 'Text', maxLength: 100 },
    { name: 'RequestedBy', displayName: 'Requested By', type: 'Text', maxLength: 100 },
    { name: 'OwnedBy', displayName: 'Owned By', type: 'Text', maxLength: 100 },
    { name: 'OwnedByTeam', displayName: 'Owned By Team', type: 'Text', maxLength: 100 },
    { name: 'ConfigItemDisplayName', displayName: 'Primary CI', type: 'Text', maxLength: 100 },
    { name: 'ProposedStartDate', displayName: 'Proposed Start', type: 'DateTime' },
    { name: 'ProposedEndDate', displayName: 'Proposed End', type: 'DateTime' },
    { name: 'ActualStartDateTime', displayName: 'Actual Start', type: 'DateTime' },
    { name: 'ActualEndDateTime', displayName: 'Actual End', type: 'DateTime' },
    { name: 'CorrelationKey', displayName: 'Correlation Key', type: 'Text', maxLength: 200 },
    { name: 'ClosedDateTime', type: 'DateTime', readOnly: true },
    ...COMMON_TAIL,
  ],
);

export const CONFIG_ITEM = define(
  {
    name: 'ConfigurationItem',
    displayName: 'Configuration Item',
    busObId: derivedId('busob', 'ConfigurationItem'),
    publicIdField: 'RecID',
    major: true,
  },
  [
    { name: 'RecID', displayName: 'RecID', type: 'Text', readOnly: true },
    { name: 'FriendlyName', displayName: 'Friendly Name', type: 'Text', required: true, maxLength: 100 },
    { name: 'HostName', displayName: 'Host Name', type: 'Text', maxLength: 100 },
    { name: 'ConfigurationItemTypeName', displayName: 'CI Type', type: 'Text', defaultValue: 'Config - Computer' },
    ...COMMON_TAIL,
  ],
);

export const JOURNAL_NOTE = define(
  {
    name: 'JournalNote',
    displayName: 'Journal - Note',
    busObId: derivedId('busob', 'JournalNote'),
    publicIdField: 'RecID',
    major: false,
  },
  [
    { name: 'RecID', displayName: 'RecID', type: 'Text', readOnly: true },
    { name: 'ParentRecID', displayName: 'Parent RecID', type: 'Text', required: true },
    { name: 'ParentTypeID', displayName: 'Parent Type ID', type: 'Text', required: true },
    { name: 'Details', type: 'Text', required: true, maxLength: 0 },
    { name: 'JournalTypeName', displayName: 'Journal Type', type: 'Text', defaultValue: 'Note' },
    ...COMMON_TAIL,
  ],
);

export const BUSINESS_OBJECTS: readonly BusObDef[] = [INCIDENT, CHANGE_REQUEST, CONFIG_ITEM, JOURNAL_NOTE];

export function busObById(id: string): BusObDef | undefined {
  const k = id.toLowerCase();
  return BUSINESS_OBJECTS.find((b) => b.busObId === k);
}

export function busObByName(name: string): BusObDef | undefined {
  const k = name.toLowerCase();
  return BUSINESS_OBJECTS.find((b) => b.name.toLowerCase() === k);
}

/** `BO:<busObId>,FI:<fieldId>` — the form templates and search results use. */
export function qualifiedFieldId(bo: BusObDef, f: FieldDef): string {
  return `BO:${bo.busObId},FI:${f.id}`;
}

/** A field given as `BO:…,FI:…`, a bare 32-hex id, or (fallback) its name. */
export function resolveField(bo: BusObDef, fieldId: string | undefined, name: string | undefined): FieldDef | undefined {
  const id = (fieldId ?? '').trim();
  if (id) {
    const m = /FI:([0-9a-fA-F]{32})/.exec(id) ?? /^([0-9a-fA-F]{32})$/.exec(id);
    return m ? bo.byId.get(m[1].toLowerCase()) : undefined;
  }
  return name ? bo.byName.get(name.toLowerCase()) : undefined;
}
