/**
 * One sync of a connection at a time: the lease table on both stores (take, renew, expiry, fence), and two
 * connector processes on one PostgreSQL schema syncing the same connection — scheduled and on demand,
 * all at once — whose runs never overlap and whose rows are never duplicated.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { randomBytes } from 'node:crypto';
import { startServiceNowSandbox, type ServiceNowSandbox } from '../../src/sandbox/servicenow/index.ts';
import { readSettings } from '../../src/config/env.ts';
import { startConnector, type Connector } from '../../src/runtime/connector.ts';
import { LeaseLostError } from '../../src/store/workspace-rows.ts';
import { api, dropSchema, openTestStore, pgUrl, tempDir, testDialects, uniqueSchema } from '../helpers/stores.ts';
import { kql, sandboxConnection, snow } from './helpers.ts';

for (const dialect of testDialects) {
  describe(`sync lease on ${dialect}`, () => {
    it('is taken when free or expired, kept by renew, and fences page commits', async () => {
      const t = await openTestStore(dialect);
      try {
        const leases = t.store.leases;
        const now = Date.now();
        assert.equal(await leases.tryAcquire('sync:x', 'a', 10_000, now), true);
        assert.equal(await leases.tryAcquire('sync:x', 'b', 10_000, now + 1), false, 'held by a');
        assert.equal(await leases.tryAcquire('sync:x', 'a', 10_000, now + 2), true, 're-entrant for its holder');
        assert.equal(await leases.renew('sync:x', 'b', 10_000, now + 3), false);
        assert.equal(await leases.tryAcquire('sync:x', 'b', 10_000, now + 20_000), true, 'expired: b takes it over');
        assert.equal(await leases.renew('sync:x', 'a', 10_000, now + 20_001), false, 'a lost it');

        // a, which lost the lease, cannot commit a page any more; b can.
        const page = (holder: string) => ({
          connectionId: 'c1',
          workspace: 'default',
          connectionName: 'x',
          scope: 'Incident',
          records: [{ id: 'r1', updatedAt: '2026-01-01T00:00:00Z', row: { ServiceDeskWorkItemType_s: 'Incident', ServiceDeskId_s: 'INC1' } }],
          timeGenerated: Date.now(),
          state: { watermark: null, cursor: '{}', backfillDone: false, runAt: Date.now() },
          lease: { name: 'sync:x', holder, ttlMs: 10_000 },
        });
        await assert.rejects(t.store.workspaceRows.commitSyncPage(page('a')), LeaseLostError);
        assert.deepEqual(await t.store.workspaceRows.commitSyncPage(page('b')), { appended: 1, unchanged: 0 });
        assert.deepEqual(await t.store.workspaceRows.commitSyncPage(page('b')), { appended: 0, unchanged: 1 }, 'same content: no new row');
        await leases.release('sync:x', 'b');
        assert.equal(await leases.tryAcquire('sync:x', 'a', 10_000), true, 'released');

        // Housekeeping: c1 is no connection, so its record hashes go; long-expired sync leases go, others stay.
        assert.equal(await t.store.syncState.purgeOrphans(), 1);
        assert.equal(await leases.tryAcquire('other:y', 'z', 1, now - 10_000_000), true);
        assert.equal(await leases.purgeExpired('sync:', Date.now() + 60_000), 1);
        assert.ok(await leases.get('other:y'));
      } finally {
        await t.cleanup();
      }
    });
  });
}

describe('two connector processes on one PostgreSQL schema', () => {
  let sandbox: ServiceNowSandbox;
  const schema = uniqueSchema();
  const dirs: string[] = [];
  const connectors: Connector[] = [];
  const token = `itsma_${randomBytes(16).toString('hex')}`;

  const start = async () => {
    const dataDir = tempDir('itsmc-lease-');
    dirs.push(dataDir);
    const settings = readSettings({
      PORT: '0',
      ITSMC_HOST: '127.0.0.1',
      ITSMC_DATA_DIR: dataDir,
      ITSMC_SANDBOX: '0',
      ITSMC_DATABASE_URL: pgUrl(),
      ITSMC_MASTER_KEY: 'lease-test-master-key-shared-by-both-processes',
      ITSMC_ADMIN_TOKEN: token,
      ITSMC_ALLOWED_PARTNER_HOSTS: new URL(sandbox.url).host,
      ITSMC_SYNC_PAGE_SIZE: '50',
    });
    const connector = await startConnector({ settings, pgSchema: schema });
    connectors.push(connector);
    return connector;
  };

  before(async () => {
    sandbox = await startServiceNowSandbox({ port: 0, seed: 11, days: 30, volume: { incidents: 1500, changeRequests: 300, computers: 40 } });
    assert.equal(
      (await snow(sandbox, 'PUT', '/api/x_sandbox/faults', { latencyMs: 5, paths: ['/api/now/table/incident', '/api/now/table/change_request'] })).status,
      200,
    );
  });
  after(async () => {
    for (const c of connectors) await c.close();
    await sandbox?.close();
    await dropSchema(schema);
    for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  });

  it('never sync one connection at the same time', async () => {
    const a = await start();
    const b = await start();
    assert.notEqual(a.sync.engine.holder, b.sync.engine.holder);
    const put = await api(
      a.url,
      token,
      'PUT',
      '/api/v1/workspaces/default/connections/sn',
      sandboxConnection(sandbox, { syncDataDays: 120, syncIntervalSeconds: 30 }),
    );
    assert.equal(put.status, 201, JSON.stringify(put.body));

    // Both schedulers see the new connection; on top of that, on-demand syncs on both processes at once.
    const path = '/api/v1/workspaces/default/connections/sn/sync';
    const calls = await Promise.all([a, b, a, b, a, b].map((c) => api(c.url, token, 'POST', path)));
    for (const res of calls) assert.equal(res.status, 200, JSON.stringify(res.body));
    // Let scheduled runs still under way finish before reading the history.
    for (const c of connectors) await c.sync.scheduler.stop();

    const row = (await a.store.connections.get('default', 'sn'))!;
    const runs = (await a.store.syncRuns.list(row.id, 500)).filter((r) => r.status !== 'busy').sort((x, y) => x.startedAt - y.startedAt);
    assert.ok(runs.length >= 4, `${runs.length} runs`);
    assert.ok(new Set(runs.map((r) => r.holder)).size === 2, 'both processes ran syncs');
    for (let i = 1; i < runs.length; i++) {
      assert.ok(runs[i - 1].finishedAt !== null, 'every run finished');
      assert.ok(runs[i].startedAt >= runs[i - 1].finishedAt!, `run ${i} (${runs[i].holder}) started before run ${i - 1} (${runs[i - 1].holder}) ended`);
    }
    const perRecord = await kql(b.url, token, 'ServiceDesk_CL | summarize n = count() by ServiceDeskId_s | summarize records = count(), most = max(n)');
    assert.deepEqual(perRecord.rows[0], { records: 1800, most: 1 });
  });
});
