import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { api, startTestConnector, testDialects, type TestConnector } from '../helpers/stores.ts';

for (const dialect of testDialects) {
  describe(`API authentication and workspace isolation on ${dialect}`, () => {
    let c: TestConnector;
    let reader: string;
    let contributor: string;
    let otherKey: string;
    before(async () => {
      c = await startTestConnector(dialect);
      await api(c.url, c.adminToken, 'PUT', '/api/v1/workspaces/team-b');
      reader = (await api(c.url, c.adminToken, 'POST', '/api/v1/workspaces/default/apiKeys', { name: 'dash', role: 'reader' })).body.key;
      contributor = (await api(c.url, c.adminToken, 'POST', '/api/v1/workspaces/default/apiKeys', { name: 'ops', role: 'contributor' })).body.key;
      otherKey = (await api(c.url, c.adminToken, 'POST', '/api/v1/workspaces/team-b/apiKeys', { name: 'b', role: 'contributor' })).body.key;
    });
    after(async () => c.cleanup());

    it('serves /healthz and /readyz without a token', async () => {
      assert.equal((await api(c.url, null, 'GET', '/healthz')).status, 200);
      const ready = await api(c.url, null, 'GET', '/readyz');
      assert.equal(ready.status, 200);
      assert.equal(ready.body.store, dialect);
    });

    it('answers 401 with the error shape when the token is missing or wrong', async () => {
      for (const token of [null, 'nope']) {
        const res = await api(c.url, token, 'GET', '/api/v1/workspaces/default/connections');
        assert.equal(res.status, 401);
        assert.equal(res.body.error.code, 'Unauthorized');
        assert.match(res.body.error.message, /token/);
      }
    });

    it('lets a reader key read its own workspace but not write', async () => {
      assert.equal((await api(c.url, reader, 'GET', '/api/v1/workspaces/default/connections')).status, 200);
      const write = await api(c.url, reader, 'PUT', '/api/v1/workspaces/default/connections/x', {
        partnerType: 'SCSM',
        serverUrl: 'https://scsm.example.com',
        clientId: 'a',
        clientSecret: 'b',
      });
      assert.equal(write.status, 403);
      assert.match(write.body.error.message, /role 'contributor'/);
    });

    it('refuses a key in another workspace with 403', async () => {
      const res = await api(c.url, otherKey, 'GET', '/api/v1/workspaces/default/connections');
      assert.equal(res.status, 403);
      assert.match(res.body.error.message, /team-b/);
    });

    it('keeps admin-only routes for the admin token', async () => {
      assert.equal((await api(c.url, contributor, 'GET', '/api/v1/workspaces')).status, 403);
      assert.equal((await api(c.url, contributor, 'PUT', '/api/v1/workspaces/new-one')).status, 403);
      assert.equal((await api(c.url, c.adminToken, 'GET', '/api/v1/workspaces')).status, 200);
    });

    it('stops accepting a key once it is revoked', async () => {
      const created = await api(c.url, c.adminToken, 'POST', '/api/v1/workspaces/default/apiKeys', { name: 'tmp', role: 'reader' });
      assert.equal((await api(c.url, created.body.key, 'GET', '/api/v1/workspaces/default')).status, 200);
      assert.equal((await api(c.url, contributor, 'DELETE', `/api/v1/workspaces/default/apiKeys/${created.body.id}`)).status, 204);
      assert.equal((await api(c.url, created.body.key, 'GET', '/api/v1/workspaces/default')).status, 401);
    });

    it('never lists key material, only metadata', async () => {
      const res = await api(c.url, c.adminToken, 'GET', '/api/v1/workspaces/default/apiKeys');
      assert.equal(res.status, 200);
      assert.ok(res.body.value.length >= 2);
      assert.ok(!JSON.stringify(res.body).includes(reader));
      assert.ok(res.body.value.every((k: any) => !('key' in k) && !('token_hash' in k)));
    });

    it('refuses to delete the default workspace', async () => {
      assert.equal((await api(c.url, c.adminToken, 'DELETE', '/api/v1/workspaces/default')).status, 409);
    });

    it('serves the OpenAPI document and the docs page', async () => {
      const doc = await api(c.url, null, 'GET', '/openapi.json');
      assert.equal(doc.status, 200);
      assert.match(doc.body.openapi, /^3\./);
      assert.ok(doc.body.paths['/api/v1/workspaces/{ws}/connections/{name}']);
      assert.ok(doc.body.components.schemas.ConnectionInput);
      const page = await fetch(c.url + '/docs/');
      assert.equal(page.status, 200);
      assert.match(await page.text(), /swagger/i);
    });

    it('exposes Prometheus metrics from its own registry', async () => {
      const res = await fetch(c.url + '/metrics');
      assert.match(await res.text(), /itsmc_http_requests_total/);
    });
  });
}
