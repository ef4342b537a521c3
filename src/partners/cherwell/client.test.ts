/** The Cherwell client over real HTTP against the project's Cherwell sandbox. */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, beforeEach, describe, it } from 'node:test';
import { SANDBOX_CREDENTIALS, startCherwellSandbox, type CherwellSandbox } from '../../sandbox/cherwell/index.ts';
import { PartnerError, type PartnerContext, type TokenSet, type TokenVault, type WorkItemInput } from '../partner.ts';
import type { CherwellClient } from './client.ts';
import { cherwellPartner } from './index.ts';

const ADMIN = 'Basic ' + Buffer.from(`${SANDBOX_CREDENTIALS.admin.user}:${SANDBOX_CREDENTIALS.admin.password}`).toString('base64');
const LOGIN = {
  username: SANDBOX_CREDENTIALS.integration.user,
  password: SANDBOX_CREDENTIALS.integration.password,
  clientId: SANDBOX_CREDENTIALS.restClient.clientId,
};

class MemoryVault implements TokenVault {
  tokens: TokenSet | null = null;
  async load(): Promise<TokenSet | null> {
    return this.tokens ? { ...this.tokens } : null;
  }
  async save(tokens: TokenSet): Promise<void> {
    this.tokens = { ...tokens };
  }
}

let sb: CherwellSandbox;

function make(
  overrides: Partial<PartnerContext['credentials']> = {},
  vault = new MemoryVault(),
  url = sb.apiUrl,
): { client: CherwellClient; vault: MemoryVault } {
  const client = cherwellPartner.create({ credentials: { serverUrl: url, ...LOGIN, ...overrides }, tokens: vault, timeoutMs: 10_000 }) as CherwellClient;
  return { client, vault };
}

/** A client that has signed in (the connection's first and only password grant). */
async function signedIn(): Promise<CherwellClient> {
  const { client } = make();
  await client.authenticate();
  return client;
}

async function admin(method: string, path: string, body?: unknown): Promise<any> {
  const res = await fetch(`${sb.apiUrl}/api/x_sandbox${path}`, {
    method,
    headers: { Authorization: ADMIN, ...(body === undefined ? {} : { 'Content-Type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return res.json();
}

function incident(key: string, extra: Partial<WorkItemInput> = {}): WorkItemInput {
  return { type: 'Incident', correlationKey: key, title: `Alert ${key}`, description: 'from the client test', fields: { Priority: '2' }, ciIds: [], ...extra };
}

describe('Cherwell client over HTTP', () => {
  before(async () => {
    sb = await startCherwellSandbox({ volume: { incidents: 200, changeRequests: 40, configItems: 20 }, now: '2026-11-20T12:00:00Z' });
  });
  after(() => sb.close());
  beforeEach(async () => {
    await admin('POST', '/reset_faults');
  });

  it('creates an incident with its CI, finds it by correlation key, adds journal notes, resolves and reopens it', async () => {
    const { client } = make();
    await client.authenticate();
    const ci = await client.findOrCreateCi('vm-client-test-01', true);
    assert.ok(ci?.created);
    assert.equal((await client.findOrCreateCi('VM-CLIENT-TEST-01', false))?.id, ci.id);
    const ref = await client.createWorkItem(incident('corr-1', { ciIds: [ci.id] }));
    assert.match(ref.number, /^\d+$/);
    assert.equal(ref.state, 'New');
    const found = await client.findByCorrelationKey('Incident', 'corr-1');
    assert.equal(found?.id, ref.id);
    assert.equal(await client.findByCorrelationKey('Incident', 'corr-unknown'), null);

    const updated = await client.updateWorkItem(ref, 'fired again');
    assert.equal(updated.number, ref.number);
    const resolved = await client.resolveWorkItem(ref, {}, 'alert resolved');
    assert.equal(resolved.state, 'Resolved');
    assert.equal(resolved.closed, true);
    const reopened = await client.reopenWorkItem(ref, 'fired after resolve');
    assert.equal(reopened.state, 'Reopened');
    assert.equal(reopened.closed, false);

    // Read back through raw HTTP: the CI link and three journal notes.
    const t = (await (
      await fetch(`${sb.apiUrl}/token`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'password', client_id: LOGIN.clientId, username: LOGIN.username, password: LOGIN.password }),
      })
    ).json()) as { access_token: string };
    const H = { Authorization: `Bearer ${t.access_token}`, 'Content-Type': 'application/json' };
    const inc: any = await (
      await fetch(`${sb.apiUrl}/api/V1/getbusinessobject/busobid/6dd53665c0c24cab86870a21cf6434ae/busobrecid/${ref.id}`, { headers: H })
    ).json();
    const v = Object.fromEntries(inc.fields.map((f: { name: string; value: string }) => [f.name, f.value]));
    assert.equal(v.ConfigItemRecID, ci.id);
    assert.equal(v.ConfigItemDisplayName, 'vm-client-test-01');
    assert.equal(v.CorrelationKey, 'corr-1');
    const journal: any = await (await fetch(`${sb.apiUrl}/api/V1/getbusinessobjectsummary/busobname/JournalNote`, { headers: H })).json();
    const tpl: any = await (
      await fetch(`${sb.apiUrl}/api/V1/getbusinessobjecttemplate`, {
        method: 'POST',
        headers: H,
        body: JSON.stringify({ busObId: journal[0].busObId, includeAll: true }),
      })
    ).json();
    const parent = tpl.fields.find((f: { name: string }) => f.name === 'ParentRecID').fieldId;
    const notes: any = await (
      await fetch(`${sb.apiUrl}/api/V1/getsearchresults`, {
        method: 'POST',
        headers: H,
        body: JSON.stringify({ busObId: journal[0].busObId, includeAllFields: true, filters: [{ fieldId: parent, operator: 'eq', value: ref.id }] }),
      })
    ).json();
    assert.equal(notes.totalRows, 3);
  });

  it('stores a long correlation key as a deterministic hash and still finds it', async () => {
    const client = await signedIn();
    const key = 'k'.repeat(500);
    const ref = await client.createWorkItem(incident(key, { title: 'long key' }));
    assert.equal((await client.findByCorrelationKey('Incident', key))?.id, ref.id);
  });

  it('turns hasError answers on HTTP 200 into invalid / not-found PartnerErrors', async () => {
    const client = await signedIn();
    await assert.rejects(
      client.createWorkItem(incident('bad-priority', { fields: { Priority: '9' } })),
      (e: unknown) => e instanceof PartnerError && e.kind === 'invalid' && /Priority/.test(e.message),
    );
    await assert.rejects(
      client.updateWorkItem({ type: 'Incident', id: '0'.repeat(32), number: '1', state: 'New', closed: false }, 'x', { Priority: '1' }),
      (e: unknown) => e instanceof PartnerError && e.kind === 'not-found',
    );
    await assert.rejects(
      client.createWorkItem(incident('bad-field', { fields: { NoSuchField: 'x' } })),
      (e: unknown) => e instanceof PartnerError && e.kind === 'invalid' && /NoSuchField/.test(e.message),
    );
  });

  it('reuses one login: refreshes on expiry and on a 401, never a second password grant', async () => {
    const { client } = make();
    await client.authenticate();
    const before = await admin('GET', '/licences');
    await client.createWorkItem(incident('login-1'));
    await admin('POST', '/expire_access_tokens');
    await client.createWorkItem(incident('login-2'));
    await client.findByCorrelationKey('Incident', 'login-2');
    const afterRun = await admin('GET', '/licences');
    assert.equal(afterRun.logins - before.logins, 0);
    assert.equal(afterRun.refreshes - before.refreshes, 1);
  });

  it('a client built from stored tokens (no password) works and reports an ended session as auth', async () => {
    const first = make();
    await first.client.authenticate();
    const { client } = make({ password: undefined }, first.vault);
    assert.ok(await client.findOrCreateCi('vm-client-test-01', false));
    await admin('POST', '/end_sessions');
    await assert.rejects(
      client.findByCorrelationKey('Incident', 'x'),
      (e: unknown) => e instanceof PartnerError && e.kind === 'auth' && /password again/.test(e.message),
    );
  });

  it('says why a login failed: client id, password, licences, not a Cherwell server', async () => {
    const fail = async (c: CherwellClient) => {
      try {
        await c.authenticate();
      } catch (e) {
        return e as PartnerError;
      }
      throw new Error('login succeeded');
    };
    const badClient = await fail(make({ clientId: 'not-a-client' }).client);
    assert.equal(badClient.kind, 'auth');
    assert.match(badClient.message, /client ID/);
    const badPassword = await fail(make({ password: 'wrong' }).client);
    assert.equal(badPassword.kind, 'auth');
    assert.match(badPassword.message, /user name or password/);
    await admin('PUT', '/rules', { licenceCap: 0 });
    try {
      const licence = await fail(make().client);
      assert.equal(licence.kind, 'unavailable');
      assert.match(licence.message, /licence/);
    } finally {
      await admin('PUT', '/rules', { licenceCap: null });
    }
    const other: Server = createServer((_req, res) => res.writeHead(200, { 'Content-Type': 'text/html' }).end('<html><body>Welcome to nginx</body></html>'));
    await new Promise<void>((r) => other.listen(0, '127.0.0.1', r));
    try {
      const notCherwell = await fail(make({}, new MemoryVault(), `http://127.0.0.1:${(other.address() as AddressInfo).port}`).client);
      assert.equal(notCherwell.kind, 'protocol');
      assert.match(notCherwell.message, /not a Cherwell/);
    } finally {
      await new Promise((r) => other.close(r));
    }
  });

  it('accepts the server URL with or without /CherwellAPI', async () => {
    const { client } = make({}, new MemoryVault(), sb.url);
    await client.authenticate();
    assert.ok(await client.findOrCreateCi('vm-client-test-01', false));
  });

  it('maps 429 and 5xx to retryable errors', async () => {
    const { client } = make();
    await client.authenticate();
    await admin('PUT', '/faults', { rateLimitNext: { count: 1, retryAfterSec: 3 } });
    await assert.rejects(
      client.findByCorrelationKey('Incident', 'x'),
      (e: unknown) => e instanceof PartnerError && e.kind === 'rate-limited' && e.details.retryAfterMs === 3000,
    );
    await admin('PUT', '/faults', { failNext: 1, errorStatus: 503 });
    await assert.rejects(client.findByCorrelationKey('Incident', 'x'), (e: unknown) => e instanceof PartnerError && e.retryable);
  });

  it('reads configuration: status choices of Incident and ChangeRequest', async () => {
    const client = await signedIn();
    const conf = await client.readConfiguration();
    assert.deepEqual(
      conf.choices.filter((c) => c.table === 'Incident').map((c) => c.value),
      ['Pending', 'Closed', 'Reopened', 'New', 'In Progress', 'Resolved', 'Assigned'],
    );
    assert.ok(conf.choices.some((c) => c.table === 'ChangeRequest' && c.value === 'Implementing'));
  });
});

describe('Cherwell client: changed-since paging', () => {
  before(async () => {
    sb = await startCherwellSandbox({ volume: { incidents: 230, changeRequests: 70, configItems: 10 }, now: '2026-11-20T12:00:00Z' });
  });
  after(() => sb.close());

  async function readAll(client: CherwellClient, scope: 'Incident' | 'ChangeRequest', since: string, pageSize: number) {
    const ids: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await client.listChangedSince(scope, since, cursor, pageSize);
      ids.push(...page.records.map((r) => r.id));
      for (const r of page.records) assert.ok(Date.parse(r.updatedAt) >= Date.parse(since) - 1000);
      cursor = page.next;
      assert.ok(++pages < 500, 'paging must end');
    } while (cursor);
    return ids;
  }

  it('reads every record once in time order, across pages, with rows mapped to ServiceDesk_CL', async () => {
    const client = await signedIn();
    const ids = await readAll(client, 'Incident', '2026-01-01T00:00:00Z', 37);
    assert.equal(ids.length, 230);
    assert.equal(new Set(ids).size, 230);
    const changes = await client.listChangedSince('ChangeRequest', '2026-01-01T00:00:00Z', undefined, 5);
    const row = changes.records[0].row;
    assert.equal(row.ServiceDeskWorkItemType_s, 'ChangeRequest');
    assert.match(String(row.ServiceDeskId_s), /^\d+$/);
    assert.match(String(row.CreatedDate_t), /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
    assert.ok(String(row.CRState_s).length > 0);
  });

  it('does not lose or repeat records when many change within one second (more than a page)', async () => {
    const client = await signedIn();
    const start = new Date().toISOString();
    const batch = Array.from({ length: 25 }, (_, i) => incident(`same-second-${i}`));
    await Promise.all(batch.map((b) => client.createWorkItem(b)));
    const ids = await readAll(client, 'Incident', start, 4);
    assert.equal(ids.length, 25);
    assert.equal(new Set(ids).size, 25);
  });

  it('reads local times across a DST change in the server zone correctly', async () => {
    const client = await signedIn();
    const page = await client.listChangedSince('ChangeRequest', '2026-01-01T00:00:00Z', undefined, 1000);
    // Planned start dates were written as instants; the row must show the instant whatever the zone did.
    for (const r of page.records) {
      const planned = r.row.PlannedStartDate_t;
      if (planned) assert.ok(Number.isFinite(Date.parse(String(planned))));
    }
    await assert.rejects(client.listChangedSince('Incident', 'yesterday'), (e: unknown) => e instanceof PartnerError && e.kind === 'invalid');
    await assert.rejects(
      client.listChangedSince('Incident', '2026-01-01T00:00:00Z', 'garbage'),
      (e: unknown) => e instanceof PartnerError && e.kind === 'invalid',
    );
  });
});
