import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ConnectionGate, defaultGateOptions } from '../../src/delivery/gate.ts';
import { GroupCommitter } from '../../src/delivery/group-commit.ts';

const opts = { ...defaultGateOptions, concurrency: 2, ratePerSecond: 1000, burst: 1000, failureThreshold: 3, openMs: 60, maxOpenMs: 200 };

describe('connection gate', () => {
  it('limits calls in flight per connection', async () => {
    const gate = new ConnectionGate(opts);
    assert.equal(await gate.acquire(), true);
    assert.equal(await gate.acquire(), true);
    let third = false;
    const waiting = gate.acquire().then((ok) => (third = ok));
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(third, false, 'the third call waits for a slot');
    gate.success();
    await waiting;
    assert.equal(third, true);
  });

  it('opens the circuit after consecutive failures, probes once when half-open, closes on success', async () => {
    const events: string[] = [];
    const gate = new ConnectionGate(opts, (e) => events.push(e.kind));
    for (let i = 0; i < 3; i++) {
      assert.equal(await gate.acquire(), true);
      gate.failure('503');
    }
    assert.equal(gate.breaker, 'open');
    assert.equal(gate.freeSlots(), 0);
    assert.equal(await gate.acquire(), false, 'no calls while open');
    await new Promise((r) => setTimeout(r, 80));
    assert.equal(gate.breaker, 'half-open');
    assert.equal(await gate.acquire(), true, 'one probe');
    assert.equal(await gate.acquire(), false, 'only one probe at a time');
    gate.failure('still down');
    assert.equal(gate.breaker, 'open', 'a failed probe opens it again (for longer)');
    await new Promise((r) => setTimeout(r, 150));
    assert.equal(await gate.acquire(), true);
    gate.success();
    assert.equal(gate.breaker, 'closed');
    assert.deepEqual(events, ['circuit-opened', 'circuit-opened', 'circuit-closed']);
  });

  it('pauses for Retry-After on a 429, halves the rate, and recovers it slowly', async () => {
    const gate = new ConnectionGate({ ...opts, ratePerSecond: 100, burst: 100 });
    assert.equal(await gate.acquire(), true);
    gate.rateLimited(150);
    assert.equal(gate.currentRate, 50);
    assert.ok(gate.blockedUntil() > Date.now() + 100, 'paused until Retry-After');
    assert.equal(gate.freeSlots(), 0);
    const t0 = Date.now();
    assert.equal(await gate.acquire(), true);
    assert.ok(Date.now() - t0 >= 100, 'the next call waited for the pause');
    gate.success();
    assert.ok(gate.currentRate > 50 && gate.currentRate < 100, 'additive recovery');
  });
});

describe('group commit', () => {
  it('answers each submitter after its batch was written, batching concurrent submissions', async () => {
    const batches: number[][] = [];
    const gc = new GroupCommitter<number, number>(
      async (items) => {
        batches.push(items);
        await new Promise((r) => setTimeout(r, 10));
        return items.map((i) => i * 2);
      },
      { maxItems: 50, maxDelayMs: 5 },
    );
    const results = await Promise.all(Array.from({ length: 120 }, (_, i) => gc.submit(i)));
    assert.deepEqual(
      results,
      Array.from({ length: 120 }, (_, i) => i * 2),
    );
    assert.ok(batches.length <= 4, `120 submissions in ${batches.length} transactions`);
    assert.ok(batches.every((b) => b.length <= 50));
    assert.deepEqual(
      batches.flat(),
      Array.from({ length: 120 }, (_, i) => i),
      'in arrival order',
    );
    assert.equal(gc.stats.items, 120);
    await gc.close();
    await assert.rejects(gc.submit(1), /shutting down/);
  });

  it('fails every submitter of a batch whose transaction failed', async () => {
    const gc = new GroupCommitter<number, number>(async () => {
      throw new Error('disk full');
    });
    const all = await Promise.allSettled([gc.submit(1), gc.submit(2)]);
    assert.ok(all.every((r) => r.status === 'rejected'));
  });
});
