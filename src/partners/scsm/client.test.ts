/**
 * Integration tests of the SCSM client over real HTTP against the project's SCSM sandbox (web app + token service).
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { SEEDED_CREDENTIALS, startScsmSandbox, type ScsmSandbox } from '../../sandbox/scsm/index.ts';
import { PartnerError, type PartnerContext, type TokenSet, type TokenVault, type WorkItemInput } from '../partner.ts';
import { correlationValue, ScsmClient } from './client.ts';
import { fieldsByName, labelOf } from './mapping.ts';

const ADMIN = `Basic ${Buffer.from('admin:admin').toString('base64')}`;
let sb: ScsmSandbox;

class MemoryVault implements TokenVault {
  tokens: TokenSet | null = null;
  saves = 0;
  async load(): Promise<TokenSet | null> {
    return this.tokens ? { ...this.tokens } : null;
  }
  async save(tokens: TokenSet): Promise<void> {
    this.saves++;
    this.tokens = { ...tokens };
  }
}

function make(overrides: Partial<PartnerContext['credentials']> = {}, vault = new MemoryVault()) {
  const responses: { method: string; path: string; status: number }[] = [];
  const ctx: PartnerContext = {
    credentials: { serverUrl: sb.url, clientId: SEEDED_CREDENTIALS.clientId, clientSecret: SEEDED_CREDENTIALS.clientSecret, ...overrides },
    tokens: vault,
    timeoutMs: 10_000,
    onResponse: (i) => responses.push(i),
  };
  return { client: new ScsmClient(ctx), vault, responses };
}

async function admin(method: string, path: string, body?: unknown): Promise<any> {
  const res = await fetch(sb.url + path, {
    method,
    headers: { Authorization: ADMIN, ...(body === undefined ? {} : { 'Content-Type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return res.json();
}

const input = (key: string, extra: Partial<WorkItemInput> = {}): WorkItemInput => ({
  type: 'Incident',
  correlationKey: key,
  title: `Alert ${key}`,
  description: 'CPU above 90% for 5 minutes',
  fields: { impact: '1', urgency: '2' },
  ciIds: [],
  ...extra,
});

before(async () => {
  sb = await startScsmSandbox({ volume: { incidents: 150, changeRequests: 40, computers: 10 }, seed: 3 });
});
after(() => sb.close());
afterEach(async () => {
  await admin('POST', '/api/x_sandbox/reset_faults');
});

describe('SCSM client: tokens', () => {
  it("finds the Azure AD authority from the web app's 401 challenge, gets a client-credentials token and stores it", async () => {
    const { client, vault, responses } = make();
    const tokens = await client.authenticate();
    assert.ok(tokens.accessToken);
    assert.ok(tokens.accessExpiresAt > Date.now() + 3_000_000);
    assert.equal(vault.saves, 1);
    assert.deepEqual(
      responses.map((r) => `${r.method} ${r.path} ${r.status}`),
      ['GET /api/status 401', 'POST /sandbox/oauth2/token 200', 'GET /api/status 200'],
    );
    assert.deepEqual(await client.status(), { connected: true, message: 'Connected to Service Manager server scsm01.contoso.local' });
  });

  it('an expired token is renewed once on the 401 and the call goes through', async () => {
    const { client, vault } = make();
    await client.authenticate();
    await admin('POST', '/api/x_sandbox/aad/expire_tokens');
    assert.equal((await client.status()).connected, true);
    assert.equal(vault.saves, 2);
  });

  it('the connection check names each cause: token refused, client not whitelisted, web app unreachable, SM server disconnected', async () => {
    const refused = await make({ clientSecret: 'wrong' })
      .client.authenticate()
      .catch((e) => e);
    assert.ok(refused instanceof PartnerError);
    assert.equal(refused.kind, 'auth');
    assert.equal(refused.details.cause, 'invalid_client');
    assert.match(refused.message, /Azure AD refused the OAuth client/);
    assert.doesNotMatch(refused.message, /wrong/);
    const other = await make({ clientId: SEEDED_CREDENTIALS.other.clientId, clientSecret: SEEDED_CREDENTIALS.other.clientSecret })
      .client.authenticate()
      .catch((e) => e);
    assert.equal(other.kind, 'auth');
    assert.equal(other.details.cause, 'not-whitelisted');
    const down = await make({ serverUrl: 'http://127.0.0.1:1' })
      .client.authenticate()
      .catch((e) => e);
    assert.equal(down.kind, 'unavailable');
    assert.match(down.message, /cannot reach SCSM web app at 127\.0\.0\.1:1: connection refused/);
    await admin('PUT', '/api/x_sandbox/relay', { connected: false });
    const { client } = make();
    const disconnected = await client.authenticate().catch((e) => e);
    assert.equal(disconnected.kind, 'unavailable');
    assert.equal(disconnected.details.cause, 'sm-disconnected');
    assert.match(disconnected.message, /not connected to the Service Manager server: The Data Access service/);
    const sdk = await client.findByCorrelationKey('Incident', 'x').catch((e) => e);
    assert.equal(sdk.kind, 'unavailable');
    assert.equal(sdk.details.cause, 'sm-disconnected');
  });
});

describe('SCSM client: incidents', () => {
  it('create with a template, fields and the CI; find it by correlation key; update, resolve and reopen it', async () => {
    const { client } = make();
    const ci = await client.findOrCreateCi('alert-vm01.contoso.local', true);
    assert.deepEqual(ci, { id: 'alert-vm01.contoso.local', name: 'alert-vm01.contoso.local', className: 'Microsoft.Windows.Computer', created: true });
    assert.equal((await client.findOrCreateCi('alert-vm01.contoso.local', true))?.created, false);
    assert.equal(await client.findOrCreateCi('nowhere.contoso.local', false), null);

    const ref = await client.createWorkItem(input('key-1', { templateName: 'Azure Monitor alert', ciIds: [ci!.id] }));
    assert.match(ref.number, /^IR\d+$/);
    assert.equal(ref.state, 'Active');
    assert.equal(ref.closed, false);
    const item = fieldsByName(await client.getWorkItem(ref.id));
    assert.equal(labelOf(item.get('Impact')), 'High');
    assert.equal(labelOf(item.get('Urgency')), 'Medium');
    assert.equal(labelOf(item.get('Source')), 'Operations Manager', 'template applied');
    assert.equal(item.get('ContactMethod')?.value, 'key-1');

    assert.deepEqual(await client.findByCorrelationKey('Incident', 'key-1'), ref);
    assert.equal(await client.findByCorrelationKey('Incident', 'key-2'), null);

    await client.updateWorkItem(ref, 'Fired again');
    const resolved = await client.resolveWorkItem(ref, {}, 'Alert resolved');
    assert.equal(resolved.state, 'Resolved');
    assert.equal(resolved.closed, true);
    const reopened = await client.reopenWorkItem(resolved, 'Fired after resolve');
    assert.equal(reopened.state, 'Active');
    const log = fieldsByName(await client.getWorkItem(ref.id)).get('ActionLog')?.value as { Comment: string; EnteredBy: string }[];
    assert.deepEqual(
      log.map((c) => c.Comment),
      ['Fired after resolve', 'Alert resolved', 'Fired again'],
    );
    assert.ok(log.every((c) => c.EnteredBy === 'SM-OMS'));
    const cis = await fetch(`${sb.url}/api/affectedci`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${(await make().client.authenticate()).accessToken}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ incidentIds: [ref.number], WIType: 'System.WorkItem.Incident' }),
    }).then((r) => r.json() as Promise<any>);
    assert.deepEqual(cis.values, [{ Key: ref.number, Value: 'alert-vm01.contoso.local' }]);
  });

  it('an update of an incident a human resolved meanwhile writes nothing and says closed, with closedAt', async () => {
    const { client } = make();
    const ref = await client.createWorkItem(input('closed-by-human'));
    await client.resolveWorkItem(ref, { closeNotes: 'fixed by hand' }, '');
    const seen = await client.updateWorkItem(ref, 'fired again');
    assert.equal(seen.closed, true);
    assert.equal(seen.state, 'Resolved');
    assert.ok(seen.closedAt && Number.isFinite(Date.parse(seen.closedAt)));
    const log = fieldsByName(await client.getWorkItem(ref.id)).get('ActionLog')?.value as unknown[];
    assert.equal(log.length, 0, 'no comment on the resolved incident');
  });

  it('a correlation key that does not fit ContactMethod, or carries XML, is stored hashed or escaped and still found', async () => {
    const { client } = make();
    const long = 'k'.repeat(400);
    assert.match(correlationValue(long), /^sha-[0-9a-f]{64}$/);
    const a = await client.createWorkItem(input(long, { title: 'Long key' }));
    assert.equal((await client.findByCorrelationKey('Incident', long))?.id, a.id);
    const xml = `</Value></ValueExpressionRight></SimpleExpression><Or>'"&`;
    const b = await client.createWorkItem(input(xml));
    assert.equal((await client.findByCorrelationKey('Incident', xml))?.id, b.id);
  });

  it('refusals are invalid PartnerErrors naming the problem: unknown template, class template, bad field', async () => {
    const { client } = make();
    const missing = await client.createWorkItem(input('t1', { templateName: 'Nope' })).catch((e) => e);
    assert.equal(missing.kind, 'invalid');
    const classTemplate = await client.createWorkItem(input('t2', { templateName: 'Printer problem (class template)' })).catch((e) => e);
    assert.equal(classTemplate.kind, 'invalid');
    assert.match(classTemplate.message, /ProjectionType/);
    const bad = await client.createWorkItem(input('t3', { fields: { Colour: 'red' } })).catch((e) => e);
    assert.equal(bad.kind, 'invalid');
    assert.match(bad.message, /Colour/);
    await assert.rejects(client.createWorkItem(input('t4', { type: 'Event' })), /incidents; Event is not supported/);
  });

  it('faults map to retryable kinds: 503 outage, 429 with Retry-After, 500', async () => {
    const { client } = make();
    await client.authenticate();
    await admin('PUT', '/api/x_sandbox/faults', { rateLimitNext: { count: 1, retryAfterSec: 3 } });
    const limited = await client.findByCorrelationKey('Incident', 'x').catch((e) => e);
    assert.equal(limited.kind, 'rate-limited');
    assert.equal(limited.details.retryAfterMs, 3000);
    await admin('PUT', '/api/x_sandbox/faults', { failNext: 1, errorStatus: 500 });
    assert.equal((await client.findByCorrelationKey('Incident', 'x').catch((e) => e)).kind, 'unavailable');
    await admin('PUT', '/api/x_sandbox/faults', { outageUntil: new Date(Date.now() + 60_000).toISOString() });
    const outage = await client.findByCorrelationKey('Incident', 'x').catch((e) => e);
    assert.equal(outage.kind, 'unavailable');
    assert.equal(outage.details.cause, 'web-app-down');
  });
});

describe('SCSM client: configuration and sync', () => {
  it('reads templates and the lookup values of every enum property as choices (display names)', async () => {
    const config = await make().client.readConfiguration();
    assert.ok(config.templates.some((t) => t.name === 'Azure Monitor alert' && t.table === 'System.WorkItem.Incident'));
    const urgency = config.choices.filter((c) => c.table === 'System.WorkItem.Incident' && c.field === 'Urgency').map((c) => c.value);
    assert.deepEqual(urgency, ['High', 'Medium', 'Low']);
    assert.ok(config.choices.some((c) => c.table === 'System.WorkItem.ChangeRequest' && c.field === 'Risk'));
  });

  it('pages every changed incident and change request through the page cache, in LastModified order', async () => {
    const { client } = make();
    for (const scope of ['Incident', 'ChangeRequest'] as const) {
      const seen = new Map<string, string>();
      let cursor: string | undefined;
      let last = '';
      let pages = 0;
      do {
        const page = await client.listChangedSince(scope, '2000-01-01T00:00:00Z', cursor, 25);
        for (const r of page.records) {
          assert.ok(r.updatedAt >= last);
          last = r.updatedAt;
          seen.set(r.id, String(r.row.ServiceDeskId_s));
          assert.equal(r.row.ServiceDeskWorkItemType_s, scope);
        }
        cursor = page.next;
        pages++;
      } while (cursor);
      const prefix = scope === 'Incident' ? 'IR' : 'CR';
      assert.ok([...seen.values()].every((id) => id.startsWith(prefix)));
      assert.ok(pages > 1);
      const total = await fetch(`${sb.url}/api/workitems`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${(await client.authenticate()).accessToken}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({ className: scope === 'Incident' ? 'System.WorkItem.Incident' : 'System.WorkItem.ChangeRequest', pageSize: 1 }),
      }).then((r) => r.json() as Promise<any>);
      assert.equal(seen.size, total.totalRows);
    }
  });

  it('restarts cleanly from the last record seen when the web app has forgotten the page cache key', async () => {
    const { client } = make();
    const first = await client.listChangedSince('Incident', '2000-01-01T00:00:00Z', undefined, 40);
    await admin('POST', '/api/x_sandbox/cache/expire');
    const second = await client.listChangedSince('Incident', '2000-01-01T00:00:00Z', first.next, 40);
    assert.ok(second.records.length > 0);
    assert.ok(second.records[0].updatedAt >= first.records.at(-1)!.updatedAt, 'resumes at the last LastModified seen');
    await assert.rejects(client.listChangedSince('Incident', '2000-01-01T00:00:00Z', 'garbage', 40), /paging cursor/);
  });

  it('maps rows with display names, affected CI and ISO dates', async () => {
    const page = await make().client.listChangedSince('Incident', '2000-01-01T00:00:00Z', undefined, 200);
    const rows = page.records.map((r) => r.row);
    assert.ok(rows.every((r) => ['Active', 'Pending', 'Resolved', 'Closed'].includes(String(r.IncidentState_s))));
    assert.ok(rows.every((r) => ['High', 'Medium', 'Low'].includes(String(r.Urgency_s))));
    assert.ok(rows.some((r) => typeof r.Computer === 'string' && r.Computer.endsWith('.contoso.local')));
    assert.ok(rows.every((r) => /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/.test(String(r.CreatedDate_t))));
  });
});
