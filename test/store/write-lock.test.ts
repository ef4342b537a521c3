import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { openTestStore, type TestStore } from '../helpers/stores.ts';
import { storeInternals } from '../../src/store/testkit.ts';

const turns = async (n: number) => {
  for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r));
};

/**
 * The ingest writer thread commits on a connection of its own while it holds `store.writeLock`. Here a
 * second connection plays that thread: it holds a write transaction inside the lock. The main
 * connection's busy_timeout is 0, so a main-thread write that did not wait for the lock would fail at
 * once with SQLITE_BUSY (and with the real busy_timeout it would block the event loop instead).
 */
describe('main-thread SQLite writes take turns with the ingest writer', () => {
  let t: TestStore;
  before(async () => {
    t = await openTestStore('sqlite');
    await t.store.workspaces.ensure('default');
    const raw = storeInternals(t.store).raw;
    if (raw.dialect === 'sqlite') raw.sqlite.pragma('busy_timeout = 0');
  });
  after(async () => t.cleanup());

  it('waits for the lock instead of failing while the writer holds a transaction', async () => {
    const file = path.join(t.dataDir, 'itsmc.sqlite');
    const other = new BetterSqlite3(file);
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    let holding!: () => void;
    const held = new Promise<void>((r) => (holding = r));
    const writer = t.store.writeLock.run(async () => {
      other.exec('BEGIN IMMEDIATE');
      other.prepare('INSERT INTO workspaces (name, created_at) VALUES (?, ?)').run('from-writer', Date.now());
      holding();
      await released;
      other.exec('COMMIT');
    });
    await held;

    // The contention is real: a write that ignores the lock fails now.
    const handle = storeInternals(t.store).raw;
    if (handle.dialect === 'sqlite') {
      const raw = handle.sqlite;
      assert.throws(() => raw.prepare('INSERT INTO workspaces (name, created_at) VALUES (?, ?)').run('bypass', 1), { code: 'SQLITE_BUSY' });
    }

    const settled: string[] = [];
    const track = <T>(name: string, p: Promise<T>) =>
      p.then(
        (v) => (settled.push(name), v),
        (err) => (settled.push(`${name} failed: ${err.code ?? err.message}`), Promise.reject(err)),
      );
    const writes = Promise.all([
      track('workspaces', t.store.workspaces.ensure('team-a')),
      track('leases', t.store.leases.tryAcquire('sync:x', 'me', 60_000)),
      track('syncState', t.store.syncState.recordError('c1', 'Incident', 'boom')),
      track('workspaceRows', t.store.workspaceRows.append('ServiceDeskLog_CL', 'default', [{ TimeGenerated: Date.now(), Message: 'hello' }])),
    ]);
    await turns(20);
    assert.deepEqual(settled, [], 'no write settles while the writer holds its transaction');

    release();
    await writer;
    const [ws, lease] = await writes;
    assert.deepEqual(ws, { created: true });
    assert.equal(lease, true);
    assert.deepEqual(settled.sort(), ['leases', 'syncState', 'workspaceRows', 'workspaces']);
    assert.deepEqual(
      (await t.store.workspaces.list()).map((w) => w.name),
      ['default', 'from-writer', 'team-a'],
    );
    other.close();
  });
});
