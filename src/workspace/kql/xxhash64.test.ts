/**
 * Kusto's hash() is xxHash64: the JavaScript implementation (SQLite) against published xxHash64 vectors
 * and Kusto's documented values, and PostgreSQL's PL/pgSQL implementation against it for every input
 * length up to 80 bytes (the 1-, 4-, 8- and 32-byte paths of the algorithm).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { kustoHash, xxhash64 } from './xxhash64.ts';
import { tryPgTestRunner, type TestRunner } from './test-helpers.ts';

const utf8 = (s: string) => new TextEncoder().encode(s);

describe('xxHash64 as Kusto hash() uses it', () => {
  it('matches the published xxHash64 vectors (seed 0)', () => {
    assert.equal(xxhash64(utf8('')).toString(16), 'ef46db3751d8e999');
    assert.equal(xxhash64(utf8('a')).toString(16), 'd24ec4f1a98c6e5b');
    assert.equal(xxhash64(utf8('abc')).toString(16), '44bc2cf5ad770999');
    assert.equal(xxhash64(utf8('Nobody inspects the spammish repetition')).toString(16), 'fbcea83c8a378bf1');
  });

  it("gives Kusto's documented hashes of a string and a datetime, and the remainder for a modulus", () => {
    assert.equal(kustoHash('World', false, null), 1846988464401551951n);
    assert.equal(kustoHash('World', false, 100), 51n);
    assert.equal(kustoHash(Date.UTC(2015, 0, 1), true, null), 1380966698541616202n);
    assert.equal(kustoHash('World', false, 0), null);
  });
});

describe('xxHash64 on PostgreSQL (kql_xxhash64)', () => {
  let runner: TestRunner | undefined;
  let skipReason: string | undefined;
  before(async () => {
    const r = await tryPgTestRunner();
    if (typeof r === 'string') skipReason = r;
    else runner = r;
  });
  after(async () => {
    await runner?.close();
  });

  it('equals the JavaScript hash for every length from 0 to 80 bytes, signed and modulo 97', async (t) => {
    if (!runner) return t.skip(skipReason);
    const inputs = Array.from({ length: 81 }, (_, n) => Array.from({ length: n }, (_, i) => String.fromCharCode(97 + ((i * 7 + n) % 26))).join(''));
    inputs.push('héllo wörld — ✓', 'x'.repeat(1000));
    const { rows } = await runner.query(
      "SELECT s, kql_xxhash64(convert_to(s, 'UTF8'), NULL)::text, kql_xxhash64(convert_to(s, 'UTF8'), 97) FROM unnest($1::text[]) WITH ORDINALITY AS u(s, n) ORDER BY n",
      [inputs],
    );
    assert.equal(rows.length, inputs.length);
    for (const [s, h, m] of rows as [string, string, string | number][]) {
      assert.equal(h, String(kustoHash(s, false, null)), `hash of ${JSON.stringify(s.slice(0, 20))} (${s.length})`);
      assert.equal(String(m), String(kustoHash(s, false, 97)), `hash modulo 97 of ${JSON.stringify(s.slice(0, 20))}`);
    }
  });

  it('hashes a datetime as the little-endian bytes of its ticks', async (t) => {
    if (!runner) return t.skip(skipReason);
    const ms = [Date.UTC(2015, 0, 1), Date.UTC(1970, 0, 1), Date.UTC(2026, 10, 27, 19, 30, 1, 234)];
    const { rows } = await runner.query('SELECT kql_xxhash64(kql_ticks_bytes(x), NULL)::text FROM unnest($1::bigint[]) WITH ORDINALITY AS u(x, n) ORDER BY n', [
      ms,
    ]);
    assert.deepEqual(
      rows.map((r) => r[0]),
      ms.map((x) => String(kustoHash(x, true, null))),
    );
  });
});
