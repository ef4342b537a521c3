/**
 * Entity definitions of the Provance sandbox: Dataverse's standard tables the connector touches (incident,
 * incidentresolution, annotation, systemuser, account) as Microsoft documents them, plus the Provance
 * tables and columns named in src/partners/provance/mapping.ts (unverified).
 */
import { NAMES, OPTIONS, type OptionSet } from '../../partners/provance/mapping.ts';

export type AttrType = 'Uniqueidentifier' | 'String' | 'Memo' | 'Integer' | 'Picklist' | 'State' | 'Status' | 'DateTime' | 'Boolean' | 'Lookup';

export interface AttrDef {
  name: string;
  type: AttrType;
  options?: OptionSet;
  /** For Status: which statecode each status value belongs to. */
  statusState?: Readonly<Record<number, number>>;
  /** Lookup targets (entity logical names) and the navigation property name per target. */
  targets?: readonly { entity: string; nav: string }[];
  maxLength?: number;
  /** Set by the platform only (createdon, modifiedon, createdby …). */
  readOnly?: boolean;
  /** Label for Boolean true/false. */
  booleanLabels?: readonly [string, string];
}

export interface ManyToMany {
  /** Navigation property on this entity. */
  nav: string;
  target: string;
  /** Intersect table name (also the relationship schema name). */
  table: string;
}

export interface EntityDef {
  logical: string;
  set: string;
  primaryId: string;
  primaryName: string;
  attrs: readonly AttrDef[];
  manyToMany: readonly ManyToMany[];
  /** Dataverse autonumber prefix of the primary name column, when it has one. */
  autonumber?: { column: string; prefix: string };
}

const YES_NO = ['Yes', 'No'] as const;

const common = (): AttrDef[] => [
  { name: 'createdon', type: 'DateTime', readOnly: true },
  { name: 'modifiedon', type: 'DateTime', readOnly: true },
  { name: 'createdby', type: 'Lookup', targets: [{ entity: 'systemuser', nav: 'createdby' }], readOnly: true },
  { name: 'modifiedby', type: 'Lookup', targets: [{ entity: 'systemuser', nav: 'modifiedby' }], readOnly: true },
];
/** statecode/statuscode of a table with Dataverse's default Active/Inactive states. */
const activeInactive = (): AttrDef[] => [
  { name: 'statecode', type: 'State', options: { 0: 'Active', 1: 'Inactive' } },
  { name: 'statuscode', type: 'Status', options: { 1: 'Active', 2: 'Inactive' }, statusState: { 1: 0, 2: 1 } },
];
const owned = (): AttrDef[] => [...common(), { name: 'ownerid', type: 'Lookup', targets: [{ entity: 'systemuser', nav: 'ownerid' }] }];

const I = NAMES.incident;
const C = NAMES.change;
const CI = NAMES.ci;
const N = NAMES.note;

/** Incident status reasons (Dataverse): value → statecode. */
const INCIDENT_STATUS_STATE = { 1: 0, 2: 0, 3: 0, 4: 0, 5: 1, 1000: 1, 6: 2, 2000: 2 } as const;

export const ENTITY_DEFS: readonly EntityDef[] = [
  {
    logical: I.entity,
    set: I.set,
    primaryId: I.id,
    primaryName: I.title,
    autonumber: { column: I.number, prefix: NAMES.numberPrefix.incident },
    attrs: [
      { name: I.id, type: 'Uniqueidentifier' },
      { name: I.number, type: 'String', maxLength: 100, readOnly: true },
      { name: I.title, type: 'String', maxLength: 200 },
      { name: I.description, type: 'Memo', maxLength: 2000 },
      { name: I.state, type: 'State', options: { 0: 'Active', 1: 'Resolved', 2: 'Canceled' } },
      {
        name: I.status,
        type: 'Status',
        options: {
          1: 'In Progress',
          2: 'On Hold',
          3: 'Waiting for Details',
          4: 'Researching',
          5: 'Problem Solved',
          1000: 'Information Provided',
          6: 'Canceled',
          2000: 'Merged',
        },
        statusState: INCIDENT_STATUS_STATE,
      },
      { name: I.priority, type: 'Picklist', options: OPTIONS.casePriority },
      { name: 'severitycode', type: 'Picklist', options: { 1: 'Default Value' } },
      { name: I.origin, type: 'Picklist', options: OPTIONS.caseOrigin },
      { name: I.caseType, type: 'Picklist', options: OPTIONS.caseType },
      { name: I.escalated, type: 'Boolean', booleanLabels: YES_NO },
      { name: 'customerid', type: 'Lookup', targets: [{ entity: 'account', nav: 'customerid_account' }] },
      { name: I.correlationKey, type: 'String', maxLength: 400 },
      { name: I.impact, type: 'Picklist', options: OPTIONS.impact },
      { name: I.urgency, type: 'Picklist', options: OPTIONS.urgency },
      { name: I.resolvedOn, type: 'DateTime', readOnly: true },
      { name: I.lastNote, type: 'Memo', maxLength: 10000 },
      { name: I.ci, type: 'Lookup', targets: [{ entity: CI.entity, nav: I.ciNav }] },
      ...owned(),
    ],
    manyToMany: [{ nav: I.cisNav, target: CI.entity, table: I.cisNav }],
  },
  {
    logical: 'incidentresolution',
    set: 'incidentresolutions',
    primaryId: 'activityid',
    primaryName: 'subject',
    attrs: [
      { name: 'activityid', type: 'Uniqueidentifier' },
      { name: 'subject', type: 'String', maxLength: 200 },
      { name: 'description', type: 'Memo', maxLength: 10000 },
      { name: 'incidentid', type: 'Lookup', targets: [{ entity: I.entity, nav: 'incidentid' }] },
      { name: 'statecode', type: 'State', options: { 0: 'Open', 1: 'Completed', 2: 'Canceled' } },
      { name: 'statuscode', type: 'Status', options: { 1: 'Open', 2: 'Closed', 3: 'Canceled' }, statusState: { 1: 0, 2: 1, 3: 2 } },
      ...owned(),
    ],
    manyToMany: [],
  },
  {
    logical: N.entity,
    set: N.set,
    primaryId: N.id,
    primaryName: N.subject,
    attrs: [
      { name: N.id, type: 'Uniqueidentifier' },
      { name: N.subject, type: 'String', maxLength: 500 },
      { name: N.text, type: 'Memo', maxLength: 100000 },
      { name: 'isdocument', type: 'Boolean', booleanLabels: YES_NO },
      {
        name: 'objectid',
        type: 'Lookup',
        targets: [
          { entity: I.entity, nav: N.objectNavIncident },
          { entity: C.entity, nav: N.objectNavChange },
        ],
      },
      ...owned(),
    ],
    manyToMany: [],
  },
  {
    logical: C.entity,
    set: C.set,
    primaryId: C.id,
    primaryName: C.number,
    autonumber: { column: C.number, prefix: NAMES.numberPrefix.change },
    attrs: [
      { name: C.id, type: 'Uniqueidentifier' },
      { name: C.number, type: 'String', maxLength: 100, readOnly: true },
      { name: C.title, type: 'String', maxLength: 200 },
      { name: C.description, type: 'Memo', maxLength: 4000 },
      ...activeInactive(),
      { name: C.changeState, type: 'Picklist', options: OPTIONS.changeState },
      { name: C.changeType, type: 'Picklist', options: OPTIONS.changeType },
      { name: C.risk, type: 'Picklist', options: OPTIONS.risk },
      { name: C.category, type: 'Picklist', options: OPTIONS.changeCategory },
      { name: C.impact, type: 'Picklist', options: OPTIONS.impact },
      { name: C.urgency, type: 'Picklist', options: OPTIONS.urgency },
      { name: C.plannedStart, type: 'DateTime' },
      { name: C.plannedEnd, type: 'DateTime' },
      { name: C.workStart, type: 'DateTime' },
      { name: C.workEnd, type: 'DateTime' },
      { name: C.closedOn, type: 'DateTime' },
      { name: C.ci, type: 'Lookup', targets: [{ entity: CI.entity, nav: C.ciNav }] },
      ...owned(),
    ],
    manyToMany: [{ nav: C.cisNav, target: CI.entity, table: C.cisNav }],
  },
  {
    logical: CI.entity,
    set: CI.set,
    primaryId: CI.id,
    primaryName: CI.name,
    attrs: [
      { name: CI.id, type: 'Uniqueidentifier' },
      { name: CI.name, type: 'String', maxLength: 200 },
      { name: CI.type, type: 'Picklist', options: OPTIONS.ciType },
      { name: CI.fqdn, type: 'String', maxLength: 255 },
      ...activeInactive(),
      ...owned(),
    ],
    manyToMany: [
      { nav: I.cisNav, target: I.entity, table: I.cisNav },
      { nav: C.cisNav, target: C.entity, table: C.cisNav },
    ],
  },
  {
    logical: 'systemuser',
    set: 'systemusers',
    primaryId: 'systemuserid',
    primaryName: 'fullname',
    attrs: [
      { name: 'systemuserid', type: 'Uniqueidentifier' },
      { name: 'fullname', type: 'String', maxLength: 200 },
      { name: 'domainname', type: 'String', maxLength: 1024 },
      { name: 'internalemailaddress', type: 'String', maxLength: 100 },
      { name: 'azureactivedirectoryobjectid', type: 'Uniqueidentifier', readOnly: true },
      { name: 'isdisabled', type: 'Boolean', booleanLabels: ['Disabled', 'Enabled'] },
      ...common(),
    ],
    manyToMany: [],
  },
  {
    logical: 'account',
    set: 'accounts',
    primaryId: 'accountid',
    primaryName: 'name',
    attrs: [{ name: 'accountid', type: 'Uniqueidentifier' }, { name: 'name', type: 'String', maxLength: 160 }, ...activeInactive(), ...owned()],
    manyToMany: [],
  },
];

export interface EntityMeta extends EntityDef {
  attr: ReadonlyMap<string, AttrDef>;
}

export function buildEntities(): { bySet: Map<string, EntityMeta>; byLogical: Map<string, EntityMeta> } {
  const bySet = new Map<string, EntityMeta>();
  const byLogical = new Map<string, EntityMeta>();
  for (const d of ENTITY_DEFS) {
    const meta: EntityMeta = { ...d, attr: new Map(d.attrs.map((a) => [a.name, a])) };
    bySet.set(d.set, meta);
    byLogical.set(d.logical, meta);
  }
  return { bySet, byLogical };
}

/** The Web API property name of an attribute (`_x_value` for lookups). */
export function propertyName(a: AttrDef): string {
  return a.type === 'Lookup' ? `_${a.name}_value` : a.name;
}

/** Web API property name → attribute, for a whole entity. */
export function propertyMap(meta: EntityMeta): Map<string, AttrDef> {
  return new Map(meta.attrs.map((a) => [propertyName(a), a]));
}

/** The lookup attribute and target entity a single-valued navigation property stands for. */
export function navigation(meta: EntityMeta, nav: string): { attr: AttrDef; entity: string } | undefined {
  for (const a of meta.attrs) {
    const t = a.targets?.find((x) => x.nav === nav);
    if (t) return { attr: a, entity: t.entity };
  }
  return undefined;
}

/** Default statuscode for a statecode: the first status value belonging to it. */
export function defaultStatus(meta: EntityMeta, state: number): number | undefined {
  const status = meta.attrs.find((a) => a.type === 'Status');
  const entry = Object.entries(status?.statusState ?? {}).find(([, s]) => s === state);
  return entry ? Number(entry[0]) : undefined;
}

export function edmType(a: AttrDef): string {
  switch (a.type) {
    case 'Uniqueidentifier':
    case 'Lookup':
      return 'Edm.Guid';
    case 'String':
    case 'Memo':
      return 'Edm.String';
    case 'Integer':
    case 'Picklist':
    case 'State':
    case 'Status':
      return 'Edm.Int32';
    case 'DateTime':
      return 'Edm.DateTimeOffset';
    case 'Boolean':
      return 'Edm.Boolean';
  }
}
