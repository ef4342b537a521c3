import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

/**
 * The master key: ITSMC_MASTER_KEY (base64 or hex, ≥ 32 bytes, or any passphrase, which HKDF stretches),
 * else `<dataDir>/master.key`, created 0600 on first start. Extra versions for rotation come from
 * ITSMC_MASTER_KEY_PREVIOUS (`<version>:<key>` list) — the newest version encrypts, all decrypt.
 */
export function loadMasterKeys(dataDir: string, envKey?: string, previous?: string): { version: number; key: Buffer }[] {
  const keys: { version: number; key: Buffer }[] = [];
  for (const entry of (previous ?? '').split(',').filter(Boolean)) {
    const [version, key] = entry.split(':');
    if (Number(version) > 0 && key) keys.push({ version: Number(version), key: Buffer.from(key) });
  }
  const nextVersion = keys.length ? Math.max(...keys.map((k) => k.version)) + 1 : 1;
  keys.push({
    version: nextVersion,
    key: envKey ? Buffer.from(envKey) : readOrCreateSecretFile(path.join(dataDir, 'master.key'), () => randomBytes(32).toString('base64url')),
  });
  return keys;
}

/** Reads a secret file, creating it with mode 0600 (atomically, never overwriting) when absent; an existing one is tightened to 0600. */
export function readOrCreateSecretFile(file: string, make: () => string): Buffer {
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  try {
    fs.writeFileSync(file, make() + '\n', { mode: 0o600, flag: 'wx' });
  } catch (err: any) {
    if (err.code !== 'EEXIST') throw err;
    fs.chmodSync(file, 0o600);
  }
  return Buffer.from(fs.readFileSync(file, 'utf8').trim());
}

export function newToken(prefix: string): string {
  return `${prefix}_${randomBytes(24).toString('base64url')}`;
}

/** API keys and webhook secrets are long random tokens, so a plain SHA-256 is a sufficient one-way hash. */
export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

export function sameToken(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
