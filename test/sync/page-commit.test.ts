/**
 * A sync page commit on both stores, through the batched write path: more records than one multi-row
 * statement holds, changed and unchanged records mixed, a record twice in one page, and text that needs
 * escaping — every changed record is stored exactly once with exactly its values, and the position moves.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { openTestStore, testDialects } from '../helpers/stores.ts';
import type { SyncPageCommit, SyncPageRecord } from '../../src/store/workspace-rows.ts';

const AWKWARD = ['quote " and \\ backslash', 'literal \\ud800 text', 'lone \ud800 surrogate', 'emoji 😀 ünïcödé', "it's, {a,b} NULL", ''];

function record(i: number, version: number): SyncPageRecord {
  return {
    id: `rec${String(i).padStart(3, '0')}`,
    updatedAt: `2026-01-0${version}T00:00:${String(i % 60).padStart(2, '0')}Z`,
    row: {
      ServiceDeskWorkItemType_s: 'Incident',
      ServiceDeskId_s: `INC${String(i).padStart(7, '0')}`,
      Title_s: `${AWKWARD[i % AWKWARD.length]} v${version}`,
      CreatedDate_t: `2026-01-01T00:${String(i % 60).padStart(2, '0')}:00Z`,
      ClosedDate_t: i % 3 === 0 ? null : `2026-01-02T00:00:${String(i % 60).padStart(2, '0')}Z`,
      Computer: i % 2 ? `host-${i % 7}` : undefined,
    },
  };
}

function page(records: SyncPageRecord[], cursor: string | null, time: number): SyncPageCommit {
  return {
    connectionId: 'c1',
    workspace: 'default',
    connectionName: 'conn',
    scope: 'Incident',
    records,
    timeGenerated: time,
    state: { watermark: cursor ? null : '2026-01-09T00:00:00Z', cursor, backfillDone: cursor === null, runAt: time },
  };
}

for (const dialect of testDialects) {
  describe(`sync page commit on ${dialect}`, () => {
    it('stores each changed record once with its exact values, skips unchanged ones, and moves the position with them', async () => {
      const t = await openTestStore(dialect);
      try {
        await t.store.workspaces.ensure('default');
        const rows = t.store.workspaceRows;
        const first = Array.from({ length: 75 }, (_, i) => record(i, 1));
        assert.deepEqual(await rows.commitSyncPage(page(first, '{"next":"a"}', 1000)), { appended: 75, unchanged: 0 });

        // Again: 70 unchanged, 5 changed (one of them twice in the page: the last version wins), 3 new.
        const second = first.map((r, i) => (i % 15 === 0 ? record(i, 2) : r));
        second.push(record(15, 3), record(100, 1), record(101, 1), record(102, 1));
        assert.deepEqual(await rows.commitSyncPage(page(second, null, 2000)), { appended: 8, unchanged: 70 });

        const stored = (
          await t.store.sql.query(
            'SELECT "TimeGenerated", "ServiceDeskId_s", "Title_s", "CreatedDate_t", "ClosedDate_t", "Computer", "ServiceDeskConnectionName_s", "Type" FROM ws_servicedesk_cl ORDER BY "TimeGenerated", "ServiceDeskId_s"',
            [],
          )
        ).rows.map((r) => r.map((v) => (typeof v === 'bigint' ? Number(v) : v)));
        assert.equal(stored.length, 83);
        const expected = [
          ...first.map((r) => [1000, r]),
          ...[0, 30, 45, 60].map((i) => [2000, record(i, 2)]),
          [2000, record(15, 3)],
          ...[100, 101, 102].map((i) => [2000, record(i, 1)]),
        ] as [number, SyncPageRecord][];
        expected.sort((a, b) => a[0] - b[0] || (a[1].row.ServiceDeskId_s as string).localeCompare(b[1].row.ServiceDeskId_s as string));
        const ms = (v: unknown) => (v === null || v === undefined ? null : Date.parse(v as string));
        assert.deepEqual(
          stored,
          expected.map(([time, r]) => [
            time,
            r.row.ServiceDeskId_s,
            // A lone surrogate: U+FFFD on PostgreSQL (the JSON page); better-sqlite3 writes its three bytes, read back as three.
            (r.row.Title_s as string).replace('\ud800', dialect === 'postgres' ? '\ufffd' : '\ufffd\ufffd\ufffd'),
            ms(r.row.CreatedDate_t),
            ms(r.row.ClosedDate_t),
            r.row.Computer ?? '',
            'conn',
            'ServiceDesk_CL',
          ]),
        );
        const state = await t.store.syncState.get('c1', 'Incident');
        assert.equal(state?.watermark, '2026-01-09T00:00:00Z');
        assert.equal(state?.cursor, null);
        assert.equal(state?.recordsSynced, 83);
      } finally {
        await t.cleanup();
      }
    });

    it('commits a page only after the page before it committed, and not at all when that one failed', async () => {
      const t = await openTestStore(dialect);
      try {
        await t.store.workspaces.ensure('default');
        const rows = t.store.workspaceRows;
        const cursor = (next: string) => JSON.stringify({ since: '2026-01-01T00:00:00Z', next, max: null, backfill: true });
        const first = rows.commitSyncPage(page([record(1, 1)], cursor('a'), 1000));
        const second = rows.commitSyncPage({ ...page([record(2, 1)], cursor('b'), 2000), after: first });
        assert.deepEqual(await second, { appended: 1, unchanged: 0 });
        assert.equal((await t.store.syncState.get('c1', 'Incident'))?.cursor?.next, 'b');

        const failed = Promise.reject(new Error('the disk is full'));
        await assert.rejects(rows.commitSyncPage({ ...page([record(3, 1)], cursor('c'), 3000), after: failed }), /the disk is full/);
        const count = await t.store.sql.query('SELECT count(*) FROM ws_servicedesk_cl', []);
        assert.equal(Number(count.rows[0][0]), 2, 'the page after a failed one added no row');
        assert.equal((await t.store.syncState.get('c1', 'Incident'))?.cursor?.next, 'b', 'and did not move the position');
      } finally {
        await t.cleanup();
      }
    });
  });
}
