/** Helpers for the ServiceNow sandbox tests: a small instance and raw-HTTP calls with fetch. */
import type { ServiceNowSandbox, ServiceNowSandboxOptions } from './index.ts';
import { startServiceNowSandbox } from './index.ts';

export const basic = (user: string, password: string): string => 'Basic ' + Buffer.from(`${user}:${password}`).toString('base64');

export const ADMIN = basic('admin', 'admin');
export const INTEGRATION = basic('itsmc.integration', 'sandbox');

export const SMALL = { incidents: 300, changeRequests: 60, computers: 80 };

export function startSmall(opts: ServiceNowSandboxOptions = {}): Promise<ServiceNowSandbox> {
  return startServiceNowSandbox({ volume: SMALL, ...opts });
}

export interface Res {
  status: number;
  headers: Headers;
  text: string;
  /** Parsed JSON body (undefined when the body is empty or not JSON). */
  body: any;
}

export async function call(
  sb: ServiceNowSandbox,
  method: string,
  path: string,
  opts: { auth?: string | null; body?: unknown; headers?: Record<string, string>; raw?: string } = {},
): Promise<Res> {
  const headers: Record<string, string> = { Accept: 'application/json', ...(opts.headers ?? {}) };
  const auth = opts.auth === undefined ? ADMIN : opts.auth;
  if (auth) headers.Authorization = auth;
  let body: string | undefined = opts.raw;
  if (opts.body !== undefined) {
    body = JSON.stringify(opts.body);
    headers['Content-Type'] ??= 'application/json';
  }
  const r = await fetch(sb.url + path, { method, headers, body });
  const text = await r.text();
  let parsed: any;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = undefined;
  }
  return { status: r.status, headers: r.headers, text, body: parsed };
}

/** POST a form to oauth_token.do. */
export function token(sb: ServiceNowSandbox, form: Record<string, string>): Promise<Res> {
  return call(sb, 'POST', '/oauth_token.do', {
    auth: null,
    raw: new URLSearchParams(form).toString(),
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
  });
}

export const q = encodeURIComponent;
