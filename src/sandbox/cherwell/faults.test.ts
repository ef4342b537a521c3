import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import type { CherwellSandbox } from './index.ts';
import { ADMIN, bearer, call, startSmall } from './test-support.ts';

describe('Cherwell sandbox: fault injection', () => {
  let sb: CherwellSandbox;
  let auth: string;
  const summary = () => call(sb, 'GET', '/api/V1/getbusinessobjectsummary/busobname/Incident', { auth });
  before(async () => {
    sb = await startSmall({ volume: { incidents: 10, changeRequests: 2, configItems: 2 } });
    auth = await bearer(sb);
  });
  beforeEach(() => call(sb, 'POST', '/api/x_sandbox/reset_faults', { auth: ADMIN }));
  after(() => sb.close());

  it('fails exactly the next N requests with the configured status', async () => {
    await call(sb, 'PUT', '/api/x_sandbox/faults', { auth: ADMIN, body: { failNext: 2, errorStatus: 502 } });
    assert.equal((await summary()).status, 502);
    assert.equal((await summary()).status, 502);
    assert.equal((await summary()).status, 200);
  });

  it('answers 429 with Retry-After when asked to', async () => {
    await call(sb, 'PUT', '/api/x_sandbox/faults', { auth: ADMIN, body: { rateLimitNext: { count: 1, retryAfterSec: 7 } } });
    const r = await summary();
    assert.equal(r.status, 429);
    assert.equal(r.headers.get('retry-after'), '7');
  });

  it('serves an HTML maintenance page with HTTP 200 while hibernating, and 503 during an outage', async () => {
    await call(sb, 'PUT', '/api/x_sandbox/faults', { auth: ADMIN, body: { hibernating: true } });
    const page = await summary();
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-type') ?? '', /text\/html/);
    await call(sb, 'PUT', '/api/x_sandbox/faults', { auth: ADMIN, body: { hibernating: false, outageUntil: new Date(Date.now() + 60_000).toISOString() } });
    assert.equal((await summary()).status, 503);
  });

  it('limits faults to the given path prefixes and rejects unknown settings', async () => {
    await call(sb, 'PUT', '/api/x_sandbox/faults', { auth: ADMIN, body: { failNext: 1, paths: ['/CherwellAPI/api/V1/getsearchresults'] } });
    assert.equal((await summary()).status, 200);
    const bad = await call(sb, 'PUT', '/api/x_sandbox/faults', { auth: ADMIN, body: { failNxt: 1 } });
    assert.equal(bad.status, 400);
    assert.match(bad.body.Message, /failNxt/);
  });
});
