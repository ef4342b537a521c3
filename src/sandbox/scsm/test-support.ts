/** Helpers for the SCSM sandbox tests: a small instance, tokens and raw-HTTP calls with fetch. */
import type { ScsmSandbox, ScsmSandboxOptions } from './index.ts';
import { SEEDED_CREDENTIALS, startScsmSandbox } from './index.ts';

export const SMALL = { incidents: 300, changeRequests: 60, computers: 40 };
export const INCIDENT = 'System.WorkItem.Incident';
export const CHANGE = 'System.WorkItem.ChangeRequest';
export const ADMIN = 'Basic ' + Buffer.from('admin:admin').toString('base64');

export function startSmall(opts: ScsmSandboxOptions = {}): Promise<ScsmSandbox> {
  return startScsmSandbox({ volume: SMALL, ...opts });
}

export interface Res {
  status: number;
  headers: Headers;
  text: string;
  body: any;
}

export async function call(
  sb: ScsmSandbox,
  method: string,
  path: string,
  opts: { token?: string | null; auth?: string; body?: unknown; headers?: Record<string, string>; raw?: string } = {},
): Promise<Res> {
  const headers: Record<string, string> = { Accept: 'application/json', ...(opts.headers ?? {}) };
  if (opts.auth) headers.Authorization = opts.auth;
  else if (opts.token) headers.Authorization = `Bearer ${opts.token}`;
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

/** POSTs a form to a token endpoint of the sandbox tenant. */
export function tokenRequest(sb: ScsmSandbox, form: Record<string, string>, version: 1 | 2 = 1, tenant = 'sandbox'): Promise<Res> {
  return call(sb, 'POST', version === 1 ? `/${tenant}/oauth2/token` : `/${tenant}/oauth2/v2.0/token`, {
    raw: new URLSearchParams(form).toString(),
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
  });
}

/** A client-credentials token for the whitelisted app (or another registered one). */
export async function token(sb: ScsmSandbox, client: { clientId: string; clientSecret: string } = SEEDED_CREDENTIALS): Promise<string> {
  const r = await tokenRequest(sb, { grant_type: 'client_credentials', client_id: client.clientId, client_secret: client.clientSecret, resource: sb.url });
  if (r.status !== 200) throw new Error(`token: ${r.status} ${r.text}`);
  return r.body.access_token;
}

export function simple(property: string, operator: string, value: string, generic = true): string {
  const left = generic
    ? `<GenericProperty>${property}</GenericProperty>`
    : `<Property>$Context/Property[Type='System.WorkItem.Incident']/${property}$</Property>`;
  return `<Expression><SimpleExpression><ValueExpressionLeft>${left}</ValueExpressionLeft><Operator>${operator}</Operator><ValueExpressionRight><Value>${value}</Value></ValueExpressionRight></SimpleExpression></Expression>`;
}

export function criteria(expression: string): string {
  return `<Criteria xmlns="http://Microsoft.EnterpriseManagement.Core.Criteria/">${expression}</Criteria>`;
}

export function or(...expressions: string[]): string {
  return `<Expression><Or>${expressions.join('')}</Or></Expression>`;
}

export function and(...expressions: string[]): string {
  return `<Expression><And>${expressions.join('')}</And></Expression>`;
}

/** A Field list value by property name. */
export function fieldOf(item: { fields: { name: string; value: unknown; valueDisplayName: unknown }[] }, name: string) {
  const f = item.fields.find((x) => x.name === name);
  if (!f) throw new Error(`no field ${name}`);
  return f;
}
