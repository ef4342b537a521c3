import assert from 'node:assert/strict';
import { after, afterEach, before, describe, test } from 'node:test';
import type { ScsmSandbox } from './index.ts';
import { SEEDED_CREDENTIALS } from './index.ts';
import { ADMIN, call, INCIDENT, startSmall, token, tokenRequest } from './test-support.ts';

let sb: ScsmSandbox;
let tok: string;
before(async () => {
  sb = await startSmall({ volume: { incidents: 20, changeRequests: 4, computers: 5 } });
  tok = await token(sb);
});
after(() => sb.close());
afterEach(async () => {
  await call(sb, 'POST', '/api/x_sandbox/reset_faults', { auth: ADMIN });
});

const faults = (body: unknown) => call(sb, 'PUT', '/api/x_sandbox/faults', { auth: ADMIN, body });
const relay = (connected: boolean) => call(sb, 'PUT', '/api/x_sandbox/relay', { auth: ADMIN, body: { connected } });
const list = (t = tok) => call(sb, 'POST', '/api/workitems', { token: t, body: { className: INCIDENT, pageSize: 1 } });

describe('SCSM-specific faults', () => {
  test('relay down: /api/status reports SM disconnected and SDK routes answer 500 with the SDK exception', async () => {
    assert.equal((await relay(false)).status, 200);
    const status = await call(sb, 'GET', '/api/status', { token: tok });
    assert.equal(status.status, 200);
    assert.equal(status.body.Status, false);
    assert.equal(status.body.SM.Connected, false);
    assert.match(status.body.SM.Message, /Data Access service/);
    const r = await list();
    assert.equal(r.status, 500);
    assert.equal(r.body.Message, 'An error has occurred.');
    assert.equal(r.body.ExceptionType, 'Microsoft.EnterpriseManagement.Common.ServiceNotRunningException');
    await relay(true);
    assert.equal((await list()).status, 200);
  });

  test('token expiry: tokens issued before the switch get 401, a fresh token works', async () => {
    const old = await token(sb);
    assert.equal((await list(old)).status, 200);
    assert.equal((await call(sb, 'POST', '/api/x_sandbox/aad/expire_tokens', { auth: ADMIN })).status, 200);
    const r = await list(old);
    assert.equal(r.status, 401);
    assert.ok(r.headers.get('www-authenticate'));
    assert.equal((await list(await token(sb))).status, 200);
    tok = await token(sb);
  });

  test('POST /api/configtest walks token, host, AD whitelist and SM SDK, stopping at the first failure with a reason', async () => {
    const body = { clientId: SEEDED_CREDENTIALS.clientId, clientSecret: SEEDED_CREDENTIALS.clientSecret, hostURL: sb.url };
    const ok = await call(sb, 'POST', '/api/configtest', { body });
    assert.equal(ok.status, 200);
    assert.deepEqual(
      ok.body.result.map((s: any) => s.status),
      [true, true, true, true],
    );
    assert.equal(ok.body.result[3].message, 'CONNECTION TO ONPREM SM SDK SERVICE SUCCESSFULL');
    assert.deepEqual(ok.body.ErrorLogs, []);
    const badSecret = await call(sb, 'POST', '/api/configtest', { body: { ...body, clientSecret: 'x' } });
    assert.deepEqual(badSecret.body.result, [{ message: 'UNABLE TO GENERATE TOKEN', status: false }]);
    assert.match(badSecret.body.reason, /AADSTS7000215/);
    const other = await call(sb, 'POST', '/api/configtest', { body: { ...body, ...SEEDED_CREDENTIALS.other } });
    assert.equal(other.body.result.at(-1).message, 'AD AUTHENTICATION FAILED');
    await relay(false);
    const down = await call(sb, 'POST', '/api/configtest', { body });
    assert.equal(down.body.result.at(-1).status, false);
    assert.match(down.body.reason, /ida:ServerName/);
    const missing = await call(sb, 'POST', '/api/configtest', { body: { clientId: 'x' } });
    assert.equal(missing.status, 400);
    assert.deepEqual(Object.keys(missing.body.ModelState).sort(), ['request.clientSecret', 'request.hostURL']);
  });
});

describe('generic faults', () => {
  test('outage: the web app and the token endpoint answer 503 until outageUntil', async () => {
    await faults({ outageUntil: new Date(Date.now() + 60_000).toISOString() });
    const r = await list();
    assert.equal(r.status, 503);
    assert.match(r.headers.get('content-type') ?? '', /text\/html/);
    const t = await tokenRequest(sb, { grant_type: 'client_credentials', client_id: 'a', client_secret: 'b', resource: sb.url });
    assert.equal(t.status, 503);
    assert.equal((await call(sb, 'GET', '/api/x_sandbox/faults', { auth: ADMIN })).status, 200, 'the admin API is never faulted');
  });

  test('failNext answers the next N requests with errorStatus and the exception body; rateLimitNext answers 429 with Retry-After', async () => {
    await faults({ failNext: 2, errorStatus: 502 });
    assert.equal((await list()).status, 502);
    const second = await list();
    assert.equal(second.status, 502);
    assert.equal(second.body.Message, 'An error has occurred.');
    assert.equal((await list()).status, 200);
    await faults({ rateLimitNext: { count: 1, retryAfterSec: 7 } });
    const limited = await list();
    assert.equal(limited.status, 429);
    assert.equal(limited.headers.get('retry-after'), '7');
    assert.equal((await list()).status, 200);
  });

  test('timeouts hold the request and drop the connection', async () => {
    await faults({ timeoutRate: 1, timeoutMs: 100 });
    await assert.rejects(list());
  });

  test('the admin API needs the admin credentials and names rejected keys', async () => {
    assert.equal((await call(sb, 'PUT', '/api/x_sandbox/faults', { body: { failNext: 1 } })).status, 401);
    const bad = await faults({ nonsense: 1, errorRate: 2 });
    assert.equal(bad.status, 400);
    assert.match(bad.body.Message, /nonsense, errorRate/);
    const stats = await call(sb, 'GET', '/api/x_sandbox/stats', { auth: ADMIN });
    assert.ok(stats.body.byRoute['POST /api/workitems'] > 0);
    assert.equal((await relay(false)).status, 200);
    await call(sb, 'POST', '/api/x_sandbox/reset_faults', { auth: ADMIN });
    assert.deepEqual((await call(sb, 'GET', '/api/x_sandbox/relay', { auth: ADMIN })).body, { connected: true }, 'reset_faults reconnects the relay');
  });

  test('rate-limit rules count per calling application and answer 429 with Retry-After and X-RateLimit headers', async () => {
    const set = await call(sb, 'PUT', '/api/x_sandbox/rate_limits', {
      auth: ADMIN,
      body: { rules: [{ perHour: 2, path: '/api/workitems', window: 'rolling' }] },
    });
    assert.equal(set.status, 200);
    assert.equal((await list()).status, 200);
    assert.equal((await list()).status, 200);
    const third = await list();
    assert.equal(third.status, 429);
    assert.ok(Number(third.headers.get('retry-after')) > 0);
    assert.equal(third.headers.get('x-ratelimit-limit'), '2');
    assert.equal((await call(sb, 'GET', '/api/status', { token: tok })).status, 200, 'other paths are not limited');
  });
});
