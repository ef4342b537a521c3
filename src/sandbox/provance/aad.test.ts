import assert from 'node:assert/strict';
import { createPublicKey, verify } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import type { ProvanceSandbox } from './index.ts';
import { SANDBOX_CREDENTIALS, TENANT } from './index.ts';
import { accessToken, adminCall, api, passwordForm, startSmall, tokenRequest } from './test-support.ts';

const decode = (jwt: string): Record<string, any> => JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString('utf8'));

describe('Provance sandbox: Azure AD-style token endpoint', () => {
  let sb: ProvanceSandbox;
  before(async () => {
    sb = await startSmall({ volume: { incidents: 5, changeRequests: 2, cis: 3 } });
  });
  after(() => sb.close());

  test('a v2 password grant for the public client returns Bearer JWTs, numeric lifetimes, a refresh token and client_info', async () => {
    const r = await tokenRequest(sb, { ...passwordForm(sb), client_info: '1' });
    assert.equal(r.status, 200);
    assert.equal(r.body.token_type, 'Bearer');
    assert.equal(typeof r.body.expires_in, 'number');
    assert.ok(r.body.refresh_token);
    assert.ok(r.body.id_token);
    assert.equal(r.headers.get('cache-control'), 'no-store, no-cache');
    const claims = decode(r.body.access_token);
    assert.equal(claims.aud, `${sb.url}/`);
    assert.equal(claims.tid, TENANT.id);
    assert.equal(claims.upn, SANDBOX_CREDENTIALS.integration.username);
    assert.equal(claims.appid, SANDBOX_CREDENTIALS.clientId);
    assert.equal(claims.scp, 'user_impersonation');
    assert.deepEqual(JSON.parse(Buffer.from(r.body.client_info, 'base64url').toString()).utid, TENANT.id);
  });

  test('a v1 password grant takes resource= and answers lifetimes as strings, as Azure AD v1 does', async () => {
    const { scope: _scope, ...form } = passwordForm(sb);
    const r = await tokenRequest(sb, { ...form, resource: sb.url }, 'v1');
    assert.equal(r.status, 200);
    assert.equal(typeof r.body.expires_in, 'string');
    assert.match(r.body.expires_on, /^\d+$/);
    assert.equal(r.body.resource, sb.url);
  });

  test('access tokens are RS256-signed by a key published in the discovery document', async () => {
    const conf: any = await (await fetch(`${sb.url}/sandbox/v2.0/.well-known/openid-configuration`)).json();
    assert.equal(conf.token_endpoint, `${sb.url}/${TENANT.id}/oauth2/v2.0/token`);
    const jwks: any = await (await fetch(conf.jwks_uri)).json();
    const token = await accessToken(sb);
    const [h, p, s] = token.split('.');
    const header = JSON.parse(Buffer.from(h, 'base64url').toString());
    assert.equal(header.alg, 'RS256');
    const jwk = jwks.keys.find((k: { kid: string }) => k.kid === header.kid);
    const key = createPublicKey({ key: jwk, format: 'jwk' });
    assert.ok(verify('sha256', Buffer.from(`${h}.${p}`), key, Buffer.from(s, 'base64url')));
  });

  test('the refresh grant issues a new access token that the Web API accepts', async () => {
    const first = await tokenRequest(sb, passwordForm(sb));
    const r = await tokenRequest(sb, {
      grant_type: 'refresh_token',
      client_id: SANDBOX_CREDENTIALS.clientId,
      refresh_token: first.body.refresh_token,
      scope: `${sb.url}/.default offline_access`,
    });
    assert.equal(r.status, 200);
    const who = await api(sb, r.body.access_token, 'GET', 'WhoAmI');
    assert.equal(who.status, 200);
  });

  test('a wrong password is AADSTS50126 invalid_grant with trace and correlation ids', async () => {
    const r = await tokenRequest(sb, passwordForm(sb, { password: 'wrong' }));
    assert.equal(r.status, 400);
    assert.equal(r.body.error, 'invalid_grant');
    assert.deepEqual(r.body.error_codes, [50126]);
    assert.match(r.body.error_description, /^AADSTS50126: .*Trace ID: .*Correlation ID: /);
    assert.ok(r.body.trace_id && r.body.correlation_id && r.body.timestamp);
    await adminCall(sb, 'PUT', `aad/users/${SANDBOX_CREDENTIALS.integration.username}`, { unlock: true });
  });

  test('each failure cause has its own AADSTS code', async () => {
    const cases: [Record<string, string>, number, string, 'sandbox' | string][] = [
      [{ client_id: 'not-registered' }, 700016, 'unauthorized_client', 'sandbox'],
      [{ client_id: SANDBOX_CREDENTIALS.confidentialClientId }, 7000218, 'invalid_client', 'sandbox'],
      [{ username: 'nobody@sandbox.example' }, 50034, 'invalid_grant', 'sandbox'],
      [{ scope: 'https://other.example/.default' }, 500011, 'invalid_resource', 'sandbox'],
      [{ grant_type: 'client_credentials' }, 70003, 'unsupported_grant_type', 'sandbox'],
      [{}, 90002, 'invalid_request', 'no-such-tenant'],
    ];
    for (const [over, code, error, tenant] of cases) {
      const r = await tokenRequest(sb, passwordForm(sb, over), 'v2', tenant);
      assert.deepEqual([r.body.error, r.body.error_codes], [error, [code]], JSON.stringify(over));
    }
  });

  test('disabled, expired-password and MFA-required users are refused with AADSTS50057, 50055 and 50076', async () => {
    const user = SANDBOX_CREDENTIALS.integration.username;
    for (const [flag, code] of [
      ['enabled', 50057],
      ['passwordExpired', 50055],
      ['mfaRequired', 50076],
    ] as const) {
      await adminCall(sb, 'PUT', `aad/users/${user}`, { [flag]: flag === 'enabled' ? false : true });
      const r = await tokenRequest(sb, passwordForm(sb));
      assert.deepEqual(r.body.error_codes, [code], flag);
      await adminCall(sb, 'PUT', `aad/users/${user}`, { [flag]: flag === 'enabled' });
    }
  });

  test('ten wrong passwords lock the account (AADSTS50053) even for the right password', async () => {
    const user = SANDBOX_CREDENTIALS.integration.username;
    for (let i = 0; i < 10; i++) await tokenRequest(sb, passwordForm(sb, { password: 'wrong' }));
    const r = await tokenRequest(sb, passwordForm(sb));
    assert.deepEqual(r.body.error_codes, [50053]);
    await adminCall(sb, 'PUT', `aad/users/${user}`, { unlock: true });
    assert.equal((await tokenRequest(sb, passwordForm(sb))).status, 200);
  });

  test('revoked refresh tokens answer AADSTS50173; expired access tokens get 401 from the Web API', async () => {
    const t = await tokenRequest(sb, passwordForm(sb));
    await adminCall(sb, 'POST', 'aad/expire-access-tokens');
    const r401 = await api(sb, t.body.access_token, 'GET', 'WhoAmI');
    assert.equal(r401.status, 401);
    assert.match(r401.headers.get('www-authenticate') ?? '', /^Bearer authorization_uri=.*\/oauth2\/authorize, resource_id=/);
    await adminCall(sb, 'POST', 'aad/revoke-refresh-tokens');
    const r = await tokenRequest(sb, {
      grant_type: 'refresh_token',
      client_id: SANDBOX_CREDENTIALS.clientId,
      refresh_token: t.body.refresh_token,
      scope: `${sb.url}/.default`,
    });
    assert.deepEqual([r.status, r.body.error_codes], [400, [50173]]);
  });

  test('a token issued by another instance (other key and audience) is refused by the Web API', async () => {
    const other = await startSmall({ volume: { incidents: 1, changeRequests: 1, cis: 1 } });
    try {
      const foreign = await accessToken(other);
      assert.equal((await api(sb, foreign, 'GET', 'WhoAmI')).status, 401);
    } finally {
      await other.close();
    }
  });
});
