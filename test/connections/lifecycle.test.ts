import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { startServiceNowSandbox, type ServiceNowSandbox } from '../../src/sandbox/servicenow/index.ts';
import { api, startTestConnector, testDialects, type TestConnector } from '../helpers/stores.ts';
import { createIntegrationUser, snow } from '../helpers/servicenow-users.ts';

function filesUnder(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? filesUnder(path.join(dir, e.name)) : [path.join(dir, e.name)]));
}

for (const dialect of testDialects) {
  describe(`ServiceNow connection lifecycle on ${dialect}`, () => {
    let sandbox: ServiceNowSandbox;
    let c: TestConnector;
    const password = `pw-${randomBytes(10).toString('hex')}`;
    const clientSecret = `cs-${randomBytes(10).toString('hex')}`;
    let creds: { username: string; clientId: string };
    let body: Record<string, unknown>;
    const conn = '/api/v1/workspaces/default/connections/snow';

    before(async () => {
      sandbox = await startServiceNowSandbox({ port: 0, volume: { incidents: 50, changeRequests: 10, computers: 20 } });
      c = await startTestConnector(dialect, { ITSMC_ALLOWED_PARTNER_HOSTS: new URL(sandbox.url).host });
      creds = await createIntegrationUser(sandbox, password, clientSecret);
      body = {
        partnerType: 'ServiceNow',
        serverUrl: sandbox.url,
        username: creds.username,
        password,
        clientId: creds.clientId,
        clientSecret,
        dataSyncScope: ['Incident'],
        syncDataDays: 30,
      };
    });
    after(async () => {
      await c.cleanup();
      await sandbox.close();
    });

    it('names a wrong client secret as the cause, with a 400', async () => {
      const res = await api(c.url, c.adminToken, 'PUT', conn, { ...body, clientSecret: 'wrong' });
      assert.equal(res.status, 400);
      assert.match(res.body.error.message, /client/i);
      assert.equal(res.body.error.details.cause, 'auth');
      assert.equal((await api(c.url, c.adminToken, 'GET', conn)).status, 404, 'nothing is stored after a failed check');
    });

    it('names a wrong password as the cause, with a 400', async () => {
      const res = await api(c.url, c.adminToken, 'PUT', conn, { ...body, password: 'wrong' });
      assert.equal(res.status, 400);
      assert.match(res.body.error.message, /password|user/i);
    });

    it('says the instance is unreachable when nothing listens there', async () => {
      const res = await api(c.url, c.adminToken, 'PUT', '/api/v1/workspaces/default/connections/gone', { ...body, serverUrl: 'http://127.0.0.1:9' });
      assert.equal(res.status, 400, 'allow-list refuses it or the check fails');
    });

    it('ends Healthy with templates and choices synced, and shows no secret', async () => {
      const res = await api(c.url, c.adminToken, 'PUT', conn, body);
      assert.equal(res.status, 201, JSON.stringify(res.body));
      assert.equal(res.body.status, 'Healthy');
      assert.ok(res.body.tokenExpiresAt && res.body.refreshTokenExpiresAt);
      const text = JSON.stringify(res.body);
      assert.ok(!text.includes(password) && !text.includes(clientSecret));
      const templates = await api(c.url, c.adminToken, 'GET', `${conn}/templates`);
      assert.ok(templates.body.value.length > 0);
      const states = await api(c.url, c.adminToken, 'GET', `${conn}/choices?table=incident&field=state`);
      assert.ok(states.body.value.some((ch: any) => ch.value === '6'));
    });

    it('keeps the password nowhere on disk and the client secret only encrypted', () => {
      for (const file of filesUnder(c.settings.dataDir)) {
        const bytes = fs.readFileSync(file);
        assert.equal(bytes.includes(Buffer.from(password)), false, `password in ${file}`);
        assert.equal(bytes.includes(Buffer.from(clientSecret)), false, `client secret in ${file}`);
      }
    });

    it('refreshes an expired access token on its own when tested', async () => {
      assert.equal((await snow(sandbox, 'POST', '/api/x_sandbox/oauth/expire_access_tokens')).status < 300, true);
      const res = await api(c.url, c.adminToken, 'POST', `${conn}/test`);
      assert.equal(res.status, 200);
      assert.equal(res.body.status, 'Healthy', res.body.lastError);
    });

    it('puts the connection in Error with advice when the refresh token is revoked, and recovers after a new password', async () => {
      await snow(sandbox, 'POST', '/api/x_sandbox/oauth/revoke_all');
      const failed = await api(c.url, c.adminToken, 'POST', `${conn}/test`);
      assert.equal(failed.body.status, 'Error');
      assert.match(failed.body.lastError, /password/);
      const fixed = await api(c.url, c.adminToken, 'PUT', conn, { ...body, clientSecret: undefined });
      assert.equal(fixed.status, 200, JSON.stringify(fixed.body));
      assert.equal(fixed.body.status, 'Healthy');
    });

    it('reports a hibernating instance as Degraded, not as bad credentials', async () => {
      await snow(sandbox, 'POST', '/api/x_sandbox/oauth/expire_access_tokens');
      await snow(sandbox, 'PUT', '/api/x_sandbox/faults', { hibernating: true });
      try {
        const res = await api(c.url, c.adminToken, 'POST', `${conn}/test`);
        assert.equal(res.body.status, 'Degraded');
        assert.match(res.body.lastError, /hibernat/i);
      } finally {
        await snow(sandbox, 'POST', '/api/x_sandbox/reset_faults');
      }
    });

    it('warns before the refresh token expires', async () => {
      process.env.ITSMC_REFRESH_TOKEN_LIFETIME_S = String(3 * 86400);
      try {
        const res = await api(c.url, c.adminToken, 'PUT', conn, { ...body, clientSecret: undefined });
        assert.equal(res.status, 200);
        assert.match(res.body.warnings.join(' '), /refresh token expires in 2 day/);
      } finally {
        delete process.env.ITSMC_REFRESH_TOKEN_LIFETIME_S;
      }
    });

    it('PUT replaces the connection: settings left out go back to their defaults, secrets are kept unless given', async () => {
      const full = await api(c.url, c.adminToken, 'PUT', conn, {
        ...body,
        password: undefined,
        clientSecret: undefined,
        dataSyncScope: ['Incident'],
        syncDataDays: 30,
        syncIntervalSeconds: 600,
      });
      assert.equal(full.status, 200, JSON.stringify(full.body));
      assert.deepEqual([full.body.dataSyncScope, full.body.syncDataDays, full.body.syncIntervalSeconds], [['Incident'], 30, 600]);
      const replaced = await api(c.url, c.adminToken, 'PUT', conn, { partnerType: 'ServiceNow', serverUrl: sandbox.url, clientId: creds.clientId });
      assert.equal(replaced.status, 200, JSON.stringify(replaced.body));
      assert.deepEqual(
        [replaced.body.dataSyncScope, replaced.body.syncDataDays, replaced.body.syncIntervalSeconds],
        [['Incident', 'ChangeRequest'], 120, 300],
        'every left-out setting is back to its default',
      );
      assert.equal(replaced.body.hasClientSecret, true, 'the client secret is kept');
      assert.equal(replaced.body.status, 'Healthy', 'still signed in: the tokens are kept');
    });

    it('PATCH (JSON merge patch) changes only what it names; null puts a setting back to its default', async () => {
      await api(c.url, c.adminToken, 'PUT', conn, { ...body, password: undefined, clientSecret: undefined, dataSyncScope: ['Incident'], syncDataDays: 30 });
      const patched = await api(c.url, c.adminToken, 'PATCH', conn, { syncDataDays: 10 }, { 'content-type': 'application/merge-patch+json' });
      assert.equal(patched.status, 200, JSON.stringify(patched.body));
      assert.deepEqual([patched.body.dataSyncScope, patched.body.syncDataDays], [['Incident'], 10]);
      const asJson = await api(c.url, c.adminToken, 'PATCH', conn, { createNewConfigurationItems: true });
      assert.equal(asJson.status, 200, 'application/json is taken as a merge patch too');
      assert.deepEqual([asJson.body.dataSyncScope, asJson.body.syncDataDays, asJson.body.createNewConfigurationItems], [['Incident'], 10, true]);
      const reset = await api(c.url, c.adminToken, 'PATCH', conn, { dataSyncScope: null });
      assert.deepEqual(reset.body.dataSyncScope, ['Incident', 'ChangeRequest']);
      assert.equal(reset.body.syncDataDays, 10);
      assert.equal((await api(c.url, c.adminToken, 'PATCH', '/api/v1/workspaces/default/connections/nope', { syncDataDays: 5 })).status, 404);
      const moved = await api(c.url, c.adminToken, 'PATCH', conn, { serverUrl: 'https://other.service-now.com' });
      assert.equal(moved.status, 400, 'a new server needs the password');
      assert.match(moved.body.error.message, /password/);
    });

    it('refuses an empty dataSyncScope with a 400 on PUT and PATCH', async () => {
      const put = await api(c.url, c.adminToken, 'PUT', conn, { ...body, password: undefined, clientSecret: undefined, dataSyncScope: [] });
      assert.equal(put.status, 400);
      assert.match(put.body.error.message, /dataSyncScope/);
      const patch = await api(c.url, c.adminToken, 'PATCH', conn, { dataSyncScope: [] });
      assert.equal(patch.status, 400);
      assert.match(patch.body.error.message, /dataSyncScope/);
    });

    it('shows the refresh-token lifetime (ServiceNow default 100 days), takes one per connection and warns before it ends', async () => {
      const day = 86_400_000;
      const signIn = { ...body, clientSecret: undefined };
      const byDefault = await api(c.url, c.adminToken, 'PUT', conn, signIn);
      assert.equal(byDefault.status, 200, JSON.stringify(byDefault.body));
      assert.equal(byDefault.body.refreshTokenLifetimeSeconds, 8_640_000);
      assert.equal(byDefault.body.refreshTokenLifetimeSource, 'partner default');
      const weekly = await api(c.url, c.adminToken, 'PUT', conn, { ...signIn, refreshTokenLifetimeSeconds: 7 * 86_400 });
      assert.equal(weekly.body.refreshTokenLifetimeSeconds, 604_800);
      assert.equal(weekly.body.refreshTokenLifetimeSource, 'connection');
      const left = Date.parse(weekly.body.refreshTokenExpiresAt) - Date.now();
      assert.ok(left > 7 * day - 120_000 && left <= 7 * day, `expires in 7 days, not ${left / day}`);
      assert.match(weekly.body.warnings.join(' '), /refresh token expires in 6 day/);
      const back = await api(c.url, c.adminToken, 'PATCH', conn, { refreshTokenLifetimeSeconds: null });
      assert.equal(back.body.refreshTokenLifetimeSeconds, 8_640_000);
      const after = Date.parse(back.body.refreshTokenExpiresAt) - Date.now();
      assert.ok(after > 99 * day, 'the stored sign-in is re-dated with the new lifetime, no new sign-in needed');
      assert.deepEqual(back.body.warnings, []);
    });

    it('reports a locked-out or inactive integration user as such, and recovers once it is unlocked without a new password', async () => {
      const user = (await snow(sandbox, 'GET', `/api/now/table/sys_user?sysparm_query=user_name=${creds.username}&sysparm_fields=sys_id`)).body.result[0]
        .sys_id;
      await snow(sandbox, 'PATCH', `/api/now/table/sys_user/${user}`, { locked_out: 'true' });
      await snow(sandbox, 'POST', '/api/x_sandbox/oauth/expire_access_tokens');
      try {
        const failed = await api(c.url, c.adminToken, 'POST', `${conn}/test`);
        assert.equal(failed.body.status, 'Error');
        assert.match(failed.body.lastError, /locked out or inactive/);
        assert.doesNotMatch(failed.body.lastError, /^[^;]*re-enter the (integration user )?password/, 'the password is not named as the cause');
      } finally {
        await snow(sandbox, 'PATCH', `/api/now/table/sys_user/${user}`, { locked_out: 'false' });
      }
      const healed = await api(c.url, c.adminToken, 'POST', `${conn}/test`);
      assert.equal(healed.body.status, 'Healthy', healed.body.lastError);
    });

    it('refuses to delete a connection that does not exist with 404', async () => {
      assert.equal((await api(c.url, c.adminToken, 'DELETE', '/api/v1/workspaces/default/connections/nope')).status, 404);
    });
  });
}
