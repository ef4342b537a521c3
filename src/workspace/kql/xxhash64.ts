/**
 * xxHash64 (seed 0), the algorithm behind Kusto's `hash()`: a string hashes its UTF-8 bytes, a datetime
 * the 8 little-endian bytes of its ticks (100 ns since 0001-01-01). Kusto's documented examples:
 * hash("World") = 1846988464401551951, hash(datetime(2015-01-01)) = 1380966698541616202.
 * PostgreSQL runs the same algorithm in PL/pgSQL (`kql_xxhash64` in ../tables.ts).
 */
const M = (1n << 64n) - 1n;
const P1 = 11400714785074694791n;
const P2 = 14029467366897019727n;
const P3 = 1609587929392839161n;
const P4 = 9650029242287828579n;
const P5 = 2870177450012600261n;

const rotl = (x: bigint, r: bigint): bigint => ((x << r) | (x >> (64n - r))) & M;
const mul = (a: bigint, b: bigint): bigint => (a * b) & M;
const round = (acc: bigint, input: bigint): bigint => mul(rotl((acc + mul(input, P2)) & M, 31n), P1);
const merge = (acc: bigint, v: bigint): bigint => (mul(acc ^ round(0n, v), P1) + P4) & M;

/** The unsigned 64-bit xxHash64 of `buf`. */
export function xxhash64(buf: Uint8Array): bigint {
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const len = buf.length;
  let p = 0;
  let h: bigint;
  if (len >= 32) {
    let v1 = (P1 + P2) & M;
    let v2 = P2;
    let v3 = 0n;
    let v4 = -P1 & M;
    for (; p <= len - 32; p += 32) {
      v1 = round(v1, view.getBigUint64(p, true));
      v2 = round(v2, view.getBigUint64(p + 8, true));
      v3 = round(v3, view.getBigUint64(p + 16, true));
      v4 = round(v4, view.getBigUint64(p + 24, true));
    }
    h = (rotl(v1, 1n) + rotl(v2, 7n) + rotl(v3, 12n) + rotl(v4, 18n)) & M;
    for (const v of [v1, v2, v3, v4]) h = merge(h, v);
  } else h = P5;
  h = (h + BigInt(len)) & M;
  for (; p + 8 <= len; p += 8) h = (mul(rotl(h ^ round(0n, view.getBigUint64(p, true)), 27n), P1) + P4) & M;
  if (p + 4 <= len) {
    h = (mul(rotl(h ^ mul(BigInt(view.getUint32(p, true)), P1), 23n), P2) + P3) & M;
    p += 4;
  }
  for (; p < len; p++) h = mul(rotl(h ^ mul(BigInt(buf[p]), P5), 11n), P1);
  h = mul(h ^ (h >> 33n), P2);
  h = mul(h ^ (h >> 29n), P3);
  return h ^ (h >> 32n);
}

/** Ticks (100 ns) between 0001-01-01 and the Unix epoch. */
const EPOCH_TICKS = 621355968000000000n;

/**
 * Kusto `hash(value [, mod])`: the signed 64-bit hash, or with `mod` the remainder of the unsigned hash
 * (0 … mod − 1, as the reference states). `value` is a string or a datetime in epoch milliseconds.
 */
export function kustoHash(value: string | number | bigint, isDatetime: boolean, mod: number | bigint | null): bigint | null {
  let bytes: Uint8Array;
  if (isDatetime) {
    bytes = new Uint8Array(8);
    new DataView(bytes.buffer).setBigInt64(0, BigInt(value) * 10000n + EPOCH_TICKS, true);
  } else bytes = new TextEncoder().encode(String(value));
  const h = xxhash64(bytes);
  if (mod === null) return BigInt.asIntN(64, h);
  return BigInt(mod) > 0n ? h % BigInt(mod) : null;
}
