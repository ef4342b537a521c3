import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { storedCorrelationKey } from './correlation.ts';
import { PartnerError } from './partner.ts';

describe('storedCorrelationKey', () => {
  test('a key that fits is stored as it is', () => {
    assert.equal(storedCorrelationKey('oitsmc:abc', 40), 'oitsmc:abc');
  });

  test('a key too long, with surrounding white space, or refused by the partner rule becomes a stable sha-<sha256 hex>', () => {
    const hashed = /^sha-[0-9a-f]{64}$/;
    assert.match(storedCorrelationKey('x'.repeat(41), 40), hashed);
    assert.match(storedCorrelationKey(' oitsmc:abc', 40), hashed);
    assert.match(
      storedCorrelationKey('oitsmc:a^b', 40, (k) => !k.includes('^')),
      hashed,
    );
    assert.equal(storedCorrelationKey('x'.repeat(41), 40), storedCorrelationKey('x'.repeat(41), 40));
    assert.notEqual(storedCorrelationKey('x'.repeat(41), 40), storedCorrelationKey('y'.repeat(41), 40));
  });

  test('an empty key is refused as invalid', () => {
    assert.throws(
      () => storedCorrelationKey('', 40),
      (e: unknown) => e instanceof PartnerError && e.kind === 'invalid',
    );
  });
});
