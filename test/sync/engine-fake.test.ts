/**
 * Fast unit tests of the sync engine over the in-memory fake partner (real SQLite store and workspace).
 * The integration tests (sync, lease, crash) run the same engine against the real ServiceNow sandbox.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { ConnectionsTable } from '../../src/store/schema.ts';
import { SyncEngine } from '../../src/sync/engine.ts';
import { runKql } from '../../src/workspace/query.ts';
import { FakePartner, fakeConnectionRow } from '../helpers/fake-partner.ts';
import { openTestStore, type TestStore } from '../helpers/stores.ts';

describe('sync engine over the fake partner', () => {
  let t: TestStore;
  let fake: FakePartner;
  let engine: SyncEngine;
  let row: ConnectionsTable;

  before(async () => {
    t = await openTestStore('sqlite');
    fake = new FakePartner();
    row = fakeConnectionRow();
    await t.store.workspaces.ensure('default');
    await t.store.connections.insert(row);
    engine = new SyncEngine(t.store, { client: async () => fake, pageSize: 2, retryBaseMs: 1, maxRateLimitWaitMs: 50 });
    for (let i = 0; i < 5; i++)
      await fake.createWorkItem({ type: 'Incident', correlationKey: `k${i}`, title: `synced ${i}`, description: '', fields: {}, ciIds: [] });
  });
  after(async () => {
    await engine.close();
    await t.cleanup();
  });

  const count = async (): Promise<number> => {
    const res = await runKql(t.store.sql, 'default', "ServiceDesk_CL | where ServiceDeskConnectionName_s == 'fake' | count");
    return Number(res.tables[0].rows[0][0]);
  };

  it('backfills every record page by page into ServiceDesk_CL', async () => {
    const result = await engine.run((await t.store.connections.getById(row.id))!);
    assert.equal(result.status, 'ok', result.error);
    assert.equal(result.appended, 5);
    assert.ok(result.scopes[0].pages >= 3, 'pages of 2');
    assert.equal(await count(), 5);
  });

  it('appends only the record changed since, and nothing for records read again unchanged', async () => {
    fake.changeByHand('fake-2', { closed: true, state: '6' });
    const result = await engine.run((await t.store.connections.getById(row.id))!);
    assert.equal(result.status, 'ok', result.error);
    assert.equal(result.appended, 1);
    assert.equal(await count(), 6);
  });

  it('retries a page the partner answered 503 within the run', async () => {
    fake.failNext(503, 1);
    const result = await engine.run((await t.store.connections.getById(row.id))!);
    assert.equal(result.status, 'ok', result.error);
  });

  it('stops the run on a long 429 and says when to come back', async () => {
    fake.failNext(429, 1, 120);
    const result = await engine.run((await t.store.connections.getById(row.id))!);
    assert.notEqual(result.status, 'ok');
    assert.ok(result.retryAt && result.retryAt > Date.now(), 'retryAt follows Retry-After');
  });
});
