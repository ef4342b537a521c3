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

/** An emulator's answer as raw-HTTP tests read it. */
export interface Res {
  status: number;
  headers: Headers;
  text: string;
  /** Parsed JSON body (undefined when the body is empty or not JSON). */
  body: any;
}

/** Reads an answer: its text, and its JSON when it is JSON. */
export async function readRes(r: Response): Promise<Res> {
  const text = await r.text();
  let body: any;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = undefined;
  }
  return { status: r.status, headers: r.headers, text, body };
}

/** One raw call: JSON by default (`body` is serialised), or `raw` text sent as is; `auth` is the Authorization header. */
export async function rawRequest(
  url: string,
  method: string,
  opts: { auth?: string | null; body?: unknown; raw?: string; headers?: Record<string, string> } = {},
): Promise<Res> {
  const headers: Record<string, string> = { Accept: 'application/json', ...(opts.headers ?? {}) };
  if (opts.auth) headers.Authorization = opts.auth;
  let body = opts.raw;
  if (opts.body !== undefined) {
    body = JSON.stringify(opts.body);
    headers['Content-Type'] ??= 'application/json';
  }
  return readRes(await fetch(url, { method, headers, body }));
}
