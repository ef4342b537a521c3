/** Helpers for the Provance sandbox tests: a small instance, tokens and raw-HTTP calls with fetch. */
import { readRes, type Res } from '../common/test-support.ts';
export type { Res };
import type { ProvanceSandbox, ProvanceSandboxOptions } from './index.ts';
import { SANDBOX_CREDENTIALS, startProvanceSandbox } from './index.ts';

export const SMALL = { incidents: 300, changeRequests: 60, cis: 40 };
export const ADMIN_BASIC = 'Basic ' + Buffer.from(`${SANDBOX_CREDENTIALS.admin.username}:${SANDBOX_CREDENTIALS.admin.password}`).toString('base64');

export function startSmall(opts: ProvanceSandboxOptions = {}): Promise<ProvanceSandbox> {
  return startProvanceSandbox({ volume: SMALL, ...opts });
}

/** POST a form to the sandbox tenant's v1 or v2 token endpoint. */
export async function tokenRequest(sb: ProvanceSandbox, form: Record<string, string>, endpoint: 'v1' | 'v2' = 'v2', tenant = 'sandbox'): Promise<Res> {
  const path = endpoint === 'v2' ? 'oauth2/v2.0/token' : 'oauth2/token';
  return readRes(
    await fetch(`${sb.url}/${tenant}/${path}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(form).toString(),
    }),
  );
}

export function passwordForm(sb: ProvanceSandbox, over: Record<string, string> = {}): Record<string, string> {
  return {
    grant_type: 'password',
    client_id: SANDBOX_CREDENTIALS.clientId,
    username: SANDBOX_CREDENTIALS.integration.username,
    password: SANDBOX_CREDENTIALS.integration.password,
    scope: `${sb.url}/.default offline_access openid profile`,
    ...over,
  };
}

/** An access token of the integration user. */
export async function accessToken(sb: ProvanceSandbox): Promise<string> {
  const r = await tokenRequest(sb, passwordForm(sb));
  if (r.status !== 200) throw new Error(`token request failed: ${r.text}`);
  return r.body.access_token as string;
}

/** A Web API call (path relative to /api/data/v9.2, or absolute). */
export async function api(
  sb: ProvanceSandbox,
  token: string | null,
  method: string,
  path: string,
  opts: { body?: unknown; headers?: Record<string, string> } = {},
): Promise<Res> {
  const headers: Record<string, string> = { Accept: 'application/json', 'OData-MaxVersion': '4.0', 'OData-Version': '4.0', ...(opts.headers ?? {}) };
  if (token) headers.Authorization = `Bearer ${token}`;
  if (opts.body !== undefined) headers['Content-Type'] = 'application/json; charset=utf-8';
  const url = path.startsWith('http') ? path : `${sb.apiUrl}/${path}`;
  return readRes(await fetch(url, { method, headers, body: opts.body === undefined ? undefined : JSON.stringify(opts.body) }));
}

/** A call to the sandbox admin API. */
export async function adminCall(sb: ProvanceSandbox, method: string, path: string, body?: unknown): Promise<Res> {
  return readRes(
    await fetch(`${sb.url}/_sandbox/${path}`, {
      method,
      headers: { Authorization: ADMIN_BASIC, ...(body === undefined ? {} : { 'Content-Type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    }),
  );
}

export const FORMATTED = '@OData.Community.Display.V1.FormattedValue';
