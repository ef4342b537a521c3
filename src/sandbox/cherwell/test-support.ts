/** Helpers for the Cherwell sandbox tests: a small instance and raw-HTTP calls with fetch. */
import { rawRequest, type Res } from '../common/test-support.ts';
export type { Res };
import type { CherwellSandbox, CherwellSandboxOptions } from './index.ts';
import { SANDBOX_CREDENTIALS, startCherwellSandbox } from './index.ts';

export const SMALL = { incidents: 300, changeRequests: 60, configItems: 40 };
export const CLIENT_ID = SANDBOX_CREDENTIALS.restClient.clientId;
export const ADMIN = 'Basic ' + Buffer.from(`${SANDBOX_CREDENTIALS.admin.user}:${SANDBOX_CREDENTIALS.admin.password}`).toString('base64');
export const INCIDENT_ID = '6dd53665c0c24cab86870a21cf6434ae';

export function startSmall(opts: CherwellSandboxOptions = {}): Promise<CherwellSandbox> {
  return startCherwellSandbox({ volume: SMALL, now: '2026-11-20T12:00:00Z', ...opts });
}

export async function call(
  sb: CherwellSandbox,
  method: string,
  path: string,
  opts: { auth?: string | null; body?: unknown; raw?: string; headers?: Record<string, string> } = {},
): Promise<Res> {
  return rawRequest(sb.apiUrl + path, method, opts);
}

export function token(sb: CherwellSandbox, form: Record<string, string>, query = `?auth_mode=Internal&api_key=${CLIENT_ID}`): Promise<Res> {
  return call(sb, 'POST', '/token' + query, {
    raw: new URLSearchParams(form).toString(),
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
  });
}

export function passwordForm(overrides: Record<string, string> = {}): Record<string, string> {
  return {
    grant_type: 'password',
    client_id: CLIENT_ID,
    username: SANDBOX_CREDENTIALS.integration.user,
    password: SANDBOX_CREDENTIALS.integration.password,
    ...overrides,
  };
}

/** Logs in and returns the `Authorization` header value. */
export async function bearer(sb: CherwellSandbox): Promise<string> {
  const r = await token(sb, passwordForm());
  if (r.status !== 200) throw new Error(`login failed: ${r.status} ${r.text}`);
  return 'Bearer ' + r.body.access_token;
}

export async function fieldIds(sb: CherwellSandbox, auth: string, busObId: string): Promise<Record<string, string>> {
  const r = await call(sb, 'POST', '/api/V1/getbusinessobjecttemplate', { auth, body: { busObId, includeAll: true } });
  return Object.fromEntries((r.body.fields as { name: string; fieldId: string }[]).map((f) => [f.name, f.fieldId]));
}

export async function busObId(sb: CherwellSandbox, auth: string, name: string): Promise<string> {
  const r = await call(sb, 'GET', `/api/V1/getbusinessobjectsummary/busobname/${name}`, { auth });
  return r.body[0].busObId;
}

export function fieldValue(bo: { fields: { name: string; value: string }[] }, name: string): string | undefined {
  return bo.fields.find((f) => f.name === name)?.value;
}
