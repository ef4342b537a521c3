/** Helpers for the ServiceNow sandbox tests: a small instance and raw-HTTP calls with fetch. */
import { rawRequest, type Res } from '../common/test-support.ts';
export type { Res };
import type { ServiceNowSandbox, ServiceNowSandboxOptions } from './index.ts';
import { startServiceNowSandbox } from './index.ts';

export const basic = (user: string, password: string): string => 'Basic ' + Buffer.from(`${user}:${password}`).toString('base64');

export const ADMIN = basic('admin', 'admin');
export const INTEGRATION = basic('itsmc.integration', 'sandbox');

export const SMALL = { incidents: 300, changeRequests: 60, computers: 80 };

export function startSmall(opts: ServiceNowSandboxOptions = {}): Promise<ServiceNowSandbox> {
  return startServiceNowSandbox({ volume: SMALL, ...opts });
}

export async function call(
  sb: ServiceNowSandbox,
  method: string,
  path: string,
  opts: { auth?: string | null; body?: unknown; headers?: Record<string, string>; raw?: string } = {},
): Promise<Res> {
  const auth = opts.auth === undefined ? ADMIN : opts.auth;
  return rawRequest(sb.url + path, method, { ...opts, auth });
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
