import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { openTestStore, tempDir, type TestStore } from '../helpers/stores.ts';
import { storeInternals } from '../../src/store/testkit.ts';
import { WalSync } from '../../src/store/write-tx.ts';

/** Counts the WAL syncs it really runs, each held open for `holdMs`. */
class CountingWalSync extends WalSync {
  flushes = 0;
  constructor(
    file: string,
    private readonly holdMs: number,
  ) {
    super(file);
  }
  protected override async flush(): Promise<void> {
    this.flushes += 1;
    await new Promise((r) => setTimeout(r, this.holdMs));
    await super.flush();
  }
}

describe('SQLite main-thread writes are durable before they are reported done, without an fsync on the event loop', () => {
  let t: TestStore;
  before(async () => {
    t = await openTestStore('sqlite');
  });
  after(async () => t.cleanup());

  it('the main connection commits without a sync of its own (synchronous=NORMAL)', () => {
    const { raw } = storeInternals(t.store);
    assert.equal(raw.dialect, 'sqlite');
    if (raw.dialect === 'sqlite') assert.equal(raw.sqlite.pragma('synchronous', { simple: true }), 1);
  });

  it('a repository write and a write transaction each resolve only after the WAL sync that covers them', async () => {
    const events: string[] = [];
    const original = t.store.writeLock.durable;
    t.store.writeLock.durable = async () => {
      events.push('sync started');
      await new Promise((r) => setTimeout(r, 30));
      await original!();
      events.push('sync done');
    };
    try {
      await t.store.workspaces.ensure('durable-1');
      events.push('write returned');
      await t.store.writeTransaction(async (tx) => {
        await tx.jobs.enqueue([
          {
            kind: 'deliver',
            ordering_key: 'k',
            dedupe_key: 'wal-sync-test',
            payload: '{}',
            max_attempts: 1,
            connection_id: null,
            workspace: 'default',
            run_at: Date.now(),
          },
        ]);
      });
      events.push('transaction returned');
    } finally {
      t.store.writeLock.durable = original;
    }
    assert.deepEqual(events, ['sync started', 'sync done', 'write returned', 'sync started', 'sync done', 'transaction returned']);
  });

  it('writers waiting at the same time share syncs: 50 concurrent writes cost 2 syncs, not 50', async () => {
    const { raw } = storeInternals(t.store);
    assert.equal(raw.dialect, 'sqlite');
    const wal = new CountingWalSync(`${raw.dialect === 'sqlite' ? raw.sqlite.name : ''}-wal`, 20);
    const original = t.store.writeLock.durable;
    t.store.writeLock.durable = () => wal.sync();
    try {
      await Promise.all(Array.from({ length: 50 }, (_, i) => t.store.workspaces.ensure(`shared-${i}`)));
    } finally {
      t.store.writeLock.durable = original;
    }
    // The first write's sync starts alone; every write committed while it ran waits for the one after it.
    assert.ok(wal.flushes >= 1 && wal.flushes <= 3, `${wal.flushes} syncs`);
    assert.equal((await t.store.workspaces.list()).filter((w) => w.name.startsWith('shared-')).length, 50);
  });

  it('a missing WAL file (nothing written since the last checkpoint) is not an error', async () => {
    const dir = tempDir();
    try {
      await new WalSync(path.join(dir, 'none.sqlite-wal')).sync();
      fs.writeFileSync(path.join(dir, 'some.sqlite-wal'), 'x');
      await new WalSync(path.join(dir, 'some.sqlite-wal')).sync();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
