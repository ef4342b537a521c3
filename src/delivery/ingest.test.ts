import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { timeOrderedId } from './ingest.ts';

describe('timeOrderedId', () => {
  it('gives unique, increasing UUID-shaped ids across several refills of its random pool', () => {
    const ids = Array.from({ length: 5_000 }, () => timeOrderedId());
    assert.equal(new Set(ids).size, ids.length);
    for (let i = 1; i < ids.length; i++) assert.ok(ids[i] > ids[i - 1], `${ids[i]} after ${ids[i - 1]}`);
    for (const id of ids) assert.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}$/);
  });

  it('puts the time first: an id made later sorts after, whatever its random part', () => {
    const early = timeOrderedId(Date.UTC(2026, 0, 1));
    const late = timeOrderedId(Date.UTC(2026, 0, 1, 0, 0, 0, 1));
    assert.ok(late > early);
    assert.equal(early.slice(0, 13), '019b76da-a800');
  });

  it('draws a fresh random part for each id made in the same millisecond', () => {
    const now = Date.UTC(2026, 5, 1);
    const tails = new Set(Array.from({ length: 1_000 }, () => timeOrderedId(now).slice(19)));
    assert.equal(tails.size, 1_000);
  });
});
