import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { api, tempDir, testDialects } from '../helpers/stores.ts';
import { drained, fastDelivery, ourIncidents, startRig, type Rig } from '../delivery/helpers.ts';
import { buildApp } from '../../src/server/app.ts';

for (const dialect of testDialects) {
  describe(`dashboard API endpoints (${dialect})`, () => {
    let rig: Rig & { pgSchema?: string };
    const ws = '/api/v1/workspaces/default';
    before(async () => {
      rig = await startRig(dialect, fastDelivery());
    });
    after(async () => rig?.cleanup());

    it('GET /api/v1/me names the admin, or a key’s workspace and role', async () => {
      assert.deepEqual((await api(rig.c.url, rig.token, 'GET', '/api/v1/me')).body, { kind: 'admin', workspace: null, role: 'admin' });
      const key = await api(rig.c.url, rig.token, 'POST', `${ws}/apiKeys`, { name: 'r', role: 'reader' });
      assert.deepEqual((await api(rig.c.url, key.body.key, 'GET', '/api/v1/me')).body, { kind: 'workspace-key', workspace: 'default', role: 'reader' });
      assert.equal((await api(rig.c.url, 'itsmk_wrong', 'GET', '/api/v1/me')).status, 401);
    });

    it('creates one work item per log row through the delivery queue; the same row again is a duplicate', async () => {
      const body = {
        connectionName: 'snow',
        workItemType: 'Incident',
        title: 'Disk full on db-7',
        query: 'Perf | take 1',
        row: { Computer: 'db-7', CounterValue: 3.5, Healthy: false },
      };
      const first = await api(rig.c.url, rig.token, 'POST', `${ws}/workItems`, body);
      assert.equal(first.status, 202, JSON.stringify(first.body));
      assert.equal(first.body.status, 'accepted');
      assert.equal(first.body.actionGroup, 'log-search-incident-snow');
      const again = await api(rig.c.url, rig.token, 'POST', `${ws}/workItems`, { ...body, title: 'a second click' });
      assert.equal(again.body.status, 'duplicate');
      assert.equal(again.body.alertId, first.body.alertId);
      await drained(rig.c);
      const created = (await ourIncidents(rig.sandbox)).filter((i) => i.short_description.includes('Disk full on db-7'));
      assert.equal(created.length, 1);
      const outcome = await api(rig.c.url, rig.token, 'POST', '/v1/workspaces/default/query', {
        query: `ItsmActionOutcome_CL | where AlertId_s == "${first.body.alertId}" | project Operation_s, WorkItemNumber_s, Computer`,
      });
      assert.deepEqual(outcome.body.tables[0].rows, [['Created', created[0].number, 'db-7']]);
    });

    it('refuses a work item for an unknown connection or a malformed row with a 4xx naming the problem', async () => {
      const unknown = await api(rig.c.url, rig.token, 'POST', `${ws}/workItems`, { connectionName: 'nope', workItemType: 'Incident', title: 't', row: {} });
      assert.equal(unknown.status, 404);
      assert.match(unknown.body.error.message, /connection 'nope'/);
      const bad = await api(rig.c.url, rig.token, 'POST', `${ws}/workItems`, {
        connectionName: 'snow',
        workItemType: 'Ticket',
        title: 't',
        row: { a: { nested: 1 } },
      });
      assert.equal(bad.status, 400);
      assert.match(JSON.stringify(bad.body.error), /workItemType|row/);
    });

    it('previews an ITSM action for every payload family and checks it against the connection', async () => {
      const res = await api(rig.c.url, rig.token, 'POST', `${ws}/itsmActions/preview`, {
        connectionName: 'snow',
        ticketConfiguration: {
          WorkItemType: 'Incident',
          WorkItemData: { short_description: 'On {{alert.configurationItems[0]}}', category: 'no-such-category' },
        },
      });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.ok(res.body.value.length >= 10);
      const metric = res.body.value.find((p: any) => p.family === 'azure-common-metric');
      assert.equal(metric.draft.fields.short_description, 'On wcus-r2-gen2');
      assert.ok(
        res.body.problems.some((p: any) => /category/.test(p.path) && Array.isArray(p.allowed)),
        JSON.stringify(res.body.problems),
      );
    });

    it('reports the delivery queue per connection', async () => {
      const res = await api(rig.c.url, rig.token, 'GET', `${ws}/deliveryQueue`);
      assert.equal(res.status, 200);
      assert.ok(Array.isArray(res.body.byConnection));
      for (const k of ['pending', 'running', 'dead']) assert.equal(typeof res.body[k], 'number');
    });
  });
}

describe('dashboard serving', () => {
  it('answers the SPA for app paths, JSON 404s for API paths, and 503 when the dashboard is not built', async () => {
    const dist = tempDir('itsmc-web-');
    fs.mkdirSync(path.join(dist, 'assets'));
    fs.writeFileSync(path.join(dist, 'index.html'), '<!doctype html><title>t</title>');
    fs.writeFileSync(path.join(dist, 'assets', 'app-abc123.js'), 'console.log(1)');
    const deps = { store: {} as never, connections: {} as never, adminToken: 'itsma_test-token-123456' };
    const app = await buildApp({ ...deps, webDist: dist });
    const spa = await app.inject({ method: 'GET', url: '/computers?name=x' });
    assert.equal(spa.statusCode, 200);
    assert.match(spa.headers['content-security-policy'] as string, /frame-ancestors 'none'/);
    assert.equal(spa.headers['cache-control'], 'no-cache');
    const asset = await app.inject({ method: 'GET', url: '/assets/app-abc123.js' });
    assert.equal(asset.statusCode, 200);
    assert.match(asset.headers['cache-control'] as string, /max-age=31536000.*immutable|immutable.*max-age=31536000/);
    for (const url of ['/assets/missing.js', '/v1/nope', '/hooks/x/y', '/favicon.ico']) {
      const res = await app.inject({ method: 'GET', url });
      assert.equal(res.statusCode, 404, url);
      assert.equal(res.json().error.code, 'NotFound', url);
    }
    await app.close();

    const unbuilt = await buildApp({ ...deps, webDist: path.join(dist, 'nothing') });
    const res = await unbuilt.inject({ method: 'GET', url: '/' });
    assert.equal(res.statusCode, 503);
    assert.match(res.json().error.message, /build:web/);
    await unbuilt.close();
    fs.rmSync(dist, { recursive: true, force: true });
  });
});
