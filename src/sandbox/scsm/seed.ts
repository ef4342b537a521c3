/**
 * Deterministic seed data for the SCSM sandbox: the Azure AD app registrations, Windows computers,
 * incident and change templates (one incident template deliberately on the class instead of the
 * projection), and incidents and change requests spread over `days` days with action-log comments and
 * affected CIs. Same seed and anchor → same data; another anchor shifts the timeline but keeps identities.
 */
import { Rng } from '../common/rng.ts';
import type { ClassDef } from './model.ts';
import {
  CHANGE_CLASS,
  classDef,
  COMPUTER_CLASS,
  ENUMS,
  guidFrom,
  INCIDENT_CLASS,
  INCIDENT_PROJECTION,
  INCIDENT_STATUS,
  incidentPriority,
  WEB_APP_AUTHOR,
} from './model.ts';
import { SEEDED_CREDENTIALS } from './settings.ts';
import type { Row, ScsmStore, Template } from './store.ts';

export interface SeedOptions {
  seed: number;
  days: number;
  /** Anchor: every seeded time is at or before this instant (scheduled change windows may lie ahead). */
  nowMs: number;
  incidents: number;
  changeRequests: number;
  computers: number;
}

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

const DEPTS = ['fin', 'hr', 'eng', 'ops', 'sal', 'mkt', 'it', 'leg'];
const ROLES = ['web', 'app', 'db', 'file', 'mail', 'dc', 'sql', 'print', 'ws', 'lt'];
const OS = [
  'Microsoft Windows Server 2016 Datacenter',
  'Microsoft Windows Server 2019 Standard',
  'Microsoft Windows Server 2022 Standard',
  'Microsoft Windows 10 Enterprise',
  'Microsoft Windows 11 Enterprise',
];
const ANALYSTS = [
  'CONTOSO\\adavis',
  'CONTOSO\\bmorgan',
  'CONTOSO\\cchen',
  'CONTOSO\\dpatel',
  'CONTOSO\\ekowalski',
  'CONTOSO\\fnguyen',
  'CONTOSO\\gsilva',
  'CONTOSO\\hmuller',
];

const INCIDENT_TITLES: [string, string][] = [
  ['Hardware', 'Disk failure reported on {ci}'],
  ['Hardware', 'Memory errors in the event log of {ci}'],
  ['Hardware', 'Fan failure on {ci}'],
  ['Software', 'Application pool crashed on {ci}'],
  ['Software', 'Windows update failed on {ci}'],
  ['Software', 'Service stopped unexpectedly on {ci}'],
  ['Networking', 'Network adapter disconnected on {ci}'],
  ['Networking', 'DNS resolution fails from {ci}'],
  ['Networking', 'High packet loss to {ci}'],
  ['Printing', 'Print spooler stopped on {ci}'],
  ['Email', 'Mail queue growing on {ci}'],
  ['Other', 'High CPU utilization on {ci}'],
  ['Other', 'Low free disk space on {ci}'],
];
const CHANGE_TITLES = [
  'Patch {ci} with the monthly cumulative update',
  'Replace failed disk in {ci}',
  'Upgrade SQL Server on {ci}',
  'Add memory to {ci}',
  'Migrate {ci} to the new cluster',
  'Renew certificate on {ci}',
  'Decommission {ci}',
  'Firewall rule change for {ci}',
];
const NOTES = [
  'Investigating.',
  'Contacted the affected user.',
  'Restarted the service; monitoring.',
  'Escalated to tier 2.',
  'Waiting for the vendor.',
  'Applied the workaround from KB.',
  'Issue reproduced in test.',
  'User confirmed the fix.',
];

const enumValue = (root: string, leaf: string): string => {
  const v = ENUMS.get(root)?.find((x) => x.name === `${root}.${leaf}`);
  if (!v) throw new Error(`seed: ${root}.${leaf} is not a value`);
  return v.name;
};

function guid(rng: Rng): string {
  const h = [rng.u32(), rng.u32(), rng.u32(), rng.u32()].map((n) => n.toString(16).padStart(8, '0')).join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${((parseInt(h[16], 16) & 3) | 8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

export const SEEDED_TEMPLATES: Omit<Template, 'id'>[] = [
  {
    name: 'Default Incident Template',
    className: INCIDENT_CLASS,
    projectionType: INCIDENT_PROJECTION,
    values: {
      Urgency: enumValue('System.WorkItem.TroubleTicket.UrgencyEnum', 'Medium'),
      Impact: enumValue('System.WorkItem.TroubleTicket.ImpactEnum', 'Medium'),
      Source: enumValue('IncidentSourceEnum', 'Console'),
    },
  },
  {
    name: 'Azure Monitor alert',
    className: INCIDENT_CLASS,
    projectionType: INCIDENT_PROJECTION,
    values: {
      Source: enumValue('IncidentSourceEnum', 'SCOM'),
      TierQueue: enumValue('IncidentTierQueuesEnum', 'Tier2'),
      Classification: enumValue('IncidentClassificationEnum', 'Other'),
    },
  },
  {
    name: 'Network outage',
    className: INCIDENT_CLASS,
    projectionType: INCIDENT_PROJECTION,
    values: {
      Urgency: enumValue('System.WorkItem.TroubleTicket.UrgencyEnum', 'High'),
      Impact: enumValue('System.WorkItem.TroubleTicket.ImpactEnum', 'High'),
      Classification: enumValue('IncidentClassificationEnum', 'Networking'),
      TierQueue: enumValue('IncidentTierQueuesEnum', 'Tier2'),
    },
  },
  {
    // Made on the class rather than the projection: the web app refuses it (ITSMC guide).
    name: 'Printer problem (class template)',
    className: INCIDENT_CLASS,
    projectionType: INCIDENT_CLASS,
    values: { Classification: enumValue('IncidentClassificationEnum', 'Printing') },
  },
  {
    name: 'Standard Change Request',
    className: CHANGE_CLASS,
    projectionType: 'System.WorkItem.ChangeRequestProjection',
    values: { Category: enumValue('ChangeCategoryEnum', 'Standard'), Risk: enumValue('ChangeRiskEnum', 'Low') },
  },
  {
    name: 'Emergency Change Request',
    className: CHANGE_CLASS,
    projectionType: 'System.WorkItem.ChangeRequestProjection',
    values: { Category: enumValue('ChangeCategoryEnum', 'Emergency'), Priority: enumValue('ChangePriorityEnum', 'Immediate') },
  },
];

export function templateId(name: string): string {
  return guidFrom(`template:${name}`);
}

interface Pending {
  /** Milliseconds before the anchor when the item was created (larger = older). */
  age: number;
  cls: ClassDef;
  bmeId: string;
  values: Row;
  comments: { at: number; text: string; by: string }[];
  cis: string[];
}

function computers(store: ScsmStore, rng: Rng, count: number, nowMs: number): string[] {
  const cls = classDef(COMPUTER_CLASS)!;
  const names: string[] = [];
  for (let i = 0; i < count; i++) {
    const short = `${rng.pick(ROLES)}-${rng.pick(DEPTS)}${String(i + 1).padStart(3, '0')}`;
    const name = `${short}.contoso.local`;
    names.push(name);
    const added = nowMs - 200 * DAY + rng.int(0, 60) * DAY;
    store.insert(cls, guid(rng), added, {
      PrincipalName: name,
      DisplayName: name,
      NetbiosComputerName: short.toUpperCase(),
      NetbiosDomainName: 'CONTOSO',
      DNSName: name,
      IPAddress: `10.${rng.int(0, 9)}.${rng.int(0, 254)}.${rng.int(1, 254)}`,
      OperatingSystem: rng.pick(OS),
      LastModified: added,
    });
  }
  return names;
}

function incident(rng: Rng, opts: SeedOptions, cis: string[]): Pending {
  const age = rng.int(0, opts.days * DAY - 1);
  const created = opts.nowMs - age;
  const [category, pattern] = rng.pick(INCIDENT_TITLES);
  const ci = rng.pick(cis);
  const urgency = rng.weighted([
    ['High', 1],
    ['Medium', 3],
    ['Low', 4],
  ] as const);
  const impact = rng.weighted([
    ['High', 1],
    ['Medium', 3],
    ['Low', 4],
  ] as const);
  const ageDays = age / DAY;
  const weights: [string, number][] =
    ageDays < 1
      ? [
          ['Active', 70],
          ['Pending', 15],
          ['Resolved', 15],
          ['Closed', 0],
        ]
      : ageDays < 7
        ? [
            ['Active', 30],
            ['Pending', 15],
            ['Resolved', 35],
            ['Closed', 20],
          ]
        : [
            ['Active', 5],
            ['Pending', 3],
            ['Resolved', 12],
            ['Closed', 80],
          ];
  let status = rng.weighted(weights);
  const values: Row = {
    Title: pattern.replace('{ci}', ci.split('.')[0].toUpperCase()),
    Description: `${pattern.replace('{ci}', ci)}. Reported ${rng.pick(['by monitoring', 'by the service desk', 'by a user', 'by e-mail'])}.`,
    Urgency: enumValue('System.WorkItem.TroubleTicket.UrgencyEnum', urgency),
    Impact: enumValue('System.WorkItem.TroubleTicket.ImpactEnum', impact),
    Priority: incidentPriority(impact, urgency),
    Source: enumValue(
      'IncidentSourceEnum',
      rng.weighted([
        ['Console', 3],
        ['Email', 3],
        ['Phone', 2],
        ['Portal', 2],
        ['SCOM', 2],
      ] as const),
    ),
    TierQueue: enumValue(
      'IncidentTierQueuesEnum',
      rng.weighted([
        ['Tier1', 6],
        ['Tier2', 3],
        ['Tier3', 1],
      ] as const),
    ),
    Classification: enumValue('IncidentClassificationEnum', category),
    Escalated: rng.chance(0.1) ? 1 : 0,
    NeedsKnowledgeArticle: rng.chance(0.05) ? 1 : 0,
    CreatedDate: created,
    TargetResolutionTime: created + [4, 8, 24][Math.min(2, Math.floor((incidentPriority(impact, urgency) - 1) / 3))] * HOUR,
  };
  let last = created;
  const assigned = Math.min(opts.nowMs, created + rng.int(1, 90) * 60_000);
  if (age > 2 * HOUR || rng.chance(0.5)) {
    values.FirstAssignedDate = assigned;
    values.FirstResponseDate = Math.min(opts.nowMs, assigned + rng.int(1, 60) * 60_000);
    last = Math.max(last, values.FirstResponseDate as number);
  }
  if (status === 'Resolved' || status === 'Closed') {
    const resolved = created + Math.round(rng.logNormal(8 * HOUR, 1));
    const closed = resolved + rng.int(1, 7) * DAY;
    if (resolved > opts.nowMs) status = 'Active';
    else {
      values.ResolvedDate = resolved;
      values.ResolutionCategory = enumValue(
        'IncidentResolutionCategoryEnum',
        rng.weighted([
          ['FixedByAnalyst', 6],
          ['FixedByHigherTierSupport', 2],
          ['WorkAround', 2],
          ['NotReproducible', 1],
          ['Cancelled', 1],
        ] as const),
      );
      values.ResolutionDescription = rng.pick(['Service restarted.', 'Hardware replaced.', 'Configuration corrected.', 'Patch applied.', 'No fault found.']);
      last = Math.max(last, resolved);
      if (status === 'Closed' && closed <= opts.nowMs) {
        values.ClosedDate = closed;
        last = closed;
      } else status = 'Resolved';
    }
  }
  values.Status = status === 'Pending' ? INCIDENT_STATUS.pending : enumValue('IncidentStatusEnum', status);
  const comments: Pending['comments'] = [];
  const n = rng.weighted([
    [0, 3],
    [1, 4],
    [2, 3],
    [3, 1],
  ] as const);
  for (let i = 0; i < n; i++) {
    const at = Math.min(opts.nowMs, created + rng.int(5, 48 * 60) * 60_000);
    comments.push({ at, text: rng.pick(NOTES), by: values.Source === 'IncidentSourceEnum.SCOM' && i === 0 ? WEB_APP_AUTHOR : rng.pick(ANALYSTS) });
    if (at > last) last = at;
  }
  values.LastModified = last;
  return { age, cls: classDef(INCIDENT_CLASS)!, bmeId: guid(rng), values, comments, cis: rng.chance(0.6) ? [ci] : [] };
}

function changeRequest(rng: Rng, opts: SeedOptions, cis: string[]): Pending {
  const age = rng.int(0, opts.days * DAY - 1);
  const created = opts.nowMs - age;
  const ci = rng.pick(cis);
  const start = created + rng.int(1, 14) * DAY + rng.int(0, 23) * HOUR;
  const end = start + rng.int(1, 8) * HOUR;
  const values: Row = {
    Title: rng.pick(CHANGE_TITLES).replace('{ci}', ci.split('.')[0].toUpperCase()),
    Description: `Planned work on ${ci}.`,
    Reason: rng.pick(['Security update', 'Hardware failure', 'Capacity', 'End of support', 'Audit finding']),
    ImplementationPlan: 'See the attached runbook.',
    BackoutPlan: 'Restore from the pre-change snapshot.',
    TestPlan: 'Smoke test the service after the change.',
    RiskAssessmentPlan: 'Standard risk assessment.',
    Category: enumValue(
      'ChangeCategoryEnum',
      rng.weighted([
        ['Standard', 5],
        ['Minor', 3],
        ['Major', 1],
        ['Emergency', 1],
      ] as const),
    ),
    Priority: enumValue(
      'ChangePriorityEnum',
      rng.weighted([
        ['Low', 3],
        ['Medium', 4],
        ['High', 2],
        ['Immediate', 1],
      ] as const),
    ),
    Impact: enumValue(
      'ChangeImpactEnum',
      rng.weighted([
        ['Low', 4],
        ['Medium', 3],
        ['High', 1],
      ] as const),
    ),
    Risk: enumValue(
      'ChangeRiskEnum',
      rng.weighted([
        ['Low', 5],
        ['Medium', 3],
        ['High', 1],
      ] as const),
    ),
    Area: enumValue('ChangeAreaEnum', rng.pick(['Hardware', 'Software', 'Network', 'Facilities'])),
    CreatedDate: created,
    ScheduledStartDate: start,
    ScheduledEndDate: end,
    RequiredByDate: end + rng.int(0, 7) * DAY,
  };
  let status: string;
  let last = created;
  if (end <= opts.nowMs) {
    status = rng.weighted([
      ['Closed', 65],
      ['Completed', 15],
      ['Failed', 5],
      ['Cancelled', 5],
      ['InProgress', 5],
      ['OnHold', 5],
    ] as const);
    if (status !== 'Cancelled' && status !== 'OnHold') {
      values.ActualStartDate = start + rng.int(0, 30) * 60_000;
      last = values.ActualStartDate as number;
      if (status !== 'InProgress') {
        values.ActualEndDate = Math.min(opts.nowMs, end + rng.int(-30, 60) * 60_000);
        values.ImplementationResults = status === 'Failed' ? 'Rolled back.' : 'Implemented as planned.';
        last = Math.max(last, values.ActualEndDate as number);
      }
    }
  } else if (start <= opts.nowMs) {
    status = 'InProgress';
    values.ActualStartDate = start;
    last = start;
  } else
    status = rng.weighted([
      ['New', 3],
      ['Submitted', 5],
      ['OnHold', 1],
    ] as const);
  values.Status = enumValue('ChangeStatusEnum', status);
  values.LastModified = Math.min(opts.nowMs, Math.max(last, created + rng.int(0, 120) * 60_000));
  return { age, cls: classDef(CHANGE_CLASS)!, bmeId: guid(rng), values, comments: [], cis: rng.chance(0.7) ? [ci] : [] };
}

export function seedStore(store: ScsmStore, opts: SeedOptions): void {
  const rng = new Rng(opts.seed >>> 0);
  store.insertApp({ clientId: SEEDED_CREDENTIALS.clientId, clientSecret: SEEDED_CREDENTIALS.clientSecret, displayName: 'ITSMC SCSM sandbox' });
  store.insertApp({ clientId: SEEDED_CREDENTIALS.other.clientId, clientSecret: SEEDED_CREDENTIALS.other.clientSecret, displayName: 'Another application' });
  for (const t of SEEDED_TEMPLATES) store.insertTemplate({ ...t, id: templateId(t.name) });
  const ciNames = computers(store, rng, Math.max(1, opts.computers), opts.nowMs);
  const ciIds = new Map(ciNames.map((n) => [n, store.computerByPrincipalName(n)!.bme_id as string]));
  const items: Pending[] = [];
  for (let i = 0; i < opts.incidents; i++) items.push(incident(rng, opts, ciNames));
  for (let i = 0; i < opts.changeRequests; i++) items.push(changeRequest(rng, opts, ciNames));
  // One id counter for every work item class, numbered in creation order.
  items.sort((a, b) => b.age - a.age || a.bmeId.localeCompare(b.bmeId));
  let number = 1;
  for (const it of items) {
    const id = `${it.cls.idPrefix}${number++}`;
    const created = it.values.CreatedDate as number;
    store.insert(it.cls, it.bmeId, created, { ...it.values, Id: id, DisplayName: `${id} - ${it.values.Title}` });
    it.comments.forEach((c, i) =>
      store.addComment({ id: guidFrom(`${it.bmeId}/comment/${i}`), workItem: it.bmeId, comment: c.text, enteredBy: c.by, enteredDate: c.at, isPrivate: false }),
    );
    for (const ci of it.cis) store.attach(it.bmeId, ciIds.get(ci)!, created);
  }
  store.setMeta('next_work_item', String(number));
}
