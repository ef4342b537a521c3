/** Helpers shared by the sync and query integration tests: the sandbox's Table API and the Logs query API. */
import assert from 'node:assert/strict';
import type { ServiceNowSandbox } from '../../src/sandbox/servicenow/index.ts';
import { sandboxConnectionInput } from '../../src/runtime/quickstart.ts';
import { serviceNowPartner } from '../../src/partners/servicenow/descriptor.ts';
import { serviceNowSandbox } from '../../src/sandbox/servicenow/descriptor.ts';

export const serviceNowWithSandbox = { ...serviceNowPartner, sandbox: serviceNowSandbox };
import { api } from '../helpers/stores.ts';

export const SN_ADMIN = 'Basic ' + Buffer.from('admin:admin').toString('base64');

/** A call to the sandbox as its admin (Table API and /api/x_sandbox). */
export async function snow(sandbox: ServiceNowSandbox | string, method: string, pathname: string, body?: unknown) {
  const base = typeof sandbox === 'string' ? sandbox : sandbox.url;
  const res = await fetch(base + pathname, {
    method,
    headers: { authorization: SN_ADMIN, accept: 'application/json', ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : undefined };
}

/** The number of records the sandbox's Table API reports for an encoded query (X-Total-Count). */
export async function snCount(sandbox: ServiceNowSandbox, table: string, query: string): Promise<number> {
  const res = await snow(sandbox, 'GET', `/api/now/table/${table}?sysparm_limit=1&sysparm_fields=sys_id&sysparm_query=${encodeURIComponent(query)}`);
  assert.equal(res.status, 200, JSON.stringify(res.body));
  const total = res.headers.get('x-total-count');
  assert.ok(total !== null, 'the sandbox sends X-Total-Count');
  return Number(total);
}

/** Choice label → value of a field (en), as the Table API shows sys_choice. */
export async function snChoices(sandbox: ServiceNowSandbox, table: string, field: string): Promise<Map<string, string>> {
  const res = await snow(
    sandbox,
    'GET',
    `/api/now/table/sys_choice?sysparm_fields=value,label,language,inactive&sysparm_query=${encodeURIComponent(`name=${table}^element=${field}`)}`,
  );
  assert.equal(res.status, 200);
  const map = new Map<string, string>();
  for (const r of res.body.result as { value: string; label: string; language: string; inactive: string }[]) {
    if (r.inactive === 'true' || (r.language && r.language !== 'en')) continue;
    map.set(r.label, r.value);
  }
  return map;
}

/** ISO time → the Table API's UTC literal (seconds floored), as the client sends it. */
export function snTime(iso: string): string {
  return new Date(Date.parse(iso)).toISOString().slice(0, 19).replace('T', ' ');
}

export interface Kql {
  status: number;
  body: any;
  /** Rows of PrimaryResult as objects keyed by column name. */
  rows: Record<string, any>[];
}

/** A KQL query over the Logs query API. */
export async function kql(base: string, token: string, query: string, opts: { workspace?: string; timespan?: string } = {}): Promise<Kql> {
  const res = await api(base, token, 'POST', `/v1/workspaces/${opts.workspace ?? 'default'}/query`, {
    query,
    ...(opts.timespan ? { timespan: opts.timespan } : {}),
  });
  const table = res.body?.tables?.[0];
  const rows = table ? (table.rows as unknown[][]).map((r) => Object.fromEntries((table.columns as { name: string }[]).map((c, i) => [c.name, r[i]]))) : [];
  return { status: res.status, body: res.body, rows };
}

/** `… | summarize n = count() by <column>` as a map (label → count). */
export async function kqlCounts(base: string, token: string, query: string, column: string): Promise<Map<string, number>> {
  const res = await kql(base, token, query);
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return new Map(res.rows.map((r) => [String(r[column]), Number(r.n)]));
}

/** Connection body for the sandbox's seeded integration user and OAuth client. */
export function sandboxConnection(sandbox: ServiceNowSandbox, extra: Record<string, unknown> = {}) {
  return sandboxConnectionInput(serviceNowWithSandbox, sandbox.url, extra);
}

export async function until<T>(what: string, fn: () => Promise<T | undefined | null | false>, timeoutMs = 60_000, everyMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
