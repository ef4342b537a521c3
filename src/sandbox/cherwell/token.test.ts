import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { CherwellSandbox } from './index.ts';
import { ADMIN, bearer, call, CLIENT_ID, passwordForm, startSmall, token } from './test-support.ts';

const RFC1123 = /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d{2}:\d{2}:\d{2} GMT$/;

describe('Cherwell sandbox: token endpoint, licences and session expiry', () => {
  let sb: CherwellSandbox;
  before(async () => {
    sb = await startSmall({ volume: { incidents: 20, changeRequests: 5, configItems: 5 } });
  });
  after(() => sb.close());

  it('answers a password grant with exactly the documented members, .expires in RFC 1123 form', async () => {
    const r = await token(sb, passwordForm());
    assert.equal(r.status, 200);
    assert.deepEqual(
      Object.keys(r.body).sort(),
      ['.expires', '.issued', 'access_token', 'as:client_id', 'expires_in', 'refresh_token', 'token_type', 'username'].sort(),
    );
    assert.equal(r.body.token_type, 'bearer');
    assert.equal(r.body['as:client_id'], CLIENT_ID);
    assert.equal(r.body.username, 'itsmc.integration');
    assert.equal(r.body.expires_in, 1199);
    assert.match(r.body['.issued'], RFC1123);
    assert.match(r.body['.expires'], RFC1123);
    assert.equal(Date.parse(r.body['.expires']) - Date.parse(r.body['.issued']), 1200_000);
  });

  it('takes the client id from api_key when the form has none, and a DOMAIN\\user login', async () => {
    const form = passwordForm({ username: 'CONTOSO\\itsmc.integration' });
    delete (form as Record<string, string>).client_id;
    const r = await token(sb, form);
    assert.equal(r.status, 200, r.text);
  });

  it('refuses bad client ids, bad passwords, unknown grants and JSON bodies with error / error_description', async () => {
    const cases = [
      await token(sb, passwordForm({ client_id: 'nope' }), ''),
      await token(sb, passwordForm({ password: 'wrong' })),
      await token(sb, passwordForm({ grant_type: 'client_credentials' })),
      await call(sb, 'POST', '/token', { body: passwordForm() }),
      await token(sb, passwordForm(), '?auth_mode=Kerberos'),
    ];
    for (const r of cases) {
      assert.equal(r.status, 400, r.text);
      assert.equal(typeof r.body.error, 'string');
      assert.equal(typeof r.body.error_description, 'string');
      assert.equal(r.body.access_token, undefined);
    }
    assert.equal(cases[0].body.error, 'invalid_client_id');
    assert.equal(cases[1].body.error, 'invalid_grant');
  });

  it('refreshes within the same login: a new access token, the used refresh token revoked, no licence taken', async () => {
    await call(sb, 'POST', '/api/x_sandbox/licences/reset', { auth: ADMIN });
    const first = await token(sb, passwordForm());
    const before = (await call(sb, 'GET', '/api/x_sandbox/licences', { auth: ADMIN })).body;
    const r = await token(sb, { grant_type: 'refresh_token', client_id: CLIENT_ID, refresh_token: first.body.refresh_token });
    assert.equal(r.status, 200, r.text);
    assert.notEqual(r.body.access_token, first.body.access_token);
    assert.notEqual(r.body.refresh_token, first.body.refresh_token);
    const again = await token(sb, { grant_type: 'refresh_token', client_id: CLIENT_ID, refresh_token: first.body.refresh_token });
    assert.equal(again.status, 400);
    const afterRefresh = (await call(sb, 'GET', '/api/x_sandbox/licences', { auth: ADMIN })).body;
    assert.equal(afterRefresh.inUse, before.inUse);
    assert.equal(afterRefresh.logins, 1);
    assert.equal(afterRefresh.refreshes, 1);
  });

  it('answers 401 {"Message":…} without a token, with a garbage token and after the access token expired', async () => {
    const auth = await bearer(sb);
    const path = '/api/V1/getbusinessobjectsummary/busobname/Incident';
    assert.equal((await call(sb, 'GET', path, { auth })).status, 200);
    for (const a of [null, 'Bearer garbage']) {
      const r = await call(sb, 'GET', path, { auth: a });
      assert.equal(r.status, 401);
      assert.deepEqual(r.body, { Message: 'Authorization has been denied for this request.' });
    }
    await call(sb, 'POST', '/api/x_sandbox/expire_access_tokens', { auth: ADMIN });
    const expired = await call(sb, 'GET', path, { auth });
    assert.equal(expired.status, 401);
    assert.equal(typeof expired.body.Message, 'string');
  });

  it('counts one licence per login, refuses logins beyond the cap, and frees a licence on logout', async () => {
    await call(sb, 'POST', '/api/x_sandbox/end_sessions', { auth: ADMIN });
    await call(sb, 'PUT', '/api/x_sandbox/rules', { auth: ADMIN, body: { licenceCap: 2 } });
    try {
      const a = await bearer(sb);
      await bearer(sb);
      const third = await token(sb, passwordForm());
      assert.equal(third.status, 400);
      assert.equal(third.body.error, 'invalid_grant');
      assert.match(third.body.error_description, /LICENSE/);
      const lic = (await call(sb, 'GET', '/api/x_sandbox/licences', { auth: ADMIN })).body;
      assert.equal(lic.inUse, 2);
      assert.equal(lic.cap, 2);
      const out = await call(sb, 'DELETE', '/api/V1/logout', { auth: a });
      assert.equal(out.status, 204);
      assert.equal((await call(sb, 'GET', '/api/V1/getbusinessobjectsummary/busobname/Incident', { auth: a })).status, 401);
      assert.equal((await token(sb, passwordForm())).status, 200);
    } finally {
      await call(sb, 'PUT', '/api/x_sandbox/rules', { auth: ADMIN, body: { licenceCap: null } });
    }
  });

  it('uses the token lifespans of the REST API client record', async () => {
    const set = await call(sb, 'PUT', `/api/x_sandbox/clients/${CLIENT_ID}`, { auth: ADMIN, body: { accessMinutes: 5, refreshMinutes: 60 } });
    assert.equal(set.status, 200);
    try {
      const r = await token(sb, passwordForm());
      assert.equal(r.body.expires_in, 299);
      assert.equal(Date.parse(r.body['.expires']) - Date.parse(r.body['.issued']), 300_000);
    } finally {
      await call(sb, 'PUT', `/api/x_sandbox/clients/${CLIENT_ID}`, { auth: ADMIN, body: { accessMinutes: 20, refreshMinutes: 1440 } });
    }
  });

  it('keeps the admin API closed to API users', async () => {
    const r = await call(sb, 'GET', '/api/x_sandbox/licences', { auth: await bearer(sb) });
    assert.equal(r.status, 401);
  });
});
