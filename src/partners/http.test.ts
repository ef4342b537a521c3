import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import { after, before, describe, it } from 'node:test';
import { httpSettings, send } from './http.ts';
import { PartnerError } from './partner.ts';
import { connectGuard } from '../connections/server-url.ts';

/** A real local server answering every request with JSON and counting them. */
describe('partner HTTP: the SSRF guard on the address actually connected', () => {
  let server: http.Server;
  let port = 0;
  let requests = 0;
  before(async () => {
    server = http.createServer((_req, res) => {
      requests++;
      res.setHeader('content-type', 'application/json');
      res.end('{"ok":true}');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const settings = (host: string, allow: string[] = []) =>
    httpSettings({ product: 'Acme', serverUrl: `http://${host}:${port}`, timeoutMs: 5000, addressGuard: connectGuard(allow) });

  it('refuses a name that resolves to a loopback address, before any request reaches it', async () => {
    const before = requests;
    // The machine's own name passes the URL check by name but resolves to a loopback address (as a rebinding DNS answer would).
    for (const host of [os.hostname(), 'localhost']) {
      await assert.rejects(send(settings(host), { method: 'GET', path: '/x' }), (err) => {
        assert.ok(err instanceof PartnerError);
        assert.equal(err.kind, 'invalid');
        assert.match(err.message, /refused to connect to Acme: .* resolved to 127\.0\.0\.1/);
        return true;
      });
    }
    assert.equal(requests, before);
  });

  it('refuses address literals, IPv4-mapped IPv6 included', async () => {
    await assert.rejects(send(settings('127.0.0.1'), { method: 'GET', path: '/x' }), /refused to connect/);
    await assert.rejects(send(settings('[::ffff:7f00:1]'), { method: 'GET', path: '/x' }), /refused to connect/);
  });

  it('connects when the host is allow-listed', async () => {
    const res = await send(settings('localhost', [`localhost:${port}`]), { method: 'GET', path: '/x' });
    assert.equal(res.status, 200);
    assert.deepEqual(JSON.parse(res.text), { ok: true });
  });
});
