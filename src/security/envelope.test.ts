import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { SecretBox } from './envelope.ts';

describe('SecretBox (AES-256-GCM envelope)', () => {
  const box = new SecretBox([{ version: 1, key: randomBytes(32) }]);

  it('round-trips a secret and never repeats a ciphertext', () => {
    const a = box.encrypt('hunter2', 'connection:1');
    const b = box.encrypt('hunter2', 'connection:1');
    assert.notEqual(a, b);
    assert.equal(box.decrypt(a, 'connection:1'), 'hunter2');
    assert.ok(!a.includes('hunter2'));
  });

  it('refuses a ciphertext moved to another record (associated data)', () => {
    const a = box.encrypt('hunter2', 'connection:1');
    assert.throws(() => box.decrypt(a, 'connection:2'));
  });

  it('refuses a tampered ciphertext', () => {
    const [v, iv, tag, ct] = box.encrypt('hunter2', 'r').split(':');
    const flipped = Buffer.from(ct, 'base64url');
    flipped[0] ^= 1;
    assert.throws(() => box.decrypt([v, iv, tag, flipped.toString('base64url')].join(':'), 'r'));
  });

  it('decrypts old versions after rotation and rewraps them with the newest key', () => {
    const k1 = randomBytes(32);
    const old = new SecretBox([{ version: 1, key: k1 }]).encrypt('s', 'r');
    const rotated = new SecretBox([
      { version: 1, key: k1 },
      { version: 2, key: randomBytes(32) },
    ]);
    assert.equal(rotated.decrypt(old, 'r'), 's');
    const rewrapped = rotated.rewrap(old, 'r');
    assert.match(rewrapped, /^v2:/);
    assert.equal(rotated.decrypt(rewrapped, 'r'), 's');
  });
});
