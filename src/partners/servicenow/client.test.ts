/**
 * Integration tests of the ServiceNow client over real HTTP against the project's ServiceNow sandbox.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, beforeEach, describe, it } from 'node:test';
import { startServiceNowSandbox, type ServiceNowSandbox } from '../../sandbox/servicenow/index.ts';
import { PartnerError, type PartnerContext, type TokenSet, type TokenVault, type WorkItemInput } from '../partner.ts';
import { ServiceNowClient } from './client.ts';
import { serviceNowPartner } from './index.ts';
import { freePort } from '../../../test/helpers/wait.ts';

const ADMIN = `Basic ${Buffer.from('admin:admin').toString('base64')}`;
const INTEGRATION = { username: 'itsmc.integration', password: 'sandbox', clientId: 'itsmc-sandbox', clientSecret: 'sandbox-secret' };

let sb: ServiceNowSandbox;

/** The test's own token vault: holds one TokenSet in memory. */
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

interface Made {
  client: ServiceNowClient;
  vault: MemoryVault;
  responses: { method: string; path: string; status: number }[];
}

function make(overrides: Partial<PartnerContext['credentials']> = {}, opts: { timeoutMs?: number; vault?: MemoryVault; url?: string } = {}): Made {
  const vault = opts.vault ?? new MemoryVault();
  const responses: Made['responses'] = [];
  const ctx: PartnerContext = {
    credentials: { serverUrl: opts.url ?? sb.url, ...INTEGRATION, ...overrides },
    tokens: vault,
    timeoutMs: opts.timeoutMs ?? 10_000,
    onResponse: (i) => responses.push(i),
  };
  return { client: serviceNowPartner.create(ctx) as ServiceNowClient, vault, responses };
}

async function connected(opts: { timeoutMs?: number } = {}): Promise<Made> {
  const m = make({}, opts);
  await m.client.authenticate();
  return m;
}

async function admin(method: string, path: string, body?: unknown): Promise<any> {
  const res = await fetch(sb.url + path, {
    method,
    headers: { Authorization: ADMIN, Accept: 'application/json', ...(body === undefined ? {} : { 'Content-Type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  assert.ok(res.ok, `${method} ${path} → ${res.status} ${text}`);
  return text ? JSON.parse(text) : undefined;
}

/** Raw Table API read as admin (stored values, plain reference ids). */
async function raw(table: string, query: string, fields?: string): Promise<Record<string, string>[]> {
  const q = new URLSearchParams({ sysparm_query: query, sysparm_exclude_reference_link: 'true' });
  if (fields) q.set('sysparm_fields', fields);
  return (await admin('GET', `/api/now/table/${table}?${q}`)).result;
}

async function grants(): Promise<{ password: number; refresh_token: number }> {
  return (await admin('GET', '/api/x_sandbox/stats')).tokenGrants;
}

async function faults(config: Record<string, unknown>): Promise<void> {
  await admin('PUT', '/api/x_sandbox/faults', config);
}

function isPartnerError(kind: string, pattern?: RegExp) {
  return (err: unknown): boolean => {
    assert.ok(err instanceof PartnerError, `expected PartnerError, got ${String(err)}`);
    assert.equal(err.kind, kind, err.message);
    if (pattern) assert.match(err.message, pattern);
    return true;
  };
}

function incidentInput(key: string, extra: Partial<WorkItemInput> = {}): WorkItemInput {
  return {
    type: 'Incident',
    correlationKey: key,
    title: 'CPU high on web01',
    description: 'Percentage CPU > 90 for 5 minutes',
    fields: {},
    ciIds: [],
    ...extra,
  };
}

/** Walks an object graph and reports whether any string property equals `secret`. */
function holdsString(root: unknown, secret: string): boolean {
  const seen = new Set<unknown>();
  const walk = (v: unknown): boolean => {
    if (v === secret) return true;
    if (!v || typeof v !== 'object' || seen.has(v)) return false;
    seen.add(v);
    return Object.values(v as Record<string, unknown>).some(walk);
  };
  return walk(root);
}

before(async () => {
  sb = await startServiceNowSandbox({ port: 0, volume: { incidents: 200, changeRequests: 50, computers: 50 } });
});

after(async () => {
  await sb?.close();
});

beforeEach(async () => {
  await admin('POST', '/api/x_sandbox/reset_faults');
});

describe('OAuth tokens', () => {
  it('signs in with one password grant, then renews with the refresh token near expiry', async () => {
    const g0 = await grants();
    const { client, vault } = make();
    const tokens = await client.authenticate();
    assert.ok(tokens.accessToken && tokens.refreshToken);
    assert.ok(tokens.accessExpiresAt > Date.now() + 10 * 60_000);
    assert.deepEqual(vault.tokens, tokens);
    const g1 = await grants();
    assert.equal(g1.password, g0.password + 1);

    vault.tokens = { ...vault.tokens!, accessExpiresAt: Date.now() + 30_000 }; // inside the 60 s skew
    assert.equal(await client.findByCorrelationKey('Incident', 'no-such-key'), null);
    const g2 = await grants();
    assert.equal(g2.refresh_token, g1.refresh_token + 1);
    assert.equal(g2.password, g1.password, 'no second password grant');
    assert.ok(vault.tokens!.accessExpiresAt > Date.now() + 10 * 60_000);
  });

  it('drops the password after authenticate(): the client no longer holds it and cannot sign in again', async () => {
    const secretPassword = 'sandbox';
    const { client } = make();
    await client.authenticate();
    assert.equal(holdsString(client, secretPassword), false);
    await assert.rejects(client.authenticate(), isPartnerError('auth', /password/));
  });

  it('refreshes once and repeats the request when the Table API answers 401 to an expired token', async () => {
    const { client, vault } = await connected();
    const before = vault.tokens!.accessToken;
    const g0 = await grants();
    await admin('POST', '/api/x_sandbox/oauth/expire_access_tokens');
    const ref = await client.createWorkItem(incidentInput(`tok-401-${Date.now()}`));
    assert.match(ref.number, /^INC\d{7}$/);
    const g1 = await grants();
    assert.equal(g1.refresh_token, g0.refresh_token + 1);
    assert.notEqual(vault.tokens!.accessToken, before);
    assert.equal((await raw('incident', `sys_id=${ref.id}`)).length, 1, 'exactly one incident created');
  });

  it('shares one refresh among concurrent callers (single flight)', async () => {
    const { client, vault } = await connected();
    vault.tokens = { ...vault.tokens!, accessExpiresAt: Date.now() - 1 };
    const g0 = await grants();
    await Promise.all(Array.from({ length: 8 }, (_, i) => client.findByCorrelationKey('Incident', `sf-${i}`)));
    assert.equal((await grants()).refresh_token, g0.refresh_token + 1);

    await admin('POST', '/api/x_sandbox/oauth/expire_access_tokens');
    const g1 = await grants();
    await Promise.all(Array.from({ length: 8 }, (_, i) => client.findByCorrelationKey('Incident', `sf401-${i}`)));
    assert.equal((await grants()).refresh_token, g1.refresh_token + 1, 'concurrent 401s also share one refresh');
  });

  it('reports a revoked refresh token as an auth error naming a locked user, a revoked token and the password as causes', async () => {
    const { client } = await connected();
    await admin('POST', '/api/x_sandbox/oauth/revoke_all');
    await assert.rejects(
      client.findByCorrelationKey('Incident', 'x'),
      isPartnerError('auth', /refresh token.*locked out or inactive.*revoked.*enter the password again/),
    );
  });

  it('tells a wrong client secret apart from a wrong password, without echoing secrets', async () => {
    const badSecret = make({ clientSecret: 'not-the-secret' });
    await assert.rejects(badSecret.client.authenticate(), (err) => {
      isPartnerError('auth', /client id or client secret is wrong/)(err);
      assert.doesNotMatch((err as Error).message, /not-the-secret|sandbox/);
      return true;
    });
    const badPassword = make({ password: 'wrong-password' });
    await assert.rejects(badPassword.client.authenticate(), (err) => {
      isPartnerError('auth', /user name or password of "itsmc.integration"/)(err);
      assert.doesNotMatch((err as Error).message, /wrong-password|sandbox-secret/);
      return true;
    });
  });

  it('works with Basic auth when no OAuth client is configured', async () => {
    const g0 = await grants();
    const { client } = make({ clientId: undefined, clientSecret: undefined });
    const t = await client.authenticate();
    assert.equal(t.accessToken, '');
    const key = `basic-${Date.now()}`;
    const ref = await client.createWorkItem(incidentInput(key));
    assert.equal((await client.findByCorrelationKey('Incident', key))?.id, ref.id);
    assert.deepEqual(await grants(), g0, 'no token grants in Basic mode');
    const bad = make({ clientId: undefined, clientSecret: undefined, password: 'nope' });
    await assert.rejects(bad.client.findByCorrelationKey('Incident', 'x'), isPartnerError('auth', /user name or password/));
  });
});

describe('failures surfaced as PartnerError', () => {
  it('surfaces 429 as rate-limited with retryAfterMs from Retry-After', async () => {
    const { client } = await connected();
    await faults({ rateLimitNext: { count: 1, retryAfterSec: 7 } });
    await assert.rejects(client.findByCorrelationKey('Incident', 'x'), (err) => {
      isPartnerError('rate-limited', /rate limit/i)(err);
      assert.equal((err as PartnerError).details.retryAfterMs, 7000);
      assert.equal((err as PartnerError).retryable, true);
      return true;
    });
  });

  it('reports the HTML hibernation page as unavailable "hibernating", for API calls and sign-in', async () => {
    const { client } = await connected();
    await faults({ hibernating: true });
    await assert.rejects(client.findByCorrelationKey('Incident', 'x'), isPartnerError('unavailable', /hibernating/));
    await assert.rejects(make().client.authenticate(), isPartnerError('unavailable', /hibernating/));
  });

  it('reports an HTML site that is not ServiceNow as a protocol error', async () => {
    const html: Server = createServer((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/html' });
      res.end('<!DOCTYPE html><html><body>Welcome to nginx!</body></html>');
    });
    await new Promise<void>((r) => html.listen(0, '127.0.0.1', r));
    try {
      const url = `http://127.0.0.1:${(html.address() as AddressInfo).port}`;
      await assert.rejects(make({}, { url }).client.authenticate(), isPartnerError('protocol', /not a ServiceNow instance/));
      await assert.rejects(
        make({ clientId: undefined, clientSecret: undefined }, { url }).client.findByCorrelationKey('Incident', 'x'),
        isPartnerError('protocol', /not a ServiceNow instance/),
      );
    } finally {
      await new Promise<void>((r) => html.close(() => r()));
    }
  });

  it('surfaces a breached rate-limit rule as rate-limited with the wait ServiceNow asks for', async () => {
    const { client } = await connected();
    await admin('PUT', '/api/x_sandbox/rate_limits', { rules: [{ user: 'itsmc.integration', perHour: 2, path: '/api/now/table/cmdb_ci', window: 'rolling' }] });
    try {
      await client.findOrCreateCi('rate-limit-probe', false); // two reads: name= then LIKE
      await assert.rejects(client.findOrCreateCi('rate-limit-probe', false), (err) => {
        isPartnerError('rate-limited', /Rate limit of 2 requests per hour/)(err);
        assert.ok(((err as PartnerError).details.retryAfterMs ?? 0) > 0);
        return true;
      });
    } finally {
      await admin('PUT', '/api/x_sandbox/rate_limits', { rules: [] });
    }
  });

  it('reports a redirect (SSO front door, wrong URL) as a protocol error without the query string', async () => {
    const sso: Server = createServer((_req, res) => {
      res.writeHead(302, { Location: 'https://login.example.com/saml2?SAMLRequest=secretish' });
      res.end();
    });
    await new Promise<void>((r) => sso.listen(0, '127.0.0.1', r));
    try {
      const url = `http://127.0.0.1:${(sso.address() as AddressInfo).port}`;
      await assert.rejects(make({}, { url }).client.authenticate(), (err) => {
        isPartnerError('protocol', /redirected \(302\) to https:\/\/login\.example\.com\/saml2/)(err);
        assert.doesNotMatch((err as Error).message, /SAMLRequest/);
        return true;
      });
    } finally {
      await new Promise<void>((r) => sso.close(() => r()));
    }
  });

  it('surfaces a 503 as unavailable without retrying in-process', async () => {
    const { client, responses } = await connected();
    await faults({ failNext: 1, errorStatus: 503 });
    const n = responses.length;
    await assert.rejects(client.createWorkItem(incidentInput(`503-${Date.now()}`)), (err) => {
      isPartnerError('unavailable')(err);
      assert.equal((err as PartnerError).details.status, 503);
      return true;
    });
    assert.deepEqual(
      responses.slice(n).map((r) => `${r.method} ${r.path} ${r.status}`),
      ['POST /api/now/table/incident 503'],
      'one request, no retry',
    );
  });

  it('turns a request slower than the client timeout into unavailable', async () => {
    const { vault } = await connected();
    const { client } = make({}, { timeoutMs: 300, vault });
    await faults({ timeoutRate: 1, timeoutMs: 2000 });
    await assert.rejects(client.findByCorrelationKey('Incident', 'x'), isPartnerError('unavailable', /did not answer .* within 300 ms/));
  });

  it('reports a closed port as unavailable "cannot reach … connection refused"', async () => {
    const url = `http://127.0.0.1:${await freePort()}`;
    await assert.rejects(
      make({}, { url }).client.authenticate(),
      isPartnerError('unavailable', /cannot reach ServiceNow at 127\.0\.0\.1:\d+: connection refused/),
    );
  });

  it('maps a 404 on a missing record to not-found', async () => {
    const { client } = await connected();
    const ghost = { type: 'Incident' as const, id: '0'.repeat(32), number: 'INC0000000', state: '1', closed: false };
    await assert.rejects(client.resolveWorkItem(ghost, {}, 'x'), isPartnerError('not-found', /No Record found/));
  });

  it('rejects a CI name containing ^ before any request is sent', async () => {
    const { client, responses } = await connected();
    const n = responses.length;
    await assert.rejects(client.findOrCreateCi('web01^ORnameISNOTEMPTY', true), isPartnerError('invalid', /\^/));
    assert.equal(responses.length, n);
  });
});

describe('incidents', () => {
  it('creates, updates, resolves and reopens an incident, as seen through the raw Table API', async () => {
    const { client } = await connected();
    const ci = await client.findOrCreateCi(`itest-web-${Date.now()}`, true);
    const key = `rule-cpu:alert-${Date.now()}`;
    const ref = await client.createWorkItem(incidentInput(key, { fields: { impact: '2', urgency: '2', category: 'network' }, ciIds: [ci!.id] }));
    assert.equal(ref.type, 'Incident');
    assert.equal(ref.closed, false);
    let [rec] = await raw('incident', `sys_id=${ref.id}`);
    assert.equal(rec.number, ref.number);
    assert.equal(rec.short_description, 'CPU high on web01');
    assert.equal(rec.description, 'Percentage CPU > 90 for 5 minutes');
    assert.equal(rec.correlation_id, key);
    assert.equal(rec.correlation_display, 'OpenITSMC');
    assert.equal(rec.cmdb_ci, ci!.id);
    assert.equal(rec.impact, '2');
    assert.equal(rec.priority, '3', 'priority derived by ServiceNow from impact × urgency');
    assert.equal(rec.state, '1');

    const updated = await client.updateWorkItem(ref, 'Alert fired again at 10:05', { urgency: '1' });
    assert.equal(updated.id, ref.id);
    [rec] = await raw('incident', `sys_id=${ref.id}`);
    assert.equal(rec.urgency, '1');
    const notes = await raw('sys_journal_field', `element_id=${ref.id}^element=work_notes`);
    assert.ok(
      notes.some((n) => n.value === 'Alert fired again at 10:05'),
      'work note journaled',
    );

    const resolved = await client.resolveWorkItem(ref, { closeNotes: 'CPU back to normal' }, 'Alert resolved');
    assert.equal(resolved.state, '6');
    assert.equal(resolved.closed, true);
    [rec] = await raw('incident', `sys_id=${ref.id}`);
    assert.equal(rec.state, '6');
    assert.equal(rec.close_code, 'Solution provided');
    assert.equal(rec.close_notes, 'CPU back to normal');
    assert.notEqual(rec.resolved_at, '');

    const again = await client.resolveWorkItem(ref, {}, '');
    assert.equal(again.state, '6', 'resolving a resolved incident is a no-op');

    const reopened = await client.reopenWorkItem(ref, 'Alert fired again');
    assert.equal(reopened.state, '2');
    assert.equal(reopened.closed, false);
    [rec] = await raw('incident', `sys_id=${ref.id}`);
    assert.equal(rec.state, '2');
    assert.equal(rec.reopen_count, '1');
  });

  it('creates an incident with three CIs: the first in cmdb_ci, the other two as task_ci rows', async () => {
    const { client } = await connected();
    const stamp = Date.now();
    const cis = [];
    for (const n of [1, 2, 3]) cis.push((await client.findOrCreateCi(`itest-multi-${stamp}-${n}`, true))!);
    const ref = await client.createWorkItem(incidentInput(`multi-ci-${stamp}`, { ciIds: cis.map((c) => c.id) }));
    const [rec] = await raw('incident', `sys_id=${ref.id}`);
    assert.equal(rec.cmdb_ci, cis[0].id);
    const links = await raw('task_ci', `task=${ref.id}`, 'task,ci_item,sys_created_by');
    assert.deepEqual(links.map((l) => l.ci_item).sort(), [cis[1].id, cis[2].id].sort());
    for (const l of links) {
      assert.equal(l.task, ref.id);
      assert.equal(l.sys_created_by, 'itsmc.integration');
    }
    // Adding a CI that is already linked does not link it twice.
    await client.updateWorkItem(ref, '', {}, [cis[0].id, cis[1].id]);
    assert.equal((await raw('task_ci', `task=${ref.id}`, 'ci_item')).length, 2);
  });

  it('still returns the created incident when linking the extra CIs fails, and notes the failure on it', async () => {
    const { client, responses } = await connected();
    const stamp = Date.now();
    const cis = [];
    for (const n of [1, 2]) cis.push((await client.findOrCreateCi(`itest-linkfail-${stamp}-${n}`, true))!);
    await faults({ paths: ['/api/now/table/task_ci'], failNext: 10, errorStatus: 503 });
    const ref = await client.createWorkItem(incidentInput(`link-fail-${stamp}`, { ciIds: cis.map((c) => c.id) }));
    assert.equal(ref.type, 'Incident');
    assert.ok(
      responses.some((r) => r.path.includes('/task_ci') && r.status === 503),
      'the failed link call reached onResponse',
    );
    await admin('POST', '/api/x_sandbox/reset_faults');
    const [rec] = await raw('incident', `sys_id=${ref.id}`);
    assert.equal(rec.number, ref.number);
    assert.equal(rec.cmdb_ci, cis[0].id);
    assert.deepEqual(await raw('task_ci', `task=${ref.id}`), []);
    const notes = await raw('sys_journal_field', `element_id=${ref.id}^element=work_notes`);
    assert.equal(notes.length, 1);
    assert.match(notes[0].value, new RegExp(`could not link .*${cis[1].id}`));
  });

  it('applies a ServiceNow template under the explicit fields', async () => {
    const { client } = await connected();
    const ref = await client.createWorkItem(incidentInput(`tmpl-${Date.now()}`, { templateName: 'Network connectivity', fields: { impact: '1' } }));
    const [rec] = await raw('incident', `sys_id=${ref.id}`);
    assert.equal(rec.category, 'network', 'from the template');
    assert.equal(rec.urgency, '2', 'from the template');
    assert.equal(rec.impact, '1', 'explicit field wins over the template');
    assert.equal(rec.short_description, 'CPU high on web01', 'title wins over the template');
    assert.notEqual(rec.assignment_group, '');
    await assert.rejects(client.createWorkItem(incidentInput('x', { templateName: 'No such template' })), isPartnerError('invalid', /template/));
  });

  it('finds an incident by correlation_id, newest first; long or ^-bearing keys are hashed consistently', async () => {
    const { client } = await connected();
    const key = `find-${Date.now()}`;
    const first = await client.createWorkItem(incidentInput(key));
    const second = await client.createWorkItem(incidentInput(key));
    const hit = await client.findByCorrelationKey('Incident', key);
    assert.ok(hit);
    assert.ok([first.id, second.id].includes(hit.id));
    assert.equal(await client.findByCorrelationKey('Incident', `${key}-other`), null);

    const longKey = `/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/x/alerts/${'a'.repeat(120)}^odd`;
    const made = await client.createWorkItem(incidentInput(longKey));
    const [rec] = await raw('incident', `sys_id=${made.id}`);
    assert.match(rec.correlation_id, /^sha-[0-9a-f]{64}$/);
    assert.equal((await client.findByCorrelationKey('Incident', longKey))?.id, made.id);
  });
});

describe('events and alerts', () => {
  it('sends an event that opens an em_alert, and a clear (severity 0) closes it', async () => {
    const { client } = await connected();
    const key = `evt-${Date.now()}`;
    const ref = await client.createWorkItem({
      type: 'Event',
      correlationKey: key,
      title: 'CPU high',
      description: 'Percentage CPU > 90',
      eventSeverity: '2',
      fields: { node: 'web01', type: 'Metric', resource: 'Percentage CPU', alertRule: 'cpu-high' },
      ciIds: [],
    });
    assert.equal(ref.type, 'Event');
    assert.equal(ref.id, key);
    const [ev] = await raw('em_event', `message_key=${key}`);
    assert.equal(ev.source, 'OpenITSMC');
    assert.equal(ev.severity, '2');
    assert.equal(ev.node, 'web01');
    assert.deepEqual(JSON.parse(ev.additional_info), { title: 'CPU high', correlation_key: key, alertRule: 'cpu-high' });
    let [alert] = await raw('em_alert', `message_key=${key}`);
    assert.equal(alert.state, 'Open');
    const found = await client.findByCorrelationKey('Event', key);
    assert.equal(found?.closed, false);
    assert.equal(found?.number, alert.number);

    const cleared = await client.resolveWorkItem(ref, {}, 'Alert resolved');
    assert.equal(cleared.closed, true);
    [alert] = await raw('em_alert', `message_key=${key}`);
    assert.equal(alert.state, 'Closed');
    assert.equal((await client.findByCorrelationKey('Event', key))?.closed, true);
  });

  it('re-sends an Event with new values on update, and reopens a cleared Event with a new alert', async () => {
    const { client } = await connected();
    const key = `evt-upd-${Date.now()}`;
    const ref = await client.createWorkItem({
      type: 'Event',
      correlationKey: key,
      title: 't',
      description: 'd',
      eventSeverity: '4',
      fields: { node: 'web02' },
      ciIds: [],
    });
    await client.updateWorkItem(ref, 'getting worse', { severity: '1' });
    let alerts = await raw('em_alert', `message_key=${key}`);
    assert.equal(alerts.length, 1, 'same message_key → same alert');
    assert.equal(alerts[0].severity, '1');
    assert.equal(alerts[0].event_count, '2');
    await client.updateWorkItem(ref, 'just a note');
    await client.resolveWorkItem(ref, {}, 'resolved');
    const reopened = await client.reopenWorkItem(ref, 'fired again');
    assert.equal(reopened.closed, false);
    alerts = await raw('em_alert', `message_key=${key}^ORDERBYsys_created_on^ORDERBYnumber`);
    assert.deepEqual(alerts.map((a) => a.state).sort(), ['Closed', 'Open']);
    assert.equal(alerts.find((a) => a.state === 'Open')?.node, 'web02', 'reopen re-sends the node');
    const latest = await client.findByCorrelationKey('Event', key);
    assert.equal(latest?.closed, false, 'the newest alert of the key is the open one');
    assert.equal(latest?.number, alerts.find((a) => a.state === 'Open')?.number);
  });

  it('creates an Alert work item directly in em_alert and closes and reopens it', async () => {
    const { client } = await connected();
    const key = `alert-${Date.now()}`;
    const ref = await client.createWorkItem({
      type: 'Alert',
      correlationKey: key,
      title: 'Disk full',
      description: 'C: 98%',
      eventSeverity: '3',
      fields: { node: 'db01' },
      ciIds: [],
    });
    assert.match(ref.number, /^Alert\d+/);
    let [alert] = await raw('em_alert', `sys_id=${ref.id}`);
    assert.equal(alert.message_key, key);
    assert.equal(alert.severity, '3');
    assert.equal(alert.node, 'db01');
    assert.equal((await client.findByCorrelationKey('Alert', key))?.id, ref.id);
    assert.equal((await client.resolveWorkItem(ref, {}, 'resolved')).closed, true);
    [alert] = await raw('em_alert', `sys_id=${ref.id}`);
    assert.equal(alert.state, 'Closed');
    assert.equal((await client.reopenWorkItem(ref, 'fired again')).state, 'Reopen');
  });
});

describe('CMDB and configuration', () => {
  it('finds a CI by name ignoring case, and creates a cmdb_ci_computer only when allowed', async () => {
    const { client } = await connected();
    const [seeded] = await raw('cmdb_ci_computer', 'nameISNOTEMPTY^ORDERBYname', 'sys_id,name');
    const found = await client.findOrCreateCi(seeded.name.toUpperCase(), false);
    assert.equal(found?.id, seeded.sys_id);
    assert.equal(found?.created, false);

    const name = `itest-new-${Date.now()}`;
    assert.equal(await client.findOrCreateCi(name, false), null);
    const created = await client.findOrCreateCi(name, true);
    assert.equal(created?.created, true);
    assert.equal(created?.className, 'cmdb_ci_computer');
    assert.equal((await raw('cmdb_ci_computer', `sys_id=${created!.id}`))[0].name, name);
    const again = await client.findOrCreateCi(name, true);
    assert.equal(again?.id, created!.id);
    assert.equal(again?.created, false);
  });

  it('reads incident and change templates and choice lists', async () => {
    const { client } = await connected();
    const cfg = await client.readConfiguration();
    const net = cfg.templates.find((t) => t.name === 'Network connectivity');
    assert.equal(net?.table, 'incident');
    assert.equal(net?.fields.category, 'network');
    assert.ok(cfg.templates.some((t) => t.table === 'change_request'));
    assert.deepEqual(
      cfg.choices.find((c) => c.table === 'incident' && c.field === 'state' && c.value === '6'),
      { table: 'incident', field: 'state', value: '6', label: 'Resolved' },
    );
    assert.ok(cfg.choices.some((c) => c.table === 'change_request' && c.field === 'state'));
    const keys = cfg.choices.map((c) => `${c.table}/${c.field}/${c.value}`);
    assert.equal(new Set(keys).size, keys.length, 'one entry per choice');
  });
});

describe('incremental sync', () => {
  it('pages by (sys_updated_on, sys_id): records changed between pages are neither skipped nor looped', async () => {
    const { client } = await connected();
    const all = await raw('incident', 'ORDERBYsys_updated_on^ORDERBYsys_id', 'sys_id');
    const seen: string[] = [];
    let last = '';
    let cursor: string | undefined;
    let pages = 0;
    let touchedSeen = '';
    let touchedUnseen = '';
    let inserted = '';
    do {
      const page = await client.listChangedSince('Incident', '2000-01-01T00:00:00Z', cursor, 50);
      pages++;
      for (const r of page.records) {
        const k = `${r.updatedAt}|${r.id}`;
        assert.ok(k > last, 'strictly increasing (updatedAt, id)');
        last = k;
        seen.push(r.id);
        assert.equal(r.row.ServiceDeskWorkItemType_s, 'Incident');
      }
      if (pages === 1) {
        touchedSeen = page.records[0].id;
        touchedUnseen = all[all.length - 60].sys_id;
        assert.ok(!seen.includes(touchedUnseen));
        await admin('PATCH', `/api/now/table/incident/${touchedSeen}`, { work_notes: 'changed while paging' });
        await admin('PATCH', `/api/now/table/incident/${touchedUnseen}`, { urgency: '1' });
        inserted = (await admin('POST', '/api/now/table/incident', { short_description: 'inserted while paging' })).result.sys_id;
      }
      cursor = page.next;
      assert.ok(pages < 50, 'paging terminates');
    } while (cursor);
    const expected = new Set([...all.map((r) => r.sys_id), inserted]);
    assert.deepEqual(new Set(seen), expected, 'nothing skipped');
    assert.equal(seen.filter((id) => id === touchedSeen).length, 2, 'a record changed after being read comes again, once');
    assert.equal(seen.filter((id) => id === touchedUnseen).length, 1, 'a record changed before being read comes once');
    assert.equal(seen.length, expected.size + 1);
  });

  it('maps records to ServiceDesk_CL rows with labels and ISO UTC dates, and filters by since', async () => {
    const { client } = await connected();
    const start = new Date(Date.now() - 1000).toISOString();
    const ref = await client.createWorkItem(incidentInput(`sync-${Date.now()}`, { fields: { impact: '1', urgency: '1', contact_type: 'email' } }));
    await client.resolveWorkItem(ref, { closeCode: 'Solution provided', closeNotes: 'ok' }, 'done');
    const page = await client.listChangedSince('Incident', start);
    const rec = page.records.find((r) => r.id === ref.id);
    assert.ok(rec, 'the new incident is in the window');
    assert.ok(page.records.every((r) => r.updatedAt >= start.slice(0, 19)));
    assert.equal(rec.row.ServiceDeskId_s, ref.number);
    assert.equal(rec.row.IncidentState_s, 'Resolved');
    assert.equal(rec.row.Priority_s, '1 - Critical');
    assert.equal(rec.row.CreatedBy_s, 'ITSMC Integration');
    assert.equal(rec.row.ResolvedBy_s, 'ITSMC Integration');
    assert.match(String(rec.row.ResolvedDate_t), /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
    assert.equal(rec.row.ClosedDate_t, null);
    assert.equal(rec.row.AssignedTo_s, '');

    const crs = await client.listChangedSince('ChangeRequest', '2000-01-01T00:00:00Z', undefined, 10);
    assert.equal(crs.records.length, 10);
    assert.ok(crs.next);
    const cr = crs.records[0].row;
    assert.equal(cr.ServiceDeskWorkItemType_s, 'ChangeRequest');
    assert.match(String(cr.ServiceDeskId_s), /^CHG\d{7}$/);
    assert.ok(typeof cr.CRState_s === 'string' && cr.CRState_s !== '' && !/^-?\d+$/.test(cr.CRState_s), 'state label, not value');
    await assert.rejects(client.listChangedSince('Incident', start, crs.next), isPartnerError('invalid', /cursor/));
  });
});
