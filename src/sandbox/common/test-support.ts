/** Test helpers shared by the emulators' tests. */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestCertificate {
  /** PEM texts, as the sandboxes' `tls` option takes them. */
  cert: string;
  key: string;
  /** The certificate's file (for NODE_EXTRA_CA_CERTS). */
  certFile: string;
  /** Deletes the temporary folder. */
  remove(): void;
}

/** A one-day self-signed certificate for 127.0.0.1 made by openssl in a temporary folder named `<prefix>…`. */
export function selfSignedCertificate(prefix: string): TestCertificate {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const certFile = join(dir, 'cert.pem');
  const keyFile = join(dir, 'key.pem');
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-subj',
      '/CN=127.0.0.1',
      '-addext',
      'subjectAltName=IP:127.0.0.1',
      '-days',
      '1',
      '-keyout',
      keyFile,
      '-out',
      certFile,
    ],
    { stdio: 'ignore' },
  );
  return {
    cert: readFileSync(certFile, 'utf8'),
    key: readFileSync(keyFile, 'utf8'),
    certFile,
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
