import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/server/app.ts';
import { ConnectionService } from '../../src/connections/service.ts';
import { SecretBox } from '../../src/security/envelope.ts';
import { api, openTestStore, startTestConnector, type TestConnector, type TestStore } from '../helpers/stores.ts';

describe('first contact: API description, / and probe logging', () => {
  let c: TestConnector;
  before(async () => {
    c = await startTestConnector('sqlite');
  });
  after(async () => c.cleanup());

  it('gives every OpenAPI operation a summary and a description', async () => {
    const res = await api(c.url, null, 'GET', '/openapi.json');
    assert.equal(res.status, 200);
    const operations = Object.entries(res.body.paths as Record<string, Record<string, any>>).flatMap(([path, ops]) =>
      Object.entries(ops).map(([method, op]) => ({ id: `${method.toUpperCase()} ${path}`, op })),
    );
    assert.ok(operations.length >= 30, `found ${operations.length} operations`);
    const undocumented = operations.filter(({ op }) => !op.summary?.trim() || !op.description?.trim()).map(({ id }) => id);
    assert.deepEqual(undocumented, []);
  });

  it('serves the dashboard at GET /, which links to nothing but same-origin assets', async () => {
    const res = await fetch(`${c.url}/`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /text\/html/);
    assert.ok(res.headers.get('content-security-policy'), 'a CSP header');
    assert.match(await res.text(), /<div id="root">/);
  });
});

describe('request logging', () => {
  let s: TestStore;
  let app: FastifyInstance;
  const lines: any[] = [];
  before(async () => {
    s = await openTestStore('sqlite');
    const stream = new Writable({
      write: (chunk, _enc, done) => (
        lines.push(
          ...String(chunk)
            .trim()
            .split('\n')
            .map((l) => JSON.parse(l)),
        ),
        done()
      ),
    });
    const box = new SecretBox([{ version: 1, key: Buffer.from('a-test-master-key-of-32-bytes!!!') }]);
    app = await buildApp({
      store: s.store,
      connections: new ConnectionService(s.store, box, { allowedPartnerHosts: [] }),
      adminToken: 'itsma_test',
      logger: { level: 'info', stream },
    });
  });
  after(async () => {
    await app.close();
    await s.cleanup();
  });

  it('does not log health probes at info level, while other requests are logged', async () => {
    for (let i = 0; i < 3; i++) assert.equal((await app.inject({ method: 'GET', url: '/healthz' })).statusCode, 200);
    assert.equal((await app.inject({ method: 'GET', url: '/api/v1/workspaces', headers: { authorization: 'Bearer itsma_test' } })).statusCode, 200);
    const urls = lines.map((l) => l.req?.url ?? l.url).filter(Boolean);
    assert.ok(urls.includes('/api/v1/workspaces'), `other requests are logged: ${JSON.stringify(urls)}`);
    assert.ok(!urls.includes('/healthz'), `no /healthz lines: ${JSON.stringify(urls)}`);
  });
});
