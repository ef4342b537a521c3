/**
 * One-way password hashing for sys_user.user_password (scrypt). Only the hash is ever stored.
 * Format: `scrypt$<N>$<salt hex>$<hash hex>`.
 */
import { randomBytes, scrypt, scryptSync, timingSafeEqual } from 'node:crypto';

const N = 4096;
const KEYLEN = 32;
const memo = new Map<string, string>();

export function hashPassword(password: string, saltHex?: string): string {
  const salt = saltHex ?? randomBytes(16).toString('hex');
  const key = `${password}\u0000${salt}`;
  const cached = saltHex ? memo.get(key) : undefined;
  if (cached) return cached;
  const hash = scryptSync(password, Buffer.from(salt, 'hex'), KEYLEN, { N, r: 8, p: 1 }).toString('hex');
  const out = `scrypt$${N}$${salt}$${hash}`;
  if (saltHex) memo.set(key, out);
  return out;
}

export function isPasswordHash(v: unknown): boolean {
  return typeof v === 'string' && /^scrypt\$\d+\$[0-9a-f]+\$[0-9a-f]+$/.test(v);
}

export async function verifyPassword(password: string, stored: unknown): Promise<boolean> {
  if (!isPasswordHash(stored)) return false;
  const [, n, salt, hash] = (stored as string).split('$');
  const expected = Buffer.from(hash, 'hex');
  const actual = await new Promise<Buffer>((resolve, reject) =>
    scrypt(password, Buffer.from(salt, 'hex'), expected.length, { N: Number(n), r: 8, p: 1 }, (err, key) => (err ? reject(err) : resolve(key))),
  );
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}
