import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PartnerError } from '../partners/partner.ts';
import { failurePolicy, type FailureInput, type FailureOutcome } from './failure-policy.ts';

const NOW = 1_000_000;
const base: Omit<FailureInput, 'error'> = {
  attempts: 1,
  maxAttempts: 5,
  now: NOW,
  authPauseMs: 30_000,
  backoff: { baseMs: 1000, maxMs: 60_000 },
  random: () => 1,
};
const pe = (kind: PartnerError['kind'], retryAfterMs?: number) => new PartnerError(kind, `${kind} happened`, { retryAfterMs });

describe('delivery failure policy', () => {
  const table: [string, Partial<FailureInput> & Pick<FailureInput, 'error'>, FailureOutcome][] = [
    ['a lost lease changes nothing', { error: { leaseLost: true } }, { kind: 'ignore' }],
    ['a paused connection waits for it, at least 50 ms', { error: { blockedUntil: NOW + 10 } }, { kind: 'wait', runAt: NOW + 50, markConnection: false }],
    ['a paused connection waits until it reopens', { error: { blockedUntil: NOW + 5000 } }, { kind: 'wait', runAt: NOW + 5000, markConnection: false }],
    [
      "429 waits the partner's Retry-After without using an attempt",
      { error: pe('rate-limited', 7000) },
      { kind: 'wait', runAt: NOW + 7000, markConnection: false },
    ],
    ['429 without Retry-After waits a second', { error: pe('rate-limited') }, { kind: 'wait', runAt: NOW + 1000, markConnection: false }],
    ['429 never waits less than 100 ms', { error: pe('rate-limited', 0) }, { kind: 'wait', runAt: NOW + 100, markConnection: false }],
    ['an auth failure pauses and marks the connection', { error: pe('auth') }, { kind: 'wait', runAt: NOW + 30_000, markConnection: true }],
    ['an auth failure pauses even on the last attempt', { error: pe('auth'), attempts: 5 }, { kind: 'wait', runAt: NOW + 30_000, markConnection: true }],
    ['invalid data is dead-lettered at once', { error: pe('invalid') }, { kind: 'dead-letter', message: 'invalid: invalid happened' }],
    ['forbidden is dead-lettered at once', { error: pe('forbidden') }, { kind: 'dead-letter', message: 'forbidden: forbidden happened' }],
    ['not-found is dead-lettered at once', { error: pe('not-found') }, { kind: 'dead-letter', message: 'not-found: not-found happened' }],
    ['unavailable retries with backoff', { error: pe('unavailable') }, { kind: 'retry', runAt: NOW + 1000 }],
    ['the backoff grows with the attempts', { error: pe('unavailable'), attempts: 3 }, { kind: 'retry', runAt: NOW + 4000 }],
    ['a protocol error retries too', { error: pe('protocol') }, { kind: 'retry', runAt: NOW + 1000 }],
    ['an unexpected error retries', { error: new Error('boom') }, { kind: 'retry', runAt: NOW + 1000 }],
    [
      'the last attempt of a retryable error is dead-lettered',
      { error: pe('unavailable'), attempts: 5 },
      { kind: 'dead-letter', message: 'gave up after 5 attempts: unavailable: unavailable happened' },
    ],
  ];
  for (const [name, input, expected] of table) {
    it(name, () => assert.deepEqual(failurePolicy({ ...base, ...input }), expected));
  }
});
