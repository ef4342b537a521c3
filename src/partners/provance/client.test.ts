import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { PartnerError, type PartnerContext, type TokenSet, type TokenVault } from '../partner.ts';
import { startProvanceSandbox, SANDBOX_CREDENTIALS, type ProvanceSandbox } from '../../sandbox/provance/index.ts';
import { accessToken, adminCall, api } from '../../sandbox/provance/test-support.ts';
import { ProvanceClient, partnerKey } from './client.ts';
import { NAMES } from './mapping.ts';
import { tokenEndpointFromChallenge } from './tokens.ts';

const I = NAMES.incident;
const VOLUME = { incidents: 120, changeRequests: 30, cis: 20 };

function memoryVault(initial: TokenSet | null = null): TokenVault & { current: TokenSet | null } {
  const v = {
    current: initial,
    load: async () => v.current,
    save: async (t: TokenSet) => {
      v.current = t;
    },
  };
  return v;
}

describe('Provance client against the Provance sandbox over HTTP', () => {
  let sb: ProvanceSandbox;
  let raw: string;
  const credentials = () => ({
    serverUrl: sb.url,
    username: SANDBOX_CREDENTIALS.integration.username,
    password: SANDBOX_CREDENTIALS.integration.password,
    clientId: SANDBOX_CREDENTIALS.clientId,
  });
  const client = (over: Partial<PartnerContext['credentials']> = {}, vault: TokenVault = memoryVault()) =>
    new ProvanceClient({ credentials: { ...credentials(), ...over }, tokens: vault, timeoutMs: 10_000 });
  /** A client that has signed in (the connection does this once when it is saved). */
  const signedIn = async () => {
    const c = client();
    await c.authenticate();
    return c;
  };
  const input = (key: string, ciIds: string[] = [], fields: Record<string, string> = {}) => ({
    type: 'Incident' as const,
    correlationKey: key,
    title: `Alert ${key.slice(0, 40)}`,
    description: 'fired',
    fields,
    ciIds,
  });

  before(async () => {
    sb = await startProvanceSandbox({ volume: VOLUME, now: '2026-06-01T00:00:00Z' });
    raw = await accessToken(sb);
  });
  after(() => sb.close());

  test('authenticate discovers the authority from the 401 challenge and stores access and refresh tokens', async () => {
    const vault = memoryVault();
    const t = await client({}, vault).authenticate();
    assert.ok(t.accessToken && t.refreshToken);
    assert.ok(t.accessExpiresAt > Date.now() + 3000_000);
    assert.deepEqual(vault.current, t);
  });

  test('sign-in failures name their cause (AADSTS codes translated)', async () => {
    const cases: [Partial<PartnerContext['credentials']>, RegExp][] = [
      [{ password: 'wrong' }, /rejected the username or password \(AADSTS50126\)/],
      [{ username: 'ghost@sandbox.example' }, /does not exist .* \(AADSTS50034\)/],
      [{ clientId: 'unknown-app' }, /Client ID is not an app registered .* \(AADSTS700016\)/],
      [{ clientId: SANDBOX_CREDENTIALS.confidentialClientId }, /Allow public client flows.* \(AADSTS7000218\)/],
    ];
    for (const [over, message] of cases) {
      await assert.rejects(client(over).authenticate(), (e: unknown) => e instanceof PartnerError && e.kind === 'auth' && message.test(e.message));
    }
    await adminCall(sb, 'PUT', `aad/users/${SANDBOX_CREDENTIALS.integration.username}`, { unlock: true });
  });

  test('the password is only sent to a Microsoft login host or the server itself', () => {
    const server = 'https://org.crm.dynamics.com';
    assert.equal(
      tokenEndpointFromChallenge(
        'Bearer authorization_uri=https://login.microsoftonline.com/abc/oauth2/authorize, resource_id=https://org.crm.dynamics.com/',
        server,
      ),
      'https://login.microsoftonline.com/abc/oauth2/v2.0/token',
    );
    assert.throws(
      () => tokenEndpointFromChallenge('Bearer authorization_uri=https://evil.example/abc/oauth2/authorize', server),
      /refusing to send the password/,
    );
    assert.throws(() => tokenEndpointFromChallenge(null, server), /did not name its Azure AD authority/);
  });

  test('create → find by correlation key → update with a note → resolve → reopen', async () => {
    const c = await signedIn();
    const ci = (await c.findOrCreateCi('vm-web-e2e-01', true))!;
    assert.equal(ci.created, true);
    const ref = await c.createWorkItem(input('corr-1', [ci.id], { impact: '1', urgency: '2' }));
    assert.match(ref.number, /^CAS-/);
    assert.equal(ref.closed, false);
    assert.deepEqual(await c.findByCorrelationKey('Incident', 'corr-1'), ref);
    assert.equal(await c.findByCorrelationKey('Incident', 'corr-unknown'), null);

    const rec = (await api(sb, raw, 'GET', `incidents(${ref.id})?$select=prov_impact,prov_urgency,_prov_configurationitemid_value,prov_correlationkey`)).body;
    assert.deepEqual(
      [rec.prov_impact, rec.prov_urgency, rec._prov_configurationitemid_value, rec.prov_correlationkey],
      [100000000, 100000001, ci.id, 'corr-1'],
    );
    const linked = (await api(sb, raw, 'GET', `incidents(${ref.id})/${I.cisNav}?$select=prov_name`)).body.value;
    assert.deepEqual(
      linked.map((x: any) => x.prov_name),
      ['vm-web-e2e-01'],
    );

    const notes = async () =>
      (await api(sb, raw, 'GET', `annotations?$select=notetext&$filter=_objectid_value eq ${ref.id}`)).body.value.map((n: any) => n.notetext);
    await c.updateWorkItem(ref, 'fired again');
    assert.deepEqual(await notes(), ['fired again']);

    const resolved = await c.resolveWorkItem(ref, {}, 'alert resolved');
    assert.deepEqual([resolved.state, resolved.closed], ['1', true]);
    const again = await c.resolveWorkItem(ref, {}, 'again');
    assert.deepEqual([again.id, again.state, again.closed], [ref.id, '1', true], 'resolving a resolved case changes nothing');
    assert.ok(again.closedAt);

    const reopened = await c.reopenWorkItem(resolved, 'fired after resolve');
    assert.deepEqual([reopened.state, reopened.closed], ['0', false]);
    assert.deepEqual((await notes()).sort(), ['fired after resolve', 'fired again']);
  });

  test('long correlation keys are stored hashed and found again', async () => {
    const c = await signedIn();
    const key = 'k'.repeat(500);
    assert.match(partnerKey(key), /^sha-[0-9a-f]{64}$/);
    const ref = await c.createWorkItem(input(key));
    assert.equal((await c.findByCorrelationKey('Incident', key))?.id, ref.id);
    const quoted = await c.createWorkItem(input("it's quoted"));
    assert.equal((await c.findByCorrelationKey('Incident', "it's quoted"))?.id, quoted.id);
  });

  test('findOrCreateCi finds by name or FQDN, creates only when allowed', async () => {
    const c = await signedIn();
    const [existing] = (await api(sb, raw, 'GET', 'prov_configurationitems?$select=prov_name,prov_fqdn&$top=1')).body.value;
    assert.equal((await c.findOrCreateCi(existing.prov_name, false))?.id, existing.prov_configurationitemid);
    assert.equal((await c.findOrCreateCi(existing.prov_fqdn, false))?.created, false);
    assert.equal(await c.findOrCreateCi('not-there-01', false), null);
  });

  test('bad input is refused before any write', async () => {
    const c = await signedIn();
    await assert.rejects(
      c.createWorkItem(input('bad-1', [], { impact: 'enormous' })),
      (e: unknown) => e instanceof PartnerError && e.kind === 'invalid' && /prov_impact/.test(e.message),
    );
    await assert.rejects(c.createWorkItem({ ...input('bad-2'), type: 'Event' }), /cases \(Incident\)/);
    await assert.rejects(c.createWorkItem(input('bad-3', ['not-a-guid'])), /not a Dataverse id/);
    assert.equal(await c.findByCorrelationKey('Incident', 'bad-1'), null);
  });

  test('readConfiguration returns the option sets as choice lists', async () => {
    const conf = await (await signedIn()).readConfiguration();
    assert.deepEqual(conf.templates, []);
    assert.ok(conf.choices.some((ch) => ch.table === 'incident' && ch.field === 'prioritycode' && ch.value === '1' && ch.label === 'High'));
    assert.ok(conf.choices.some((ch) => ch.table === 'prov_changerequest' && ch.field === 'prov_changestate' && ch.label === 'Implement'));
    assert.ok(conf.choices.some((ch) => ch.table === 'incident' && ch.field === 'statecode' && ch.label === 'Resolved'));
  });

  test('listChangedSince pages with @odata.nextLink through every record changed since, in modifiedon order, as ServiceDesk_CL rows', async () => {
    const c = await signedIn();
    for (const scope of ['Incident', 'ChangeRequest'] as const) {
      const seen = new Map<string, string>();
      let cursor: string | undefined;
      let last = '';
      do {
        const page = await c.listChangedSince(scope, '2026-01-01T00:00:00Z', cursor, 25);
        for (const r of page.records) {
          assert.ok(r.updatedAt >= last, 'modifiedon order');
          last = r.updatedAt;
          seen.set(r.id, String(r.row[scope === 'Incident' ? 'IncidentState_s' : 'CRState_s']));
          assert.equal(r.row.ServiceDeskWorkItemType_s, scope);
        }
        cursor = page.next;
      } while (cursor);
      const set = scope === 'Incident' ? 'incidents' : 'prov_changerequests';
      const total = (await api(sb, raw, 'GET', `${set}?$select=modifiedon&$count=true`)).body['@odata.count'];
      assert.equal(seen.size, total, scope);
      if (scope === 'Incident') assert.ok([...seen.values()].every((s) => ['Active', 'Resolved', 'Canceled'].includes(s)));
    }
    const later = await c.listChangedSince('Incident', '2030-01-01T00:00:00Z');
    assert.deepEqual(later, { records: [] });
    await assert.rejects(
      c.listChangedSince('Incident', 'x', Buffer.from(JSON.stringify({ v: 1, scope: 'Incident', link: 'http://evil.example/x' })).toString('base64url')),
      /not one this Provance client wrote/,
    );
  });

  test('an expired access token is refreshed after the 401; a revoked refresh token without the password asks for it', async () => {
    const vault = memoryVault();
    await client({}, vault).authenticate();
    const fromStore = client({ username: undefined, password: undefined }, vault);
    await adminCall(sb, 'POST', 'aad/expire-access-tokens');
    const before = vault.current!.accessToken;
    assert.ok(await fromStore.findByCorrelationKey('Incident', 'corr-1'));
    assert.notEqual(vault.current!.accessToken, before, 'a refreshed token was saved');

    await adminCall(sb, 'POST', 'aad/expire-access-tokens');
    await adminCall(sb, 'POST', 'aad/revoke-refresh-tokens');
    await assert.rejects(
      fromStore.findByCorrelationKey('Incident', 'corr-1'),
      (e: unknown) => e instanceof PartnerError && e.kind === 'auth' && /revoked.*AADSTS50173/.test(e.message),
    );
    raw = await accessToken(sb);
  });

  test('429 from service protection becomes a rate-limited error with Retry-After; nothing is retried in-process', async () => {
    const c = await signedIn();
    await adminCall(sb, 'PUT', 'faults', { rateLimitNext: { count: 1, retryAfterSec: 9 }, paths: ['/api/data/'] });
    try {
      await assert.rejects(
        c.findByCorrelationKey('Incident', 'corr-1'),
        (e: unknown) => e instanceof PartnerError && e.kind === 'rate-limited' && e.details.retryAfterMs === 9000,
      );
      assert.ok(await c.findByCorrelationKey('Incident', 'corr-1'));
    } finally {
      await adminCall(sb, 'POST', 'reset_faults');
    }
  });
});
