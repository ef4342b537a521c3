import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { ServiceNowSandbox } from './index.ts';
import { call, INTEGRATION, startSmall, token } from './test-support.ts';

let sb: ServiceNowSandbox;
before(async () => {
  sb = await startSmall({ volume: { incidents: 20, changeRequests: 5, computers: 10 } });
});
after(async () => {
  await sb?.close();
});

const CLIENT = { client_id: 'itsmc-sandbox', client_secret: 'sandbox-secret' };
const PASSWORD = { grant_type: 'password', ...CLIENT, username: 'itsmc.integration', password: 'sandbox' };
const DENIED = { error_description: 'access_denied', error: 'server_error' };

const bearer = (t: string): string => `Bearer ${t}`;

describe('POST /oauth_token.do', () => {
  test('password grant returns access + refresh tokens in the documented shape, and the bearer works on the Table API', async () => {
    const r = await token(sb, PASSWORD);
    assert.equal(r.status, 200);
    assert.deepEqual(Object.keys(r.body), ['scope', 'token_type', 'expires_in', 'refresh_token', 'access_token']);
    assert.equal(r.body.scope, 'useraccount');
    assert.equal(r.body.token_type, 'Bearer');
    assert.equal(r.body.expires_in, 1800);
    assert.ok(r.body.access_token.length > 40);
    assert.notEqual(r.body.access_token, r.body.refresh_token);
    const api = await call(sb, 'GET', '/api/now/table/incident?sysparm_limit=1', { auth: bearer(r.body.access_token) });
    assert.equal(api.status, 200);
  });

  test('a second password grant while the token is valid returns the same access and refresh tokens', async () => {
    const a = await token(sb, PASSWORD);
    const b = await token(sb, PASSWORD);
    assert.equal(b.body.access_token, a.body.access_token);
    assert.equal(b.body.refresh_token, a.body.refresh_token);
  });

  test('refresh grant returns the current access token (and echoes the refresh token); after expiry it issues a new one', async () => {
    const first = await token(sb, PASSWORD);
    const refreshed = await token(sb, { grant_type: 'refresh_token', ...CLIENT, refresh_token: first.body.refresh_token });
    assert.equal(refreshed.status, 200);
    assert.equal(refreshed.body.access_token, first.body.access_token);
    assert.equal(refreshed.body.refresh_token, first.body.refresh_token);
    assert.equal(refreshed.body.token_type, 'Bearer');
    const expired = await call(sb, 'POST', '/api/x_sandbox/oauth/expire_access_tokens');
    assert.equal(expired.status, 200);
    const stale = await call(sb, 'GET', '/api/now/table/incident?sysparm_limit=1', { auth: bearer(first.body.access_token) });
    assert.equal(stale.status, 401);
    assert.deepEqual(stale.body, { error: { message: 'User Not Authenticated', detail: 'Required to provide Auth information' }, status: 'failure' });
    const renewed = await token(sb, { grant_type: 'refresh_token', ...CLIENT, refresh_token: first.body.refresh_token });
    assert.equal(renewed.status, 200);
    assert.notEqual(renewed.body.access_token, first.body.access_token);
    assert.equal((await call(sb, 'GET', '/api/now/table/incident?sysparm_limit=1', { auth: bearer(renewed.body.access_token) })).status, 200);
  });

  test('the refresh response can omit refresh_token (rules.refreshGrantReturnsRefreshToken=false)', async () => {
    await call(sb, 'PUT', '/api/x_sandbox/rules', { body: { refreshGrantReturnsRefreshToken: false } });
    try {
      const first = await token(sb, PASSWORD);
      const r = await token(sb, { grant_type: 'refresh_token', ...CLIENT, refresh_token: first.body.refresh_token });
      assert.equal(r.status, 200);
      assert.equal('refresh_token' in r.body, false);
    } finally {
      await call(sb, 'PUT', '/api/x_sandbox/rules', { body: { refreshGrantReturnsRefreshToken: true } });
    }
  });

  test('bad password, bad client secret, unknown grant → 401 {"error_description":"access_denied","error":"server_error"}', async () => {
    for (const form of [
      { ...PASSWORD, password: 'wrong' },
      { ...PASSWORD, client_secret: 'wrong' },
      { ...PASSWORD, username: 'nobody' },
      { ...CLIENT, grant_type: 'client_credentials' },
      { grant_type: 'refresh_token', ...CLIENT, refresh_token: 'not-a-token' },
    ]) {
      const r = await token(sb, form);
      assert.equal(r.status, 401, JSON.stringify(form));
      assert.deepEqual(r.body, DENIED);
    }
  });

  test('the token endpoint only takes form-encoded bodies: JSON gets the error answer', async () => {
    const r = await call(sb, 'POST', '/oauth_token.do', { auth: null, body: PASSWORD });
    assert.equal(r.status, 401);
    assert.deepEqual(r.body, DENIED);
  });

  test('a revoked refresh token is refused, and the access tokens issued from it stop working', async () => {
    await call(sb, 'POST', '/api/x_sandbox/oauth/revoke_all');
    const t = await token(sb, PASSWORD);
    const revoke = await call(sb, 'POST', '/oauth_revoke_token.do', {
      auth: null,
      raw: new URLSearchParams({ token: t.body.refresh_token, ...CLIENT }).toString(),
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    });
    assert.equal(revoke.status, 200);
    const r = await token(sb, { grant_type: 'refresh_token', ...CLIENT, refresh_token: t.body.refresh_token });
    assert.equal(r.status, 401);
    assert.deepEqual(r.body, DENIED);
    assert.equal((await call(sb, 'GET', '/api/now/table/incident', { auth: bearer(t.body.access_token) })).status, 401);
    const again = await token(sb, PASSWORD);
    assert.notEqual(again.body.refresh_token, t.body.refresh_token);
  });

  test('admin revoke_all invalidates access and refresh tokens', async () => {
    const t = await token(sb, PASSWORD);
    const r = await call(sb, 'POST', '/api/x_sandbox/oauth/revoke_all');
    assert.ok(r.body.revoked >= 2);
    assert.equal((await call(sb, 'GET', '/api/now/table/incident', { auth: bearer(t.body.access_token) })).status, 401);
    assert.equal((await token(sb, { grant_type: 'refresh_token', ...CLIENT, refresh_token: t.body.refresh_token })).status, 401);
  });

  test('token lifetimes are configurable through the admin API', async () => {
    await call(sb, 'POST', '/api/x_sandbox/oauth/revoke_all');
    const put = await call(sb, 'PUT', '/api/x_sandbox/oauth', { body: { accessTokenLifetimeSec: 60 } });
    assert.equal(put.body.accessTokenLifetimeSec, 60);
    assert.equal(put.body.refreshTokenLifetimeSec, 8640000);
    try {
      assert.equal((await token(sb, PASSWORD)).body.expires_in, 60);
    } finally {
      await call(sb, 'PUT', '/api/x_sandbox/oauth', { body: { accessTokenLifetimeSec: 1800 } });
    }
    assert.equal((await call(sb, 'PUT', '/api/x_sandbox/oauth', { body: { nope: 1 } })).status, 400);
  });

  test('token grants are counted in the stats', async () => {
    await call(sb, 'POST', '/api/x_sandbox/stats/reset');
    const t = await token(sb, PASSWORD);
    await token(sb, { grant_type: 'refresh_token', ...CLIENT, refresh_token: t.body.refresh_token });
    const s = (await call(sb, 'GET', '/api/x_sandbox/stats')).body;
    assert.deepEqual(s.tokenGrants, { password: 1, refresh_token: 1 });
    assert.equal(s.byRoute['POST /oauth_token.do'], 2);
  });
});

describe('users, roles and OAuth clients made through the Table API', () => {
  test('a user with a password (input display value), an itil role and an oauth_entity can get a token and read incidents', async () => {
    const user = await call(sb, 'POST', '/api/now/table/sys_user?sysparm_input_display_value=true', {
      body: { user_name: 'sync.bot', first_name: 'Sync', last_name: 'Bot', user_password: 'S3cret!pw', web_service_access_only: 'true' },
    });
    assert.equal(user.status, 201);
    const role = await call(sb, 'POST', '/api/now/table/sys_user_has_role?sysparm_input_display_value=true', {
      body: { user: 'sync.bot', role: 'itil' },
    });
    assert.equal(role.status, 201);
    assert.equal(role.body.result.user.value, user.body.result.sys_id);
    const client = await call(sb, 'POST', '/api/now/table/oauth_entity', {
      body: { name: 'sync client', client_id: 'sync-client', client_secret: 'sync-secret', access_token_lifespan: '900' },
    });
    assert.equal(client.status, 201);
    assert.equal(client.body.result.client_secret, '', 'secrets are not returned');
    const t = await token(sb, { grant_type: 'password', client_id: 'sync-client', client_secret: 'sync-secret', username: 'sync.bot', password: 'S3cret!pw' });
    assert.equal(t.status, 200);
    assert.equal(t.body.expires_in, 900, 'per-client Access Token Lifespan');
    const api = await call(sb, 'GET', '/api/now/table/incident?sysparm_limit=1', { auth: bearer(t.body.access_token) });
    assert.equal(api.status, 200);
    const basicApi = await call(sb, 'GET', '/api/now/table/incident?sysparm_limit=1', {
      auth: 'Basic ' + Buffer.from('sync.bot:S3cret!pw').toString('base64'),
    });
    assert.equal(basicApi.status, 200);
  });

  test('a password set without sysparm_input_display_value is stored as-is and does not log in; inactive users are refused', async () => {
    await call(sb, 'POST', '/api/now/table/sys_user', { body: { user_name: 'raw.pw', user_password: 'plain' } });
    const r = await token(sb, { grant_type: 'password', ...CLIENT, username: 'raw.pw', password: 'plain' });
    assert.equal(r.status, 401);
    const u = await call(sb, 'GET', '/api/now/table/sys_user?sysparm_query=user_name=itsmc.integration');
    const id = u.body.result[0].sys_id;
    await call(sb, 'PATCH', `/api/now/table/sys_user/${id}`, { body: { active: 'false' } });
    try {
      assert.equal((await token(sb, PASSWORD)).status, 401);
      assert.equal((await call(sb, 'GET', '/api/now/table/incident', { auth: INTEGRATION })).status, 401);
    } finally {
      await call(sb, 'PATCH', `/api/now/table/sys_user/${id}`, { body: { active: 'true' } });
    }
    assert.equal((await token(sb, PASSWORD)).status, 200);
  });
});
