/**
 * The slice of the Service Manager data model the web app exposes (partner-apis.md §3.2): classes and
 * their properties, enumerations with their lookup values, and the incident priority matrix.
 * Enum and property ids are GUIDs derived from their names, so they are the same in every sandbox the way
 * management-pack ids are the same on every SCSM server.
 */
import { createHash } from 'node:crypto';

export type PropertyType = 'string' | 'richtext' | 'enum' | 'datetime' | 'int' | 'bool' | 'guid';

export interface PropertyDef {
  name: string;
  displayName: string;
  type: PropertyType;
  /** Enumeration root for `enum` properties. */
  enumType?: string;
  required?: boolean;
  maxLength?: number;
  /** Set by the server (Id, dates it stamps); a create or update that sends it is refused. */
  readOnly?: boolean;
}

export interface ClassDef {
  name: string;
  /** SQLite table of the sandbox store. */
  table: string;
  /** Work items get `IR`/`CR` ids; CIs are keyed by a property. */
  idPrefix?: string;
  key: string;
  properties: PropertyDef[];
}

export const INCIDENT_CLASS = 'System.WorkItem.Incident';
export const CHANGE_CLASS = 'System.WorkItem.ChangeRequest';
export const COMPUTER_CLASS = 'Microsoft.Windows.Computer';
export const INCIDENT_PROJECTION = 'IncidentManagement!System.WorkItem.Incident.ProjectionType';
/** Who the web app writes as the author of the comments it adds. */
export const WEB_APP_AUTHOR = 'SM-OMS';

export function guidFrom(text: string): string {
  const h = createHash('sha1').update(text).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${((parseInt(h[16], 16) & 3) | 8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

// ------------------------------------------------------------------ enumerations

export interface EnumValue {
  /** Full enumeration name, e.g. `IncidentStatusEnum.Active.Pending`. */
  name: string;
  id: string;
  displayName: string;
}

const ENUM_DEFS: Record<string, [string, string][]> = {
  'System.WorkItem.TroubleTicket.UrgencyEnum': [
    ['High', 'High'],
    ['Medium', 'Medium'],
    ['Low', 'Low'],
  ],
  'System.WorkItem.TroubleTicket.ImpactEnum': [
    ['High', 'High'],
    ['Medium', 'Medium'],
    ['Low', 'Low'],
  ],
  IncidentStatusEnum: [
    ['Active', 'Active'],
    ['Active.Pending', 'Pending'],
    ['Resolved', 'Resolved'],
    ['Closed', 'Closed'],
  ],
  IncidentSourceEnum: [
    ['Console', 'Console'],
    ['Email', 'E-Mail'],
    ['Phone', 'Phone'],
    ['Portal', 'Portal'],
    ['DCM', 'DCM'],
    ['SCOM', 'Operations Manager'],
  ],
  IncidentTierQueuesEnum: [
    ['Tier1', 'Tier 1'],
    ['Tier2', 'Tier 2'],
    ['Tier3', 'Tier 3'],
  ],
  IncidentClassificationEnum: [
    ['Hardware', 'Hardware Problems'],
    ['Software', 'Software Problems'],
    ['Networking', 'Networking Problems'],
    ['Printing', 'Printing Problems'],
    ['Email', 'E-Mail Problems'],
    ['Other', 'Other Problems'],
  ],
  IncidentResolutionCategoryEnum: [
    ['FixedByAnalyst', 'Fixed by analyst'],
    ['FixedByHigherTierSupport', 'Fixed by higher tier support'],
    ['WorkAround', 'Workaround applied'],
    ['NotReproducible', 'Not reproducible'],
    ['Cancelled', 'Cancelled'],
  ],
  ChangeStatusEnum: [
    ['New', 'New'],
    ['Submitted', 'Submitted'],
    ['InProgress', 'In Progress'],
    ['OnHold', 'On Hold'],
    ['Completed', 'Completed'],
    ['Closed', 'Closed'],
    ['Cancelled', 'Cancelled'],
    ['Failed', 'Failed'],
  ],
  ChangeRiskEnum: [
    ['Low', 'Low'],
    ['Medium', 'Medium'],
    ['High', 'High'],
  ],
  ChangeImpactEnum: [
    ['Low', 'Low'],
    ['Medium', 'Medium'],
    ['High', 'High'],
  ],
  ChangePriorityEnum: [
    ['Low', 'Low'],
    ['Medium', 'Medium'],
    ['High', 'High'],
    ['Immediate', 'Immediate'],
  ],
  ChangeCategoryEnum: [
    ['Standard', 'Standard'],
    ['Minor', 'Minor'],
    ['Major', 'Major'],
    ['Emergency', 'Emergency'],
  ],
  ChangeAreaEnum: [
    ['Hardware', 'Hardware'],
    ['Software', 'Software'],
    ['Network', 'Network'],
    ['Facilities', 'Facilities'],
  ],
};

/** Enumeration root → its values (children of the root, in display order). */
export const ENUMS: ReadonlyMap<string, EnumValue[]> = new Map(
  Object.entries(ENUM_DEFS).map(([root, values]) => [
    root,
    values.map(([leaf, displayName]) => ({ name: `${root}.${leaf}`, id: guidFrom(`enum:${root}.${leaf}`), displayName })),
  ]),
);

const ENUM_BY_NAME = new Map<string, EnumValue>();
const ENUM_BY_ID = new Map<string, EnumValue>();
for (const values of ENUMS.values()) {
  for (const v of values) {
    ENUM_BY_NAME.set(v.name, v);
    ENUM_BY_ID.set(v.id, v);
  }
}

export function enumByName(name: string): EnumValue | undefined {
  return ENUM_BY_NAME.get(name);
}

/**
 * Resolves what a caller sent for an enum property: the value's GUID, its full name, or its display name
 * within the property's enumeration (the web app passes values through the SDK, which takes any of them).
 */
export function resolveEnum(root: string, input: string): EnumValue | undefined {
  const values = ENUMS.get(root) ?? [];
  const t = input.trim();
  const lower = t.toLowerCase();
  const byId = ENUM_BY_ID.get(lower);
  if (byId && values.includes(byId)) return byId;
  return values.find((v) => v.name === t || v.name === `${root}.${t}` || v.displayName.toLowerCase() === lower);
}

// ------------------------------------------------------------------ classes

const s = (name: string, displayName: string, maxLength: number, more: Partial<PropertyDef> = {}): PropertyDef => ({
  name,
  displayName,
  type: 'string',
  maxLength,
  ...more,
});
const e = (name: string, displayName: string, enumType: string, more: Partial<PropertyDef> = {}): PropertyDef => ({
  name,
  displayName,
  type: 'enum',
  enumType,
  ...more,
});
const d = (name: string, displayName: string, more: Partial<PropertyDef> = {}): PropertyDef => ({ name, displayName, type: 'datetime', ...more });

const WORK_ITEM_COMMON: PropertyDef[] = [
  s('Id', 'ID', 256, { readOnly: true }),
  s('Title', 'Title', 200, { required: true }),
  s('Description', 'Description', 4000),
  s('DisplayName', 'Display Name', 4000, { readOnly: true }),
  d('CreatedDate', 'Created Date', { readOnly: true }),
  d('LastModified', 'Last Modified', { readOnly: true }),
];

export const CLASSES: ReadonlyMap<string, ClassDef> = new Map<string, ClassDef>([
  [
    INCIDENT_CLASS,
    {
      name: INCIDENT_CLASS,
      table: 'incident',
      idPrefix: 'IR',
      key: 'Id',
      properties: [
        ...WORK_ITEM_COMMON,
        e('Urgency', 'Urgency', 'System.WorkItem.TroubleTicket.UrgencyEnum', { required: true }),
        e('Impact', 'Impact', 'System.WorkItem.TroubleTicket.ImpactEnum', { required: true }),
        { name: 'Priority', displayName: 'Priority', type: 'int', readOnly: true },
        e('Status', 'Status', 'IncidentStatusEnum'),
        e('Source', 'Source', 'IncidentSourceEnum'),
        e('TierQueue', 'Support Group', 'IncidentTierQueuesEnum'),
        e('Classification', 'Classification Category', 'IncidentClassificationEnum'),
        e('ResolutionCategory', 'Resolution Category', 'IncidentResolutionCategoryEnum'),
        s('ResolutionDescription', 'Resolution Description', 4000),
        d('TargetResolutionTime', 'Target Resolution Time'),
        { name: 'Escalated', displayName: 'Escalated', type: 'bool' },
        s('ContactMethod', 'Alternate Contact Method', 256),
        { name: 'NeedsKnowledgeArticle', displayName: 'Needs Knowledge Article', type: 'bool' },
        d('FirstAssignedDate', 'First Assigned Date'),
        d('FirstResponseDate', 'First Response Date'),
        s('UserInput', 'User Input', 4000),
        d('ResolvedDate', 'Resolved Date', { readOnly: true }),
        d('ClosedDate', 'Closed Date', { readOnly: true }),
      ],
    },
  ],
  [
    CHANGE_CLASS,
    {
      name: CHANGE_CLASS,
      table: 'change_request',
      idPrefix: 'CR',
      key: 'Id',
      properties: [
        ...WORK_ITEM_COMMON,
        s('Reason', 'Reason', 4000),
        s('Notes', 'Notes', 4000),
        s('ImplementationPlan', 'Implementation Plan', 4000),
        s('RiskAssessmentPlan', 'Risk Assessment Plan', 4000),
        s('BackoutPlan', 'Backout Plan', 4000),
        s('TestPlan', 'Test Plan', 4000),
        s('PostImplementationReview', 'Post Implementation Review', 4000),
        s('ImplementationResults', 'Implementation Results', 4000),
        s('TemplateId', 'Template Id', 256),
        d('RequiredByDate', 'Required By'),
        e('Status', 'Status', 'ChangeStatusEnum'),
        e('Category', 'Category', 'ChangeCategoryEnum'),
        e('Priority', 'Priority', 'ChangePriorityEnum'),
        e('Impact', 'Impact', 'ChangeImpactEnum'),
        e('Risk', 'Risk', 'ChangeRiskEnum'),
        e('Area', 'Area', 'ChangeAreaEnum'),
        d('ScheduledStartDate', 'Scheduled Start Date'),
        d('ScheduledEndDate', 'Scheduled End Date'),
        d('ActualStartDate', 'Actual Start Date'),
        d('ActualEndDate', 'Actual End Date'),
      ],
    },
  ],
  [
    COMPUTER_CLASS,
    {
      name: COMPUTER_CLASS,
      table: 'computer',
      key: 'PrincipalName',
      properties: [
        s('PrincipalName', 'Principal Name', 256, { required: true }),
        s('DisplayName', 'Display Name', 4000),
        s('NetbiosComputerName', 'NetBIOS Computer Name', 256),
        s('NetbiosDomainName', 'NetBIOS Domain Name', 256),
        s('DNSName', 'DNS Name', 256),
        s('IPAddress', 'IP Address', 256),
        s('OperatingSystem', 'Operating System', 256),
        d('LastModified', 'Last Modified', { readOnly: true }),
      ],
    },
  ],
]);

/** Class lookup by name, case-sensitive as the SDK is. */
export function classDef(name: string): ClassDef | undefined {
  return CLASSES.get(name);
}

export function propertyId(cls: string, prop: string): string {
  return guidFrom(`property:${cls}/${prop}`);
}

// ------------------------------------------------------------------ incident rules

const RANK: Record<string, number> = { High: 1, Medium: 2, Low: 3 };

/**
 * Incident Settings priority matrix (the default one: impact rows, urgency columns, 1 = highest).
 * The exact default of a real server is not documented (partner-apis.md marks Priority UNVERIFIED).
 */
export function incidentPriority(impactName: string, urgencyName: string): number {
  const leaf = (n: string): number => RANK[n.slice(n.lastIndexOf('.') + 1)] ?? 2;
  return (leaf(impactName) - 1) * 3 + leaf(urgencyName);
}

export const INCIDENT_STATUS = {
  active: 'IncidentStatusEnum.Active',
  pending: 'IncidentStatusEnum.Active.Pending',
  resolved: 'IncidentStatusEnum.Resolved',
  closed: 'IncidentStatusEnum.Closed',
} as const;
