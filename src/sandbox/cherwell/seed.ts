/**
 * Deterministic seed data of the Cherwell sandbox: users, REST API clients, configuration items, incidents
 * (with journal notes) and change requests spread over the last `days` days. Same seed + same anchor time
 * → the same instance, record ids included.
 */
import { hashPassword } from '../common/passwords.ts';
import { Rng } from '../common/rng.ts';
import type { BusObDef } from './schema.ts';
import { CHANGE_REQUEST, CONFIG_ITEM, INCIDENT, JOURNAL_NOTE } from './schema.ts';
import type { CwStore, Values } from './store.ts';

export const SANDBOX_CREDENTIALS = {
  integration: { user: 'itsmc.integration', password: 'sandbox' },
  admin: { user: 'CSDAdmin', password: 'CSDAdmin' },
  restClient: { clientId: 'itsmc-cherwell-sandbox', accessMinutes: 20, refreshMinutes: 1440 },
} as const;

export interface SeedOptions {
  seed: number;
  days: number;
  nowMs: number;
  incidents: number;
  changeRequests: number;
  configItems: number;
}

const SERVICES: readonly (readonly [string, string, string])[] = [
  ['Email and Collaboration', 'Email', 'Cannot send or receive'],
  ['Network', 'Connectivity', 'VPN disconnects'],
  ['Hardware', 'Server', 'High CPU'],
  ['Hardware', 'Desktop', 'Will not boot'],
  ['Business Applications', 'ERP', 'Slow response'],
  ['Cloud Services', 'Azure', 'Resource unavailable'],
  ['Security', 'Access', 'Password reset'],
];
const TEAMS = ['Service Desk', 'Network Operations', 'Server Team', 'Cloud Operations', 'Application Support'];
const PEOPLE = ['Alex Kim', 'Jordan Lee', 'Sam Patel', 'Casey Morgan', 'Riley Chen', 'Taylor Brooks', 'Morgan Diaz'];
const SOURCES = ['Phone', 'E-mail', 'Portal', 'Event', 'Walk In'];
const LEVELS = ['High', 'Medium', 'Low'] as const;

interface Draft {
  bo: BusObDef;
  recId: string;
  createdMs: number;
  values: Values;
}

function stamp(values: Values, createdMs: number, modifiedMs: number, by: string): void {
  values.CreatedDateTime = createdMs;
  values.CreatedBy = by;
  values.LastModifiedDateTime = modifiedMs;
  values.LastModBy = by;
}

function lifecycle(rng: Rng, ageDays: number, open: readonly [string, number][], done: readonly [string, number][]): string {
  const pDone = Math.min(0.97, 0.15 + ageDays / 12);
  return rng.chance(pDone) ? rng.weighted(done) : rng.weighted(open);
}

function seedUsersAndClients(store: CwStore, rng: Rng): void {
  const c = SANDBOX_CREDENTIALS;
  const salt = (): string => rng.sysId();
  const user = store.stmt('INSERT INTO cw_user (login, password_hash, full_name, admin) VALUES (?, ?, ?, ?)');
  user.run(c.integration.user, hashPassword(c.integration.password, salt()), 'ITSMC Integration', 0);
  user.run(c.admin.user, hashPassword(c.admin.password, salt()), 'CSD Administrator', 1);
  store
    .stmt('INSERT INTO cw_client (client_id, name, access_minutes, refresh_minutes) VALUES (?, ?, ?, ?)')
    .run(c.restClient.clientId, 'ITSMC connector (sandbox)', c.restClient.accessMinutes, c.restClient.refreshMinutes);
}

function configItems(rng: Rng, o: SeedOptions, start: number): Draft[] {
  const out: Draft[] = [];
  for (let i = 0; i < o.configItems; i++) {
    const created = start + Math.floor(rng.next() * (o.nowMs - start) * 0.2);
    const name = `${rng.pick(['vm-web', 'vm-sql', 'vm-app', 'aks-node', 'srv-file'])}-${String(i + 1).padStart(3, '0')}`;
    const values: Values = { FriendlyName: name, HostName: `${name}.contoso.local`, ConfigurationItemTypeName: 'Config - Computer' };
    stamp(values, created, created, 'CSDAdmin');
    out.push({ bo: CONFIG_ITEM, recId: rng.sysId(), createdMs: created, values });
  }
  return out;
}

function incidents(rng: Rng, o: SeedOptions, start: number, cis: Draft[]): Draft[] {
  const out: Draft[] = [];
  for (let i = 0; i < o.incidents; i++) {
    const created = start + Math.floor(rng.next() * (o.nowMs - start));
    const age = (o.nowMs - created) / 86_400_000;
    const status = lifecycle(
      rng,
      age,
      [
        ['New', 3],
        ['Assigned', 3],
        ['In Progress', 4],
        ['Pending', 1],
        ['Reopened', 0.3],
      ],
      [
        ['Resolved', 1],
        ['Closed', 4],
      ],
    );
    const [service, category, sub] = rng.pick(SERVICES);
    const ci = rng.chance(0.6) ? rng.pick(cis) : undefined;
    const impact = rng.pick(LEVELS);
    const urgency = rng.pick(LEVELS);
    const modified = Math.min(o.nowMs, created + Math.floor(rng.logNormal(6, 1.2) * 3_600_000));
    const values: Values = {
      Status: status,
      ShortDescription: `${sub}${ci ? ` on ${ci.values.FriendlyName}` : ''}`,
      Description: `${category}: ${sub}. Reported through ${service}.`,
      Priority: String(1 + LEVELS.indexOf(impact) + Math.floor(LEVELS.indexOf(urgency) / 2) + (rng.chance(0.3) ? 1 : 0)),
      Impact: impact,
      Urgency: urgency,
      IncidentType: rng.chance(0.8) ? 'Incident' : 'Service Request',
      Service: service,
      Category: category,
      Subcategory: sub,
      Source: rng.pick(SOURCES),
      CustomerDisplayName: rng.pick(PEOPLE),
      OwnedBy: status === 'New' ? null : rng.pick(PEOPLE),
      OwnedByTeam: rng.pick(TEAMS),
      ConfigItemRecID: ci?.recId ?? null,
      ConfigItemDisplayName: (ci?.values.FriendlyName as string | undefined) ?? null,
      CorrelationKey: null,
      CloseDescription: status === 'Resolved' || status === 'Closed' ? 'Resolved by the owning team.' : null,
      ResolvedDateTime: status === 'Resolved' || status === 'Closed' ? modified : null,
      ClosedDateTime: status === 'Closed' ? modified : null,
    };
    stamp(values, created, modified, rng.pick(PEOPLE));
    out.push({ bo: INCIDENT, recId: rng.sysId(), createdMs: created, values });
  }
  return out;
}

function journalNotes(rng: Rng, incs: Draft[]): Draft[] {
  const out: Draft[] = [];
  for (const inc of incs) {
    const n = rng.int(0, 2);
    for (let k = 0; k < n; k++) {
      const at = Number(inc.values.CreatedDateTime) + k * 600_000;
      const values: Values = { ParentRecID: inc.recId, ParentTypeID: INCIDENT.busObId, Details: `Update ${k + 1}: investigating.`, JournalTypeName: 'Note' };
      stamp(values, at, at, String(inc.values.LastModBy));
      out.push({ bo: JOURNAL_NOTE, recId: rng.sysId(), createdMs: at, values });
    }
  }
  return out;
}

function changes(rng: Rng, o: SeedOptions, start: number, cis: Draft[]): Draft[] {
  const out: Draft[] = [];
  for (let i = 0; i < o.changeRequests; i++) {
    const created = start + Math.floor(rng.next() * (o.nowMs - start));
    const age = (o.nowMs - created) / 86_400_000;
    const status = lifecycle(
      rng,
      age,
      [
        ['New', 2],
        ['Classify', 2],
        ['Pending Approval', 2],
        ['Scheduled', 3],
        ['Implementing', 1],
        ['Review', 1],
      ],
      [
        ['Closed', 8],
        ['Cancelled', 1],
      ],
    );
    const plannedStart = created + rng.int(1, 14) * 86_400_000;
    const modified = Math.min(o.nowMs, created + Math.floor(rng.logNormal(24, 1) * 3_600_000));
    const ci = rng.pick(cis);
    const values: Values = {
      Status: status,
      Title: `${rng.pick(['Patch', 'Upgrade', 'Reconfigure', 'Replace', 'Scale out'])} ${ci?.values.FriendlyName ?? 'platform'}`,
      Description: 'Planned maintenance.',
      Priority: String(rng.int(2, 4)),
      Type: rng.weighted([
        ['Standard', 5],
        ['Normal', 4],
        ['Emergency', 1],
      ] as const),
      Risk: rng.pick(LEVELS),
      Category: rng.pick(['Hardware', 'Software', 'Network', 'Cloud']),
      RequestedBy: rng.pick(PEOPLE),
      OwnedBy: rng.pick(PEOPLE),
      OwnedByTeam: rng.pick(TEAMS),
      ConfigItemDisplayName: (ci?.values.FriendlyName as string | undefined) ?? null,
      ProposedStartDate: plannedStart,
      ProposedEndDate: plannedStart + rng.int(1, 8) * 3_600_000,
      ActualStartDateTime: status === 'Closed' || status === 'Review' ? plannedStart : null,
      ActualEndDateTime: status === 'Closed' ? plannedStart + 3_600_000 : null,
      CorrelationKey: null,
      ClosedDateTime: status === 'Closed' || status === 'Cancelled' ? modified : null,
    };
    stamp(values, created, modified, rng.pick(PEOPLE));
    out.push({ bo: CHANGE_REQUEST, recId: rng.sysId(), createdMs: created, values });
  }
  return out;
}

const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
const CHUNK = 500;

/**
 * Seeds an empty store (anything an interrupted earlier seed left is removed first). Inserts in small
 * transactions and yields between them, so a server starting beside it (the quick start) is not starved.
 */
export async function seedStore(store: CwStore, o: SeedOptions): Promise<void> {
  store.db.exec('DELETE FROM cw_record; DELETE FROM cw_counter; DELETE FROM cw_user; DELETE FROM cw_client;');
  const rng = new Rng(o.seed >>> 0);
  const start = o.nowMs - o.days * 86_400_000;
  seedUsersAndClients(store, rng);
  const cis = configItems(rng, o, start);
  const incs = incidents(rng, o, start, cis);
  await yieldToEventLoop();
  const all = [...cis, ...incs, ...journalNotes(rng, incs), ...changes(rng, o, start, cis)];
  all.sort((a, b) => a.createdMs - b.createdMs);
  await yieldToEventLoop();
  for (let i = 0; i < all.length; i += CHUNK) {
    store.db.transaction(() => {
      for (const d of all.slice(i, i + CHUNK)) {
        const values: Values = { ...Object.fromEntries(d.bo.fields.map((f) => [f.name, null])), ...d.values, RecID: d.recId };
        const publicId = d.bo.publicIdField === 'RecID' ? d.recId : store.nextPublicId(d.bo);
        values[d.bo.publicIdField] = publicId;
        store.insert(d.bo, d.recId, publicId, values);
      }
    })();
    await yieldToEventLoop();
  }
}
