import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';

/**
 * AES-256-GCM envelope for secrets at rest. The record id is the associated data, so a ciphertext copied
 * onto another record does not decrypt. Format: `v<keyVersion>:<iv>:<tag>:<ciphertext>` (base64url).
 * Rotation: add a new key version; `decrypt` accepts every known version, `encrypt` uses the newest.
 */
export class SecretBox {
  private readonly keys = new Map<number, Buffer>();
  private readonly current: number;

  constructor(masterKeys: { version: number; key: Buffer }[]) {
    if (masterKeys.length === 0) throw new Error('SecretBox needs at least one master key');
    for (const { version, key } of masterKeys) {
      this.keys.set(version, Buffer.from(hkdfSync('sha256', key, 'openitsmc', `secrets-v${version}`, 32)));
    }
    this.current = Math.max(...masterKeys.map((k) => k.version));
  }

  encrypt(plaintext: string, recordId: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.keys.get(this.current)!, iv);
    cipher.setAAD(Buffer.from(recordId));
    const ct = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return [`v${this.current}`, iv, cipher.getAuthTag(), ct].map((part) => (typeof part === 'string' ? part : part.toString('base64url'))).join(':');
  }

  decrypt(envelope: string, recordId: string): string {
    const [version, iv, tag, ct] = envelope.split(':');
    const key = this.keys.get(Number(version?.slice(1)));
    if (!key || !iv || !tag || ct === undefined) throw new Error('secret envelope is malformed or its key version is unknown');
    const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
    decipher.setAAD(Buffer.from(recordId));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    return Buffer.concat([decipher.update(Buffer.from(ct, 'base64url')), decipher.final()]).toString('utf8');
  }

  /** Re-encrypts with the newest key when the envelope was made with an older one. */
  rewrap(envelope: string, recordId: string): string {
    return envelope.startsWith(`v${this.current}:`) ? envelope : this.encrypt(this.decrypt(envelope, recordId), recordId);
  }
}
