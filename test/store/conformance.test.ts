import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { openTestStore, testDialects, type TestStore } from '../helpers/stores.ts';
import type { ConnectionsTable } from '../../src/store/schema.ts';
import { runKql } from '../../src/workspace/query.ts';

function connectionRow(overrides: Partial<ConnectionsTable> = {}): ConnectionsTable {
  const now = Date.now();
  return {
    id: overrides.id ?? `c-${Math.random().toString(36).slice(2)}`,
    workspace: 'default',
    name: 'snow',
    partner_type: 'ServiceNow',
    server_url: 'https://dev1.service-now.com',
    client_id: 'cid',
    client_secret_enc: 'v1:x:y:z',
    tokens_enc: null,
    data_sync_scope: '["Incident"]',
    sync_data_days: 30,
    create_new_cis: 0,
    sync_interval_seconds: 300,
    status: 'Healthy',
    last_error: null,
    last_sync_at: null,
    last_config_sync_at: null,
    configuration: null,
    created_at: now,
    updated_at: now,
    ...overrides,
  };
}

for (const dialect of testDialects) {
  describe(`store conformance on ${dialect}`, () => {
    let t: TestStore;
    before(async () => {
      t = await openTestStore(dialect);
    });
    after(async () => t.cleanup());

    it('applies migrations once and reports ready; a second migrate applies nothing', async () => {
      assert.equal(await t.store.ready(), true);
      assert.deepEqual(await t.store.migrate(), []);
    });

    it('creates a workspace once and lists it', async () => {
      assert.deepEqual(await t.store.workspaces.ensure('default'), { created: true });
      assert.deepEqual(await t.store.workspaces.ensure('default'), { created: false });
      await t.store.workspaces.ensure('team-a');
      assert.deepEqual(
        (await t.store.workspaces.list()).map((w) => w.name),
        ['default', 'team-a'],
      );
    });

    it('stores an API key by hash, finds it while active and not after revocation', async () => {
      await t.store.apiKeys.insert({ id: 'k1', workspace: 'team-a', name: 'ci', role: 'reader', token_hash: 'h1', created_at: 1, revoked_at: null });
      assert.equal((await t.store.apiKeys.findActiveByHash('h1'))?.role, 'reader');
      assert.equal(await t.store.apiKeys.revoke('default', 'k1'), false, 'another workspace cannot revoke it');
      assert.equal(await t.store.apiKeys.revoke('team-a', 'k1'), true);
      assert.equal(await t.store.apiKeys.findActiveByHash('h1'), undefined);
    });

    it('keeps connection names unique per workspace and returns numbers as numbers', async () => {
      await t.store.connections.insert(connectionRow({ id: 'c1' }));
      await assert.rejects(t.store.connections.insert(connectionRow({ id: 'c2' })));
      await t.store.connections.insert(connectionRow({ id: 'c3', workspace: 'team-a' }));
      const row = await t.store.connections.get('default', 'snow');
      assert.equal(row?.id, 'c1');
      assert.equal(typeof row?.created_at, 'number');
      assert.equal(row?.sync_data_days, 30);
    });

    it('updates a connection and stamps updated_at', async () => {
      const before = (await t.store.connections.getById('c1'))!;
      await new Promise((r) => setTimeout(r, 5));
      await t.store.connections.update('c1', { status: 'Error', last_error: 'boom' });
      const after = (await t.store.connections.getById('c1'))!;
      assert.equal(after.status, 'Error');
      assert.ok(after.updated_at > before.updated_at);
    });

    it('deleting a workspace deletes its keys and connections', async () => {
      assert.equal(await t.store.workspaces.delete('team-a'), true);
      assert.equal(await t.store.connections.getById('c3'), undefined);
      assert.deepEqual(await t.store.apiKeys.list('team-a'), []);
    });

    it('runs a read-only statement through the SQL runner with bound parameters, rows as arrays', async () => {
      const { rows } = await t.store.sql.query(
        dialect === 'postgres' ? 'SELECT name, sync_data_days FROM connections WHERE id = $1' : 'SELECT name, sync_data_days FROM connections WHERE id = ?',
        ['c1'],
      );
      assert.deepEqual(rows, [['snow', 30]]);
    });

    it('runs the KQL helper functions the migrations install (hash, series_stats_dynamic, series_fill_linear)', async () => {
      const res = await runKql(
        t.store.sql,
        'default',
        'print h = tostring(hash("World")), m = hash("World", 100), s = series_stats_dynamic(dynamic([1, 5, 3])), f = series_fill_linear(dynamic([1, null, 3]))',
      );
      assert.deepEqual(res.tables[0].rows, [
        ['1846988464401551951', 51, '{"min":1,"min_idx":0,"max":5,"max_idx":1,"avg":3,"stdev":2,"variance":4}', '[1,2,3]'],
      ]);
    });

    it('refuses a writing statement in the SQL runner', async () => {
      await assert.rejects(t.store.sql.query("DELETE FROM connections WHERE id = 'c1'", []));
      assert.ok(await t.store.connections.getById('c1'));
    });
  });
}
