/**
 * Deterministic seed data of the Provance sandbox: the directory (tenant `sandbox`, the integration user,
 * an admin, analysts), the public client app registration, accounts, configuration items, and a spread
 * of cases and change requests (with notes) over `days` days before the anchor time.
 * Same seed + same anchor → same data.
 */
import { seededRandom } from '../../core/random.ts';
import { CHANGE_CLOSED_STATES, NAMES, OPTIONS } from '../../partners/provance/mapping.ts';
import { hashSecret, TENANT } from './aad.ts';
import { isoSeconds } from './odata.ts';
import type { ProvanceStore, Row } from './store.ts';

export interface SeedOptions {
  seed: number;
  days: number;
  nowMs: number;
  incidents: number;
  changeRequests: number;
  cis: number;
}

export const SANDBOX_CREDENTIALS = {
  tenant: TENANT.name,
  tenantId: TENANT.id,
  integration: { username: `itsmc.integration@${TENANT.domain}`, password: 'sandbox' },
  admin: { username: `admin@${TENANT.domain}`, password: 'admin' },
  clientId: 'itsmc-provance-sandbox',
  /** A registered app without "Allow public client flows": a password grant fails with AADSTS7000218. */
  confidentialClientId: 'itsmc-provance-confidential',
} as const;

class Draw {
  readonly next: () => number;
  constructor(seed: number) {
    this.next = seededRandom(seed);
  }
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }
  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)];
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  weighted<T>(items: readonly (readonly [T, number])[]): T {
    let r = this.next() * items.reduce((s, [, w]) => s + w, 0);
    for (const [v, w] of items) {
      r -= w;
      if (r < 0) return v;
    }
    return items[items.length - 1][0];
  }
  guid(): string {
    const h = Array.from({ length: 32 }, () => Math.floor(this.next() * 16).toString(16)).join('');
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${'89ab'[parseInt(h[16], 16) % 4]}${h.slice(17, 20)}-${h.slice(20, 32)}`;
  }
  suffix(): string {
    const A = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789';
    return Array.from({ length: 6 }, () => A[Math.floor(this.next() * A.length)]).join('');
  }
}

const FIRST = [
  'Ava',
  'Ben',
  'Chloe',
  'Dev',
  'Elif',
  'Finn',
  'Grace',
  'Hiro',
  'Ines',
  'Jonah',
  'Kofi',
  'Lara',
  'Milan',
  'Noor',
  'Owen',
  'Pia',
  'Raj',
  'Sara',
  'Tomas',
  'Uma',
];
const LAST = [
  'Adler',
  'Banerjee',
  'Costa',
  'Dahl',
  'Eze',
  'Fischer',
  'Gruber',
  'Hale',
  'Ito',
  'Jensen',
  'Kowalski',
  'Lindgren',
  'Moreau',
  'Nakamura',
  'Okoro',
  'Petrov',
];
const ACCOUNTS = ['Finance', 'Human Resources', 'Engineering', 'Operations', 'Sales', 'Marketing', 'Legal', 'Facilities', 'Research', 'Customer Care'];
const CI_ROLES = ['web', 'app', 'db', 'file', 'mail', 'sql', 'k8s', 'etl', 'dc', 'api'];
const DEPTS = ['fin', 'hr', 'eng', 'ops', 'sal', 'mkt', 'it'];
const INCIDENT_TITLES = [
  'High CPU on {ci}',
  'Disk space low on {ci}',
  'Service unavailable on {ci}',
  'Memory pressure on {ci}',
  'Cannot connect to VPN',
  'Outlook does not sync',
  'Printer offline on floor 3',
  'Password reset request',
  'Application error 500 on {ci}',
  'Backup job failed on {ci}',
  'Certificate about to expire on {ci}',
  'Slow response from {ci}',
];
const CHANGE_TITLES = [
  'Patch {ci}',
  'Upgrade database on {ci}',
  'Replace disk in {ci}',
  'Rotate certificates on {ci}',
  'Decommission {ci}',
  'Add memory to {ci}',
  'Firewall rule change for {ci}',
];
const NOTES = [
  'Investigating.',
  'Contacted the requester.',
  'Waiting for the vendor.',
  'Workaround applied.',
  'Escalated to second line.',
  'Monitoring after the fix.',
];

const HOUR = 3_600_000;

export function seedStore(store: ProvanceStore, o: SeedOptions): void {
  const d = new Draw(o.seed);
  const iso = isoSeconds;
  const start = o.nowMs - o.days * 86_400_000;
  const entity = (logical: string) => store.byLogical.get(logical)!;
  const put = (logical: string, row: Row): void => store.insert(entity(logical), { versionnumber: store.nextCounter('version', 1000), ...row });
  const stamp = (created: number, modified: number, by: string): Row => ({ createdon: iso(created), modifiedon: iso(modified), createdby: by, modifiedby: by });

  // Directory and users.
  const users: string[] = [];
  const addUser = (upn: string, fullname: string, password: string): string => {
    const id = d.guid();
    put('systemuser', {
      systemuserid: id,
      fullname,
      domainname: upn,
      internalemailaddress: upn,
      azureactivedirectoryobjectid: d.guid(),
      isdisabled: 0,
      ...stamp(start, start, id),
    });
    store
      .stmt('INSERT INTO sb_aad_user (upn, object_id, systemuserid, password_hash) VALUES (?, ?, ?, ?)')
      .run(upn, d.guid(), id, hashSecret(password, `${o.seed}-${upn}`));
    return id;
  };
  const admin = addUser(SANDBOX_CREDENTIALS.admin.username, 'Sandbox Administrator', SANDBOX_CREDENTIALS.admin.password);
  addUser(SANDBOX_CREDENTIALS.integration.username, 'ITSMC Integration', SANDBOX_CREDENTIALS.integration.password);
  for (let i = 0; i < 24; i++) {
    const first = FIRST[i % FIRST.length];
    const last = LAST[(i * 7) % LAST.length];
    users.push(addUser(`${first}.${last}@${TENANT.domain}`.toLowerCase(), `${first} ${last}`, d.suffix()));
  }
  store
    .stmt('INSERT INTO sb_aad_app (client_id, name, public_client) VALUES (?, ?, 1)')
    .run(SANDBOX_CREDENTIALS.clientId, 'ITSMC Provance connector (sandbox)');
  store
    .stmt('INSERT INTO sb_aad_app (client_id, name, public_client) VALUES (?, ?, 0)')
    .run(SANDBOX_CREDENTIALS.confidentialClientId, 'Confidential app (no public client flows)');

  const accounts = ACCOUNTS.map((name) => {
    const id = d.guid();
    put('account', { accountid: id, name, statecode: 0, statuscode: 1, ownerid: admin, ...stamp(start, start, admin) });
    return id;
  });

  // Configuration items.
  const cis: { id: string; name: string }[] = [];
  const ciType = Object.keys(OPTIONS.ciType).map(Number);
  for (let i = 0; i < o.cis; i++) {
    const type = d.weighted([
      [ciType[0], 5],
      [ciType[1], 3],
      [ciType[2], 1],
      [ciType[3], 1],
    ]);
    const name = `${type === ciType[0] ? 'pc' : type === ciType[2] ? 'sw' : d.pick(CI_ROLES)}-${d.pick(DEPTS)}-${String(i + 1).padStart(3, '0')}`;
    const id = d.guid();
    put(NAMES.ci.entity, {
      [NAMES.ci.id]: id,
      [NAMES.ci.name]: name,
      [NAMES.ci.type]: type,
      [NAMES.ci.fqdn]: `${name}.${TENANT.domain}`,
      statecode: 0,
      statuscode: 1,
      ownerid: admin,
      ...stamp(start, start, admin),
    });
    cis.push({ id, name });
  }

  const when = (): number => start + Math.floor(Math.pow(d.next(), 0.8) * (o.nowMs - start - HOUR));
  const I = NAMES.incident;
  const N = NAMES.note;
  for (let i = 0; i < o.incidents; i++) {
    const id = d.guid();
    const created = when();
    const age = o.nowMs - created;
    const state =
      age > 14 * 86_400_000
        ? d.weighted([
            [1, 85],
            [2, 8],
            [0, 7],
          ] as const)
        : d.weighted([
            [0, 55],
            [1, 40],
            [2, 5],
          ] as const);
    const status =
      state === 0
        ? d.weighted([
            [1, 6],
            [2, 1],
            [3, 1],
            [4, 2],
          ] as const)
        : state === 1
          ? d.weighted([
              [5, 9],
              [1000, 1],
            ] as const)
          : d.weighted([
              [6, 9],
              [2000, 1],
            ] as const);
    const modified = Math.min(o.nowMs, created + Math.floor(d.next() * (state === 0 ? age : Math.min(age, 10 * 86_400_000))));
    const ci = d.chance(0.8) ? d.pick(cis) : undefined;
    const owner = d.pick(users);
    const creator = d.pick(users);
    put(I.entity, {
      [I.id]: id,
      [I.number]: `${NAMES.numberPrefix.incident}${String(1000 + i).padStart(5, '0')}-${d.suffix()}`,
      [I.title]: d.pick(INCIDENT_TITLES).replace('{ci}', ci?.name ?? 'a workstation'),
      [I.description]: d.chance(0.7) ? `Reported through ${d.pick(['the portal', 'email', 'a phone call', 'monitoring'])}.` : null,
      [I.state]: state,
      [I.status]: status,
      [I.priority]: d.weighted([
        [1, 2],
        [2, 6],
        [3, 2],
      ] as const),
      severitycode: 1,
      [I.origin]: d.weighted([
        [1, 3],
        [2, 4],
        [3, 3],
        [700, 2],
      ] as const),
      [I.caseType]: d.weighted([
        [1, 2],
        [2, 6],
        [3, 2],
      ] as const),
      [I.escalated]: d.chance(0.08) ? 1 : 0,
      customerid: d.pick(accounts),
      [I.impact]: d.pick(Object.keys(OPTIONS.impact).map(Number)),
      [I.urgency]: d.pick(Object.keys(OPTIONS.urgency).map(Number)),
      [I.resolvedOn]: state === 1 ? iso(modified) : null,
      [I.ci]: ci?.id ?? null,
      ownerid: owner,
      createdon: iso(created),
      modifiedon: iso(modified),
      createdby: creator,
      modifiedby: owner,
    });
    if (ci) store.associate(entity(I.entity), entity(I.entity).manyToMany[0], id, ci.id);
    const notes = d.chance(0.3) ? d.int(1, 2) : 0;
    for (let n = 0; n < notes; n++) {
      const at = Math.min(modified, created + n * HOUR);
      put(N.entity, {
        [N.id]: d.guid(),
        [N.subject]: 'Work note',
        [N.text]: d.pick(NOTES),
        isdocument: 0,
        objectid: id,
        objectid_type: I.entity,
        ownerid: owner,
        ...stamp(at, at, owner),
      });
    }
  }

  const C = NAMES.change;
  const changeStates = Object.keys(OPTIONS.changeState).map(Number);
  for (let i = 0; i < o.changeRequests; i++) {
    const id = d.guid();
    const created = when();
    const age = o.nowMs - created;
    const changeState =
      age > 21 * 86_400_000
        ? d.weighted([
            [changeStates[6], 80],
            [changeStates[7], 12],
            [changeStates[5], 8],
          ] as const)
        : d.pick(changeStates);
    const closed = CHANGE_CLOSED_STATES.includes(changeState);
    const plannedStart = created + d.int(1, 10) * 86_400_000;
    const plannedEnd = plannedStart + d.int(1, 8) * HOUR;
    const worked = closed || changeState >= changeStates[4];
    const modified = Math.min(o.nowMs, created + Math.floor(d.next() * Math.min(age, 20 * 86_400_000)));
    const ci = d.chance(0.85) ? d.pick(cis) : undefined;
    const owner = d.pick(users);
    put(C.entity, {
      [C.id]: id,
      [C.number]: `${NAMES.numberPrefix.change}${String(1000 + i).padStart(5, '0')}`,
      [C.title]: d.pick(CHANGE_TITLES).replace('{ci}', ci?.name ?? 'the shared platform'),
      [C.description]: 'Planned through the change advisory board.',
      statecode: closed ? 1 : 0,
      statuscode: closed ? 2 : 1,
      [C.changeState]: changeState,
      [C.changeType]: d.weighted([
        [100000000, 4],
        [100000001, 5],
        [100000002, 1],
      ] as const),
      [C.risk]: d.weighted([
        [100000000, 1],
        [100000001, 4],
        [100000002, 5],
      ] as const),
      [C.category]: d.pick(Object.keys(OPTIONS.changeCategory).map(Number)),
      [C.impact]: d.pick(Object.keys(OPTIONS.impact).map(Number)),
      [C.urgency]: d.pick(Object.keys(OPTIONS.urgency).map(Number)),
      [C.plannedStart]: iso(plannedStart),
      [C.plannedEnd]: iso(plannedEnd),
      [C.workStart]: worked ? iso(plannedStart) : null,
      [C.workEnd]: worked && closed ? iso(plannedEnd) : null,
      [C.closedOn]: closed ? iso(modified) : null,
      [C.ci]: ci?.id ?? null,
      ownerid: owner,
      ...stamp(created, modified, owner),
    });
    if (ci) store.associate(entity(C.entity), entity(C.entity).manyToMany[0], id, ci.id);
  }
  store.nextCounter(`autonumber:${I.entity}`, 1000 + o.incidents);
  store.nextCounter(`autonumber:${C.entity}`, 1000 + o.changeRequests);
}
