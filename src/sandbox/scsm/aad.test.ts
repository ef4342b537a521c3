import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { request } from 'node:https';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { ScsmSandbox } from './index.ts';
import { SEEDED_CREDENTIALS, startScsmSandbox, TENANT_ID } from './index.ts';
import { ADMIN, call, startSmall, token, tokenRequest } from './test-support.ts';
import { selfSignedCertificate, type TestCertificate } from '../common/test-support.ts';

const decode = (jwt: string): any => JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString('utf8'));
const CC = { grant_type: 'client_credentials', client_id: SEEDED_CREDENTIALS.clientId, client_secret: SEEDED_CREDENTIALS.clientSecret };

let sb: ScsmSandbox;
before(async () => {
  sb = await startSmall({ volume: { incidents: 10, changeRequests: 2, computers: 3 } });
});
after(() => sb.close());

describe('Azure AD token endpoints', () => {
  test('v1 /{tenant}/oauth2/token issues a v1 JWT for the web app resource with appid, aud, exp and string lifetimes', async () => {
    const r = await tokenRequest(sb, { ...CC, resource: sb.url });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(Object.keys(r.body), ['token_type', 'expires_in', 'ext_expires_in', 'expires_on', 'not_before', 'resource', 'access_token']);
    assert.equal(r.body.token_type, 'Bearer');
    assert.equal(r.body.expires_in, '3599');
    const claims = decode(r.body.access_token);
    assert.equal(claims.appid, SEEDED_CREDENTIALS.clientId);
    assert.equal(claims.aud, sb.url);
    assert.equal(claims.tid, TENANT_ID);
    assert.equal(claims.ver, '1.0');
    assert.equal(claims.exp - claims.iat, 3599);
    assert.equal(JSON.parse(Buffer.from(r.body.access_token.split('.')[0], 'base64url').toString()).alg, 'RS256');
  });

  test('v2 /{tenant}/oauth2/v2.0/token takes scope=<resource>/.default and answers numeric lifetimes; v2 tokens carry azp', async () => {
    const r = await tokenRequest(sb, { ...CC, scope: `${sb.url}/.default` }, 2);
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(Object.keys(r.body), ['token_type', 'expires_in', 'ext_expires_in', 'access_token']);
    assert.equal(r.body.expires_in, 3599);
    assert.equal(decode(r.body.access_token).ver, '1.0', 'the web app registration accepts v1 tokens by default');
    await call(sb, 'PUT', '/api/x_sandbox/settings', { auth: ADMIN, body: { accessTokenVersion: 2 } });
    try {
      const v2 = await tokenRequest(sb, { ...CC, scope: `${sb.url}/.default` }, 2);
      const claims = decode(v2.body.access_token);
      assert.equal(claims.azp, SEEDED_CREDENTIALS.clientId);
      assert.equal(claims.appid, undefined);
      assert.equal(claims.iss, `${sb.url}/${TENANT_ID}/v2.0`);
      const status = await call(sb, 'GET', '/api/status', { token: v2.body.access_token });
      assert.equal(status.status, 200);
    } finally {
      await call(sb, 'POST', '/api/x_sandbox/settings/reset', { auth: ADMIN });
    }
  });

  test('refusals use the AADSTS error shape: bad secret, unknown client, unknown tenant, bad scope, unknown resource, wrong grant', async () => {
    const cases: [Record<string, string>, 1 | 2, string, number, string, number][] = [
      [{ ...CC, client_secret: 'wrong', resource: sb.url }, 1, 'sandbox', 401, 'invalid_client', 7000215],
      [{ ...CC, client_id: 'nobody', resource: sb.url }, 1, 'sandbox', 400, 'unauthorized_client', 700016],
      [{ ...CC, resource: sb.url }, 1, 'elsewhere', 400, 'invalid_request', 90002],
      [{ ...CC, scope: sb.url }, 2, 'sandbox', 400, 'invalid_scope', 1002012],
      [{ ...CC, resource: 'https://graph.example.com' }, 1, 'sandbox', 400, 'invalid_resource', 500011],
      [{ ...CC, grant_type: 'password', resource: sb.url }, 1, 'sandbox', 400, 'unsupported_grant_type', 70003],
    ];
    for (const [form, version, tenant, status, error, code] of cases) {
      const r = await tokenRequest(sb, form, version, tenant);
      assert.equal(r.status, status, `${error}: ${r.text}`);
      assert.equal(r.body.error, error);
      assert.deepEqual(r.body.error_codes, [code]);
      assert.match(r.body.error_description, new RegExp(`^AADSTS${code}: `));
    }
    assert.ok(!JSON.stringify((await tokenRequest(sb, { ...CC, client_secret: 'wrong', resource: sb.url })).body).includes('wrong'));
  });

  test('the OpenID discovery documents and signing keys are served for the tenant', async () => {
    const v2 = await call(sb, 'GET', '/sandbox/v2.0/.well-known/openid-configuration');
    assert.equal(v2.status, 200);
    assert.equal(v2.body.token_endpoint, `${sb.url}/sandbox/oauth2/v2.0/token`);
    assert.equal(v2.body.issuer, `${sb.url}/${TENANT_ID}/v2.0`);
    const v1 = await call(sb, 'GET', '/sandbox/.well-known/openid-configuration');
    assert.equal(v1.body.token_endpoint, `${sb.url}/sandbox/oauth2/token`);
    const keys = await call(sb, 'GET', new URL(v2.body.jwks_uri).pathname);
    assert.equal(keys.body.keys[0].kty, 'RSA');
    assert.equal(keys.body.keys[0].kid, JSON.parse(Buffer.from((await token(sb)).split('.')[0], 'base64url').toString()).kid);
  });
});

describe('the web app checks the bearer token', () => {
  test('no token or a forged one: 401 "Authorization has been denied" with WWW-Authenticate authorization_uri and resource_id', async () => {
    for (const auth of [undefined, 'Bearer abc.def.ghi']) {
      const r = await call(sb, 'GET', '/api/status', { auth });
      assert.equal(r.status, 401);
      assert.deepEqual(r.body, { Message: 'Authorization has been denied for this request.' });
      assert.equal(r.headers.get('www-authenticate'), `Bearer authorization_uri="${sb.url}/sandbox/oauth2/authorize", resource_id="${sb.url}"`);
    }
    const tok = await token(sb);
    const [h, p] = tok.split('.');
    const tampered = `${h}.${Buffer.from(JSON.stringify({ ...decode(tok), appid: 'x' })).toString('base64url')}.${tok.split('.')[2]}`;
    assert.equal((await call(sb, 'GET', '/api/status', { token: tampered })).status, 401);
    assert.equal((await call(sb, 'GET', '/api/status', { token: `${h}.${p}.${tok.split('.')[2]}` })).status, 200);
  });

  test("a valid token of an application that is not whitelisted is refused with the filter's message", async () => {
    const other = await token(sb, SEEDED_CREDENTIALS.other);
    const r = await call(sb, 'POST', '/api/workitems', { token: other, body: { className: 'System.WorkItem.Incident' } });
    assert.equal(r.status, 401);
    assert.deepEqual(r.body, { Message: 'Unauthorized request, client application ID is not whitelisted' });
  });

  test('a token for another audience is refused', async () => {
    await call(sb, 'PUT', '/api/x_sandbox/settings', { auth: ADMIN, body: { audience: 'https://scsm-webapp.azurewebsites.net' } });
    try {
      const r = await tokenRequest(sb, { ...CC, resource: 'https://scsm-webapp.azurewebsites.net' });
      assert.equal(r.status, 200);
      await call(sb, 'PUT', '/api/x_sandbox/settings', { auth: ADMIN, body: { audience: '' } });
      assert.equal((await call(sb, 'GET', '/api/status', { token: r.body.access_token })).status, 401);
    } finally {
      await call(sb, 'POST', '/api/x_sandbox/settings/reset', { auth: ADMIN });
    }
  });
});

describe('a standard Azure AD client (MSAL for Node) against the sandbox', () => {
  let tlsCert: TestCertificate;
  let tls: ScsmSandbox;
  let cert: string;
  const probe = fileURLToPath(new URL('./fixtures/msal-client.ts', import.meta.url));

  before(async () => {
    tlsCert = selfSignedCertificate('scsm-msal-');
    cert = tlsCert.cert;
    tls = await startScsmSandbox({ tls: tlsCert, volume: { incidents: 5, changeRequests: 1, computers: 2 } });
  });
  after(async () => {
    await tls.close();
    tlsCert.remove();
  });

  const runMsal = (clientId: string, secret: string): Promise<any> =>
    new Promise((resolve, reject) => {
      execFile(
        process.execPath,
        ['--import', 'tsx', probe, `${tls.url}/sandbox`, clientId, secret, `${tls.url}/.default`],
        { env: { ...process.env, NODE_EXTRA_CA_CERTS: tlsCert.certFile } },
        (err, stdout, stderr) => (err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(JSON.parse(stdout))),
      );
    });

  const httpsGet = (path: string, bearer: string): Promise<{ status: number; body: any }> =>
    new Promise((resolve, reject) => {
      const req = request(`${tls.url}${path}`, { ca: cert, headers: { Authorization: `Bearer ${bearer}` } }, (r) => {
        let body = '';
        r.on('data', (c) => (body += c));
        r.on('end', () => resolve({ status: r.statusCode ?? 0, body: JSON.parse(body) }));
      });
      req.on('error', reject);
      req.end();
    });

  test('ConfidentialClientApplication gets a token by client credentials, caches it, and the token works on the web app', async () => {
    const r = await runMsal(SEEDED_CREDENTIALS.clientId, SEEDED_CREDENTIALS.clientSecret);
    assert.ok(r.accessToken, JSON.stringify(r));
    assert.equal(r.tokenType, 'Bearer');
    assert.equal(r.fromCache, true);
    assert.equal(r.sameToken, true);
    assert.equal(decode(r.accessToken).appid, SEEDED_CREDENTIALS.clientId);
    const status = await httpsGet('/api/status', r.accessToken);
    assert.equal(status.status, 200);
    assert.equal(status.body.Status, true);
    const props = await httpsGet('/api/properties?targetClass=System.WorkItem.Incident', r.accessToken);
    assert.equal(props.status, 200);
  });

  test("MSAL surfaces the sandbox's refusal of a wrong secret as invalid_client with the AADSTS code", async () => {
    const r = await runMsal(SEEDED_CREDENTIALS.clientId, 'not-the-secret');
    assert.equal(r.errorCode, 'invalid_client');
    assert.match(r.errorMessage, /AADSTS7000215/);
  });
});
