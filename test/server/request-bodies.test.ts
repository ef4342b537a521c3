import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { api, startTestConnector, type TestConnector } from '../helpers/stores.ts';

interface RawAnswer {
  status?: number;
  body?: any;
  /** Set when the server closed the connection without an HTTP answer. */
  error?: string;
}

/**
 * Sends a body in chunks with Transfer-Encoding: chunked (no Content-Length), `pauseMs` between chunks,
 * like a simple client: it sends the whole body before it looks at the answer.
 */
function sendChunked(url: string, token: string, path: string, chunks: string[], pauseMs = 0): Promise<RawAnswer> {
  return new Promise((resolve) => {
    const req = http.request(`${url}${path}`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'transfer-encoding': 'chunked' },
    });
    let error: string | undefined;
    let answer: RawAnswer | undefined;
    let sent = false;
    req.on('response', (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (text += d));
      res.on('end', () => (answer = { status: res.statusCode, body: text ? JSON.parse(text) : undefined }));
    });
    req.on('error', (err: NodeJS.ErrnoException) => (error ??= err.code ?? err.message));
    req.on('close', () => resolve({ ...answer, error: error ?? (sent ? undefined : 'connection closed before the body was sent') }));
    (async () => {
      for (const chunk of chunks) {
        if (req.destroyed) return;
        if (!req.write(chunk)) await new Promise((r) => req.once('drain', r).once('close', r));
        if (pauseMs) await new Promise((r) => setTimeout(r, pauseMs));
      }
      if (!req.destroyed) req.end(() => (sent = true));
    })();
  });
}

describe('request bodies', () => {
  let c: TestConnector;
  const path = '/api/v1/workspaces/default/connections/scsm-1';
  before(async () => {
    c = await startTestConnector('sqlite', { ITSMC_BODY_LIMIT_BYTES: '4096', ITSMC_REQUEST_TIMEOUT_MS: '1500' });
  });
  after(async () => c.cleanup());

  it('answers a chunked body over the limit with 413, not a connection reset', async () => {
    const chunk = `"${'x'.repeat(16 * 1024 - 3)}",`;
    const chunks = ['{"partnerType":"SCSM","padding":[', ...Array.from({ length: 64 }, () => chunk), '"end"]}'];
    // Paced, so the server has answered long before the client is done sending.
    const res = await sendChunked(c.url, c.adminToken, path, chunks, 10);
    assert.equal(res.error, undefined, 'the server answered');
    assert.equal(res.status, 413);
    assert.equal(res.body.error.code, 'PayloadTooLarge');
    assert.match(res.body.error.message, /4096 bytes/);
  });

  it('cuts off a body that arrives too slowly', async () => {
    const chunks = Array.from({ length: 40 }, (_, i) => (i === 0 ? '{"partnerType":"SCSM"' : ' '));
    const res = await sendChunked(c.url, c.adminToken, path, chunks, 250);
    // 408 when the answer gets through, otherwise the connection is closed; the body is never processed.
    assert.ok(res.status === 408 || (res.status === undefined && res.error !== undefined), `cut off, got ${JSON.stringify(res)}`);
  });

  it('refuses a body with a __proto__ key and says so', async () => {
    const res = await api(c.url, c.adminToken, 'PUT', path, '{"partnerType":"SCSM","serverUrl":"https://scsm.example.com","__proto__":{"admin":true}}');
    assert.equal(res.status, 400);
    assert.equal(res.body.error.code, 'ForbiddenProperty');
    assert.match(res.body.error.message, /__proto__/);
  });

  it('refuses a constructor.prototype key and says so', async () => {
    const res = await api(c.url, c.adminToken, 'PUT', path, '{"partnerType":"SCSM","constructor":{"prototype":{"admin":true}}}');
    assert.equal(res.status, 400);
    assert.match(res.body.error.message, /constructor\.prototype/);
  });
});
