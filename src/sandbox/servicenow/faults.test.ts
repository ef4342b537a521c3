import assert from 'node:assert/strict';
import { after, afterEach, before, describe, test } from 'node:test';
import type { ServiceNowSandbox } from './index.ts';
import { call, INTEGRATION, startSmall, token } from './test-support.ts';

let sb: ServiceNowSandbox;
before(async () => {
  sb = await startSmall({ volume: { incidents: 30, changeRequests: 5, computers: 10 } });
});
after(async () => {
  await sb?.close();
});
afterEach(async () => {
  await call(sb, 'POST', '/api/x_sandbox/reset_faults');
});

const faults = (body: unknown) => call(sb, 'PUT', '/api/x_sandbox/faults', { body });
const incidents = () => call(sb, 'GET', '/api/now/table/incident?sysparm_limit=1');

describe('fault injection (admin API /api/x_sandbox/faults)', () => {
  test('GET shows the defaults; PUT merges and answers the new settings; unknown keys are a 400', async () => {
    const g = await call(sb, 'GET', '/api/x_sandbox/faults');
    assert.equal(g.status, 200);
    assert.deepEqual(g.body, {
      latencyMs: 0,
      errorRate: 0,
      errorStatus: 503,
      timeoutRate: 0,
      timeoutMs: 30000,
      outageUntil: null,
      hibernating: false,
      paths: null,
      failNext: 0,
      rateLimitNext: null,
    });
    const p = await faults({ latencyMs: 5 });
    assert.equal(p.body.latencyMs, 5);
    assert.equal(p.body.errorStatus, 503);
    assert.equal((await faults({ bogus: true })).status, 400);
    assert.equal((await faults({ errorRate: 2 })).status, 400);
  });

  test('the admin API needs the admin role: 401 without credentials, 403 for other users', async () => {
    assert.equal((await call(sb, 'GET', '/api/x_sandbox/faults', { auth: null })).status, 401);
    assert.equal((await call(sb, 'GET', '/api/x_sandbox/faults', { auth: INTEGRATION })).status, 403);
  });

  test('failNext fails exactly the next N matching requests with errorStatus and the error envelope', async () => {
    await faults({ failNext: 2, errorStatus: 502 });
    const a = await incidents();
    const b = await incidents();
    const c = await incidents();
    assert.equal(a.status, 502);
    assert.equal(a.body.status, 'failure');
    assert.ok(a.body.error.message);
    assert.equal(b.status, 502);
    assert.equal(c.status, 200);
    assert.equal((await call(sb, 'GET', '/api/x_sandbox/faults')).body.failNext, 0);
  });

  test('faults never hit the admin API; paths limits them to matching prefixes', async () => {
    await faults({ failNext: 5, paths: ['/api/now/table/change_request'] });
    assert.equal((await call(sb, 'GET', '/api/x_sandbox/stats')).status, 200);
    assert.equal((await incidents()).status, 200);
    assert.equal((await call(sb, 'GET', '/api/now/table/change_request?sysparm_limit=1')).status, 503);
  });

  test('hibernating: every API path, oauth_token.do included, answers HTTP 200 with an HTML page', async () => {
    await faults({ hibernating: true });
    for (const r of [
      await incidents(),
      await token(sb, { grant_type: 'password', client_id: 'itsmc-sandbox', client_secret: 'sandbox-secret', username: 'admin', password: 'admin' }),
      await call(sb, 'POST', '/api/global/em/jsonv2', { body: { records: [] } }),
    ]) {
      assert.equal(r.status, 200);
      assert.match(r.headers.get('content-type') ?? '', /^text\/html/);
      assert.match(r.text, /hibernating/i);
      assert.equal(r.body, undefined);
    }
    await faults({ hibernating: false });
    assert.equal((await incidents()).status, 200);
  });

  test('outageUntil answers 503 with the envelope until that time', async () => {
    await faults({ outageUntil: new Date(Date.now() + 60_000).toISOString() });
    const r = await incidents();
    assert.equal(r.status, 503);
    assert.equal(r.body.status, 'failure');
    await faults({ outageUntil: new Date(Date.now() - 1000).toISOString() });
    assert.equal((await incidents()).status, 200);
  });

  test('a timeout holds the request for timeoutMs and then drops the connection without an answer', async () => {
    await faults({ timeoutRate: 1, timeoutMs: 150 });
    await assert.rejects(fetch(`${sb.url}/api/now/table/incident`, { headers: { Authorization: INTEGRATION } }));
    await faults({ timeoutRate: 0 });
    assert.equal((await incidents()).status, 200);
  });

  test('errorRate draws from the seeded RNG (rate 1 always fails, 0 never)', async () => {
    await faults({ errorRate: 1, errorStatus: 500 });
    assert.equal((await incidents()).status, 500);
    await faults({ errorRate: 0 });
    assert.equal((await incidents()).status, 200);
  });

  test('rateLimitNext answers the next N requests with 429 + Retry-After', async () => {
    await faults({ rateLimitNext: { count: 2, retryAfterSec: 7 } });
    const a = await incidents();
    assert.equal(a.status, 429);
    assert.equal(a.headers.get('retry-after'), '7');
    assert.equal(a.body.status, 'failure');
    assert.equal((await incidents()).status, 429);
    assert.equal((await incidents()).status, 200);
  });

  test('latency still answers normally', async () => {
    await faults({ latencyMs: 20 });
    assert.equal((await incidents()).status, 200);
  });
});

describe('inbound rate limit rules (/api/x_sandbox/rate_limits)', () => {
  test('a matching per-user rule adds X-RateLimit-Limit/Reset/Rule, then 429 + Retry-After when exceeded; other users get no headers', async () => {
    const put = await call(sb, 'PUT', '/api/x_sandbox/rate_limits', { body: { rules: [{ user: 'itsmc.integration', perHour: 2 }] } });
    assert.equal(put.status, 200);
    assert.equal(put.body.rules.length, 1);
    const nowSec = Math.floor(Date.now() / 1000);
    for (let i = 0; i < 2; i++) {
      const r = await call(sb, 'GET', '/api/now/table/incident?sysparm_limit=1', { auth: INTEGRATION });
      assert.equal(r.status, 200);
      assert.equal(r.headers.get('x-ratelimit-limit'), '2');
      const reset = Number(r.headers.get('x-ratelimit-reset'));
      assert.ok(reset > nowSec && reset <= nowSec + 3601);
      assert.match(r.headers.get('x-ratelimit-rule') ?? '', /^[0-9a-f]{32}$/);
      assert.equal(r.headers.get('x-ratelimit-remaining'), null, 'ServiceNow sends no X-RateLimit-Remaining');
    }
    const over = await call(sb, 'GET', '/api/now/table/incident?sysparm_limit=1', { auth: INTEGRATION });
    assert.equal(over.status, 429);
    const retry = Number(over.headers.get('retry-after'));
    assert.ok(retry >= 1 && retry <= 3600);
    assert.equal(over.headers.get('x-ratelimit-limit'), '2');
    assert.equal(over.body.status, 'failure');
    assert.equal(over.body.error.message, 'Rate limit exceeded');
    const admin = await incidents();
    assert.equal(admin.status, 200);
    assert.equal(admin.headers.get('x-ratelimit-limit'), null);
  });

  test('rules.rateLimitRemainingHeader adds X-RateLimit-Remaining; role rules apply to users with that role', async () => {
    await call(sb, 'PUT', '/api/x_sandbox/rules', { body: { rateLimitRemainingHeader: true } });
    try {
      await call(sb, 'PUT', '/api/x_sandbox/rate_limits', { body: { rules: [{ role: 'itil', perHour: 5, path: '/api/now/table/incident' }] } });
      const r = await call(sb, 'GET', '/api/now/table/incident?sysparm_limit=1', { auth: INTEGRATION });
      assert.equal(r.headers.get('x-ratelimit-remaining'), '4');
      const other = await call(sb, 'GET', '/api/now/table/change_request?sysparm_limit=1', { auth: INTEGRATION });
      assert.equal(other.headers.get('x-ratelimit-limit'), null);
    } finally {
      await call(sb, 'PUT', '/api/x_sandbox/rules', { body: { rateLimitRemainingHeader: false } });
    }
  });
});

describe('stats and rules', () => {
  test('stats count partner calls by route and reset on demand', async () => {
    await call(sb, 'POST', '/api/x_sandbox/stats/reset');
    await incidents();
    await incidents();
    const one = (await call(sb, 'GET', '/api/now/table/incident?sysparm_limit=1')).body.result[0];
    await call(sb, 'GET', `/api/now/table/incident/${one.sys_id}`);
    await call(sb, 'POST', '/api/now/table/incident', { body: { short_description: 's' } });
    const s = (await call(sb, 'GET', '/api/x_sandbox/stats')).body;
    assert.equal(s.requests, 5);
    assert.deepEqual(s.byRoute, {
      'GET /api/now/table/incident': 3,
      'GET /api/now/table/incident/{sys_id}': 1,
      'POST /api/now/table/incident': 1,
    });
    assert.deepEqual(s.tokenGrants, { password: 0, refresh_token: 0 });
  });

  test('GET /api/x_sandbox/rules lists every switch; PUT rejects unknown or mistyped keys', async () => {
    const r = (await call(sb, 'GET', '/api/x_sandbox/rules')).body;
    assert.equal(r.closeCodeRequiredOnResolve, true);
    assert.equal(r.maxLimit, 10000);
    assert.equal(r.defaultLimit, 10000);
    assert.equal((await call(sb, 'PUT', '/api/x_sandbox/rules', { body: { maxLimit: 'x' } })).status, 400);
    assert.equal((await call(sb, 'PUT', '/api/x_sandbox/rules', { body: { what: 1 } })).status, 400);
  });

  test('rules.linkPrevQuirk emits rel="prev" with a negative offset on the first page', async () => {
    await call(sb, 'PUT', '/api/x_sandbox/rules', { body: { linkPrevQuirk: true } });
    try {
      const r = await call(sb, 'GET', '/api/now/table/incident?sysparm_limit=1');
      assert.match(r.headers.get('link') ?? '', /sysparm_offset=-1>;rel="prev"/);
    } finally {
      await call(sb, 'PUT', '/api/x_sandbox/rules', { body: { linkPrevQuirk: false } });
    }
  });
});
