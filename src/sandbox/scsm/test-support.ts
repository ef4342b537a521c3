/** Helpers for the SCSM sandbox tests: a small instance, tokens and raw-HTTP calls with fetch. */
import { rawRequest, type Res } from '../common/test-support.ts';
export type { Res };
import type { ScsmSandbox, ScsmSandboxOptions } from './index.ts';
import { SEEDED_CREDENTIALS, startScsmSandbox } from './index.ts';

export const SMALL = { incidents: 300, changeRequests: 60, computers: 40 };
export const INCIDENT = 'System.WorkItem.Incident';
export const CHANGE = 'System.WorkItem.ChangeRequest';
export const ADMIN = 'Basic ' + Buffer.from('admin:admin').toString('base64');

export function startSmall(opts: ScsmSandboxOptions = {}): Promise<ScsmSandbox> {
  return startScsmSandbox({ volume: SMALL, ...opts });
}

export async function call(
  sb: ScsmSandbox,
  method: string,
  path: string,
  opts: { token?: string | null; auth?: string; body?: unknown; headers?: Record<string, string>; raw?: string } = {},
): Promise<Res> {
  const auth = opts.auth ?? (opts.token ? `Bearer ${opts.token}` : undefined);
  return rawRequest(sb.url + path, method, { ...opts, auth });
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
