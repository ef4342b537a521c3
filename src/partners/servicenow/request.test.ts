import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { errorFor, parseSuccess, retryAfterMs, settingsFrom, type RawResponse } from './request.ts';

const settings = settingsFrom('https://dev1.service-now.com/', 1000);

function res(status: number, text: string, contentType = 'application/json', headers: Record<string, string> = {}): RawResponse {
  return { status, text, contentType, headers: new Headers({ 'content-type': contentType, ...headers }) };
}

describe('request helper error shaping', () => {
  it('reads Retry-After seconds, an HTTP date, or X-RateLimit-Reset epoch seconds', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    assert.equal(retryAfterMs(new Headers({ 'retry-after': '7' }), now), 7000);
    assert.equal(retryAfterMs(new Headers({ 'retry-after': 'Thu, 01 Jan 2026 00:00:30 GMT' }), now), 30_000);
    assert.equal(retryAfterMs(new Headers({ 'x-ratelimit-reset': String(now / 1000 + 60) }), now), 60_000);
    assert.equal(retryAfterMs(new Headers(), now), undefined);
  });

  it('turns the ServiceNow envelope into a PartnerError whose kind follows the status', () => {
    const body = (m: string, d: string | null) => JSON.stringify({ error: { message: m, detail: d }, status: 'failure' });
    const cases: [number, string][] = [
      [400, 'invalid'],
      [401, 'auth'],
      [403, 'forbidden'],
      [404, 'not-found'],
      [429, 'rate-limited'],
      [500, 'unavailable'],
      [503, 'unavailable'],
    ];
    for (const [status, kind] of cases) {
      const err = errorFor(settings, 'GET', '/api/now/table/incident', res(status, body('Something', null)));
      assert.equal(err.kind, kind, String(status));
      assert.equal(err.details.status, status);
      assert.match(err.message, /Something/);
    }
    const nf = errorFor(
      settings,
      'GET',
      '/api/now/table/incident/x',
      res(404, body('No Record found', "Record doesn't exist or ACL restricts the record retrieval")),
    );
    assert.match(nf.message, /No Record found: Record doesn't exist/);
  });

  it('says "hibernating" for an HTML 200 hibernation page and "not a ServiceNow instance" for other HTML', () => {
    const hib = errorFor(settings, 'GET', '/x', res(200, '<html><title>Instance Hibernating page</title></html>', 'text/html'));
    assert.equal(hib.kind, 'unavailable');
    assert.match(hib.message, /hibernating/);
    assert.throws(
      () => parseSuccess(settings, 'GET', '/x', res(200, '<!DOCTYPE html><html><body>Welcome to nginx</body></html>', 'text/html')),
      (e: any) => e.kind === 'protocol' && /not a ServiceNow instance/.test(e.message),
    );
  });

  it('treats a non-JSON 2xx body as a protocol error', () => {
    assert.throws(
      () => parseSuccess(settings, 'GET', '/x', res(200, 'hello', 'text/plain')),
      (e: any) => e.kind === 'protocol',
    );
  });
});
