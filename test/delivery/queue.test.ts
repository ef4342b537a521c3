import { describe, it, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { openTestStore, pgUrl, testDialects, type TestStore } from '../helpers/stores.ts';
import { Store } from '../../src/store/store.ts';
import { LeaseLostError, type NewJob } from '../../src/store/jobs.ts';
import { backoffDelay } from '../../src/delivery/backoff.ts';
import { storeInternals } from '../../src/store/testkit.ts';

let seq = 0;
function job(key: string, overrides: Partial<NewJob> = {}): NewJob {
  seq += 1;
  return {
    kind: 'deliver',
    ordering_key: key,
    dedupe_key: `d-${seq}-${Math.random()}`,
    connection_id: 'c1',
    workspace: 'default',
    payload: JSON.stringify({ n: seq }),
    max_attempts: 3,
    run_at: Date.now() - 1,
    ...overrides,
  };
}

const claimOpts = { kinds: ['deliver'], limit: 10, maxBatch: 1, leaseMs: 60_000 };

for (const dialect of testDialects) {
  describe(`job queue on ${dialect}`, () => {
    let t: TestStore;
    before(async () => {
      t = await openTestStore(dialect);
    });
    after(async () => t.cleanup());
    beforeEach(async () => {
      await storeInternals(t.store).db.deleteFrom('jobs').execute();
    });

    it('claims only the head of each ordering key, and nothing of a key while its head runs', async () => {
      await t.store.jobs.enqueue([job('a'), job('a'), job('b')]);
      const first = await t.store.jobs.claim({ ...claimOpts, workerId: 'w1' });
      assert.deepEqual(
        first.map((g) => g.map((j) => j.ordering_key)),
        [['a'], ['b']],
      );
      assert.deepEqual(await t.store.jobs.claim({ ...claimOpts, workerId: 'w2' }), [], 'a and b are busy');
      await t.store.jobs.ack(
        first[0].map((j) => j.id),
        'w1',
      );
      const next = await t.store.jobs.claim({ ...claimOpts, workerId: 'w2' });
      assert.equal(next.length, 1);
      assert.equal(next[0][0].ordering_key, 'a');
      assert.ok(next[0][0].id > first[0][0].id, 'in id order');
    });

    it('claims a head together with the jobs queued behind it (coalescing), in order', async () => {
      await t.store.jobs.enqueue([job('k'), job('k'), job('k'), job('other')]);
      const groups = await t.store.jobs.claim({ ...claimOpts, workerId: 'w', maxBatch: 10 });
      const k = groups.find((g) => g[0].ordering_key === 'k')!;
      assert.equal(k.length, 3);
      assert.deepEqual(
        k.map((j) => j.id),
        [...k.map((j) => j.id)].sort((x, y) => x - y),
      );
      assert.ok(k.every((j) => j.state === 'running' && j.locked_by === 'w' && j.attempts === 1));
    });

    it('fences ack, fail and extend on the lease holder', async () => {
      await t.store.jobs.enqueue([job('f')]);
      const [[j]] = await t.store.jobs.claim({ ...claimOpts, workerId: 'w1' });
      await assert.rejects(t.store.jobs.ack([j.id], 'intruder'), LeaseLostError);
      assert.equal(await t.store.jobs.fail([j.id], 'intruder', { error: 'x', runAt: Date.now() }), false);
      assert.equal(await t.store.jobs.extend([j.id], 'intruder', Date.now() + 1000), 0);
      assert.equal(await t.store.jobs.extend([j.id], 'w1', Date.now() + 1000), 1);
      await t.store.jobs.ack([j.id], 'w1');
      assert.equal(await t.store.jobs.get(j.id), undefined, 'finished jobs are deleted');
    });

    it('reclaims a job whose lease expired; the old holder can no longer ack it', async () => {
      await t.store.jobs.enqueue([job('l')]);
      const now = Date.now();
      const [[j]] = await t.store.jobs.claim({ ...claimOpts, workerId: 'dead', leaseMs: 1000, now });
      assert.deepEqual(await t.store.jobs.claim({ ...claimOpts, workerId: 'w2', now: now + 500 }), []);
      const [[again]] = await t.store.jobs.claim({ ...claimOpts, workerId: 'w2', now: now + 1500 });
      assert.equal(again.id, j.id);
      assert.equal(again.attempts, 2, 'a reclaim counts as an attempt (the create path looks up first)');
      await assert.rejects(t.store.jobs.ack([j.id], 'dead'), LeaseLostError);
      await t.store.jobs.ack([j.id], 'w2');
    });

    it('backs off failed jobs, dead-letters after max attempts, and replays them', async () => {
      await t.store.jobs.enqueue([job('r', { max_attempts: 2 }), job('r')]);
      const [[j]] = await t.store.jobs.claim({ ...claimOpts, workerId: 'w' });
      const later = Date.now() + 60_000;
      assert.equal(await t.store.jobs.fail([j.id], 'w', { error: 'boom 1', runAt: later }), true);
      assert.deepEqual(await t.store.jobs.claim({ ...claimOpts, workerId: 'w' }), [], 'not due yet, and it blocks its key');
      const [[again]] = await t.store.jobs.claim({ ...claimOpts, workerId: 'w', now: later + 1 });
      assert.equal(again.attempts, 2);
      await t.store.jobs.fail([j.id], 'w', { error: 'boom 2', runAt: Date.now(), dead: true });
      const dead = await t.store.jobs.listDead('default');
      assert.equal(dead.length, 1);
      assert.equal(dead[0].last_error, 'boom 2');
      assert.deepEqual(await t.store.jobs.counts('default'), { pending: 1, running: 0, dead: 1 });
      // A dead job no longer holds up its key.
      const [[behind]] = await t.store.jobs.claim({ ...claimOpts, workerId: 'w' });
      assert.notEqual(behind.id, j.id);
      await t.store.jobs.ack([behind.id], 'w');
      assert.equal(await t.store.jobs.replay('other-ws'), 0, 'replay is per workspace');
      assert.equal(await t.store.jobs.replay('default', { id: j.id }), 1);
      const [[replayed]] = await t.store.jobs.claim({ ...claimOpts, workerId: 'w' });
      assert.equal(replayed.id, j.id);
      assert.equal(replayed.attempts, 1);
    });

    it('refunds the attempt of a rate-limited or released job', async () => {
      await t.store.jobs.enqueue([job('q')]);
      const [[j]] = await t.store.jobs.claim({ ...claimOpts, workerId: 'w' });
      await t.store.jobs.fail([j.id], 'w', { error: '429', runAt: Date.now(), refund: true });
      const [[again]] = await t.store.jobs.claim({ ...claimOpts, workerId: 'w' });
      assert.equal(again.attempts, 1);
      await t.store.jobs.release([again.id], 'w');
      const [[third]] = await t.store.jobs.claim({ ...claimOpts, workerId: 'w' });
      assert.equal(third.attempts, 1);
    });

    it('dead-letters a job whose worker died on it max_attempts times', async () => {
      await t.store.jobs.enqueue([job('p', { max_attempts: 1 })]);
      const now = Date.now();
      await t.store.jobs.claim({ ...claimOpts, workerId: 'w', leaseMs: 10, now });
      assert.deepEqual(await t.store.jobs.claim({ ...claimOpts, workerId: 'w', now: now + 100 }), []);
      assert.equal((await t.store.jobs.listDead('default')).length, 1);
    });

    it('respects excluded connections and per-connection slots', async () => {
      await t.store.jobs.enqueue([job('x1', { connection_id: 'c1' }), job('x2', { connection_id: 'c1' }), job('y1', { connection_id: 'c2' })]);
      const none = await t.store.jobs.claim({ ...claimOpts, workerId: 'w', excludeConnections: ['c1', 'c2'] });
      assert.deepEqual(none, []);
      const some = await t.store.jobs.claim({ ...claimOpts, workerId: 'w', slots: new Map([['c1', 1]]), defaultSlots: 5 });
      assert.deepEqual(some.map((g) => g[0].connection_id).sort(), ['c1', 'c2']);
    });

    it('lets later jobs pass a scheduled (deferrable) job that is not due yet, but never run beside it', async () => {
      const now = Date.now();
      await t.store.jobs.enqueue([job('s', { kind: 'flush', run_at: now + 60_000 }), job('s')]);
      const opts = { ...claimOpts, kinds: ['deliver', 'flush'], deferrableKinds: ['flush'], maxBatch: 10, leaseMs: 600_000 };
      const [[d]] = await t.store.jobs.claim({ ...opts, workerId: 'w', now });
      assert.equal(d.kind, 'deliver', 'the delivery passes the not-yet-due flush');
      assert.deepEqual(await t.store.jobs.claim({ ...opts, workerId: 'w2', now: now + 61_000 }), [], 'the due flush waits while the key runs');
      await t.store.jobs.ack([d.id], 'w');
      const [[f]] = await t.store.jobs.claim({ ...opts, workerId: 'w2', now: now + 61_000 });
      assert.equal(f.kind, 'flush');
    });

    it('ignores a second enqueue with the same dedupe key', async () => {
      const a = job('z');
      assert.equal(await t.store.jobs.enqueue([a]), 1);
      assert.equal(await t.store.jobs.enqueue([{ ...a }]), 0);
    });

    if (dialect === 'postgres') {
      it('two processes claiming at once never get the same job or two jobs of one key (SKIP LOCKED)', async () => {
        const keys = Array.from({ length: 40 }, (_, i) => `pk${i}`);
        await t.store.jobs.enqueue(keys.flatMap((k) => [job(k), job(k), job(k)]));
        const second = await Store.open({ dataDir: t.dataDir, databaseUrl: pgUrl(), pgSchema: t.pgSchema });
        try {
          const claimed = new Map<number, string>();
          const running = new Map<string, string>();
          let rounds = 0;
          while (rounds++ < 200) {
            const [a, b] = await Promise.all([
              t.store.jobs.claim({ ...claimOpts, workerId: 'A', limit: 7 }),
              second.jobs.claim({ ...claimOpts, workerId: 'B', limit: 7 }),
            ]);
            for (const [worker, groups] of [
              ['A', a],
              ['B', b],
            ] as const) {
              for (const g of groups) {
                for (const j of g) {
                  assert.equal(claimed.has(j.id), false, `job ${j.id} claimed twice`);
                  claimed.set(j.id, worker);
                  assert.equal(running.has(j.ordering_key), false, `key ${j.ordering_key} claimed twice at once`);
                  running.set(j.ordering_key, worker);
                }
              }
            }
            for (const [worker, groups, store] of [
              ['A', a, t.store],
              ['B', b, second],
            ] as const) {
              for (const g of groups) {
                await store.jobs.ack(
                  g.map((j) => j.id),
                  worker,
                );
                running.delete(g[0].ordering_key);
              }
            }
            if (claimed.size === keys.length * 3) break;
          }
          assert.equal(claimed.size, keys.length * 3);
          assert.ok(new Set(claimed.values()).size === 2, 'both processes did work');
        } finally {
          await second.close();
        }
      });
    }
  });
}

describe('backoff', () => {
  it('grows exponentially with jitter inside [exp/2, exp] and stops at the cap', () => {
    const o = { baseMs: 100, maxMs: 1000 };
    assert.equal(
      backoffDelay(1, o, () => 0),
      50,
    );
    assert.equal(
      backoffDelay(1, o, () => 1),
      100,
    );
    assert.equal(
      backoffDelay(3, o, () => 1),
      400,
    );
    assert.equal(
      backoffDelay(30, o, () => 1),
      1000,
    );
    assert.equal(
      backoffDelay(30, o, () => 0),
      500,
    );
  });
});
