/**
 * The partners the delivery tests run against, each behind one probe: how to start its sandbox, the
 * connection body, its admin API (faults, stats), and how to read back the work items the connector made
 * (through the sandbox's own API, never through the connector). Chaos, crash and end-to-end tests loop over
 * PARTNERS instead of being copied per partner.
 */
import { SANDBOX_CREDENTIALS, startCherwellSandbox } from '../../src/sandbox/cherwell/index.ts';
import { startServiceNowSandbox } from '../../src/sandbox/servicenow/index.ts';
import { sandboxConnectionInput } from '../../src/runtime/quickstart.ts';
import { sandboxedPartners } from '../../src/partners/registry.ts';

export interface ProbeSandbox {
  /** Server root; `host` is what the SSRF allow-list needs. */
  url: string;
  host: string;
  close(): Promise<void>;
}

export interface ProbeIncident {
  id: string;
  number: string;
  correlationKey: string;
  title: string;
  resolved: boolean;
  /** Name of the linked configuration item ('' when none). */
  ci: string;
}

export interface PartnerProbe {
  type: 'ServiceNow' | 'Cherwell';
  start(opts?: { volume?: 'tiny' }): Promise<ProbeSandbox>;
  connection(sb: ProbeSandbox): Record<string, unknown>;
  /** The sandbox admin API, `path` below its admin root (`faults`, `reset_faults`, `stats` …). */
  admin(sb: ProbeSandbox, method: string, path: string, body?: unknown): Promise<any>;
  /** Work items whose correlation key starts with `oitsmc:`, oldest first. */
  incidents(sb: ProbeSandbox): Promise<ProbeIncident[]>;
  /** Journal / work notes of one work item, oldest first. */
  notes(sb: ProbeSandbox, id: string): Promise<string[]>;
  /** Password logins the sandbox has granted so far. */
  logins(sb: ProbeSandbox): Promise<number>;
}

/** The connection the quick start would make to this sandbox (the descriptor's seeded credentials). */
function quickStartConnection(type: string, sb: ProbeSandbox): Record<string, unknown> {
  const partner = sandboxedPartners().find((p) => p.type === type);
  if (!partner) throw new Error(`${type} has no sandbox in the registry`);
  return { ...sandboxConnectionInput(partner, sb.url), createNewConfigurationItems: true };
}

async function json(res: Response, what: string): Promise<any> {
  const text = await res.text();
  if (!res.ok) throw new Error(`${what}: ${res.status} ${text.slice(0, 500)}`);
  return text ? JSON.parse(text) : undefined;
}

// ------------------------------------------------------------------ ServiceNow

const SN_ADMIN = 'Basic ' + Buffer.from('admin:admin').toString('base64');

async function snGet(sb: ProbeSandbox, path: string, query: Record<string, string>): Promise<any> {
  const url = new URL(sb.url + path);
  for (const [k, v] of Object.entries(query)) url.searchParams.set(k, v);
  return json(await fetch(url, { headers: { authorization: SN_ADMIN, accept: 'application/json' } }), `ServiceNow sandbox GET ${path}`);
}

export const serviceNowProbe: PartnerProbe = {
  type: 'ServiceNow',
  async start() {
    const sb = await startServiceNowSandbox({ port: 0, volume: { incidents: 30, changeRequests: 5, computers: 10 }, days: 10 });
    return { url: sb.url, host: new URL(sb.url).host, close: () => sb.close() };
  },
  connection: (sb) => quickStartConnection('ServiceNow', sb),
  admin: async (sb, method, path, body) =>
    json(
      await fetch(`${sb.url}/api/x_sandbox/${path}`, {
        method,
        headers: { authorization: SN_ADMIN, 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      }),
      `ServiceNow sandbox ${method} ${path}`,
    ),
  async incidents(sb) {
    const out: ProbeIncident[] = [];
    for (let offset = 0; ; offset += 1000) {
      const page = await snGet(sb, '/api/now/table/incident', {
        sysparm_query: 'correlation_idSTARTSWITHoitsmc:^ORDERBYsys_created_on',
        sysparm_fields: 'sys_id,number,state,correlation_id,short_description,cmdb_ci',
        sysparm_display_value: 'all',
        sysparm_exclude_reference_link: 'true',
        sysparm_limit: '1000',
        sysparm_offset: String(offset),
      });
      for (const r of page.result) {
        out.push({
          id: r.sys_id.value,
          number: r.number.value,
          correlationKey: r.correlation_id.value,
          title: r.short_description.value,
          resolved: ['6', '7'].includes(r.state.value),
          ci: r.cmdb_ci.display_value ?? '',
        });
      }
      if (page.result.length < 1000) return out;
    }
  },
  async notes(sb, id) {
    const page = await snGet(sb, '/api/now/table/sys_journal_field', {
      sysparm_query: `element_id=${id}^element=work_notes^ORDERBYsys_created_on`,
      sysparm_fields: 'value',
      sysparm_limit: '1000',
    });
    return page.result.map((r: { value: string }) => r.value);
  },
  logins: async (sb) => (await serviceNowProbe.admin(sb, 'GET', 'stats')).tokenGrants.password,
};

// ------------------------------------------------------------------ Cherwell

const CW_ADMIN = 'Basic ' + Buffer.from(`${SANDBOX_CREDENTIALS.admin.user}:${SANDBOX_CREDENTIALS.admin.password}`).toString('base64');
/** The probe's own login per sandbox (one licence, counted by `logins` like any other); refreshed on a 401. */
const cwTokens = new Map<string, Promise<{ access_token: string; refresh_token: string }>>();

function cwGrant(sb: ProbeSandbox, form: Record<string, string>): Promise<{ access_token: string; refresh_token: string }> {
  return fetch(`${sb.url}/CherwellAPI/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ client_id: SANDBOX_CREDENTIALS.restClient.clientId, ...form }),
  }).then((r) => json(r, 'Cherwell sandbox token'));
}

async function cwToken(sb: ProbeSandbox, stale?: string): Promise<string> {
  let t = cwTokens.get(sb.url);
  if (!t) {
    const c = SANDBOX_CREDENTIALS;
    t = cwGrant(sb, { grant_type: 'password', username: c.integration.user, password: c.integration.password });
    cwTokens.set(sb.url, t);
  }
  const current = await t;
  if (stale !== current.access_token) return current.access_token;
  const next = cwGrant(sb, { grant_type: 'refresh_token', refresh_token: current.refresh_token });
  cwTokens.set(sb.url, next);
  return (await next).access_token;
}

async function cwApi(sb: ProbeSandbox, method: string, path: string, body?: unknown): Promise<any> {
  const send = (token: string) =>
    fetch(`${sb.url}/CherwellAPI/api/V1/${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  const token = await cwToken(sb);
  let res = await send(token);
  if (res.status === 401) res = await send(await cwToken(sb, token));
  return json(res, `Cherwell sandbox ${method} ${path}`);
}

/** Business object id and field ids (name → id) of one business object, read through the sandbox's API. */
export async function cherwellMeta(sb: ProbeSandbox, name: string): Promise<{ busObId: string; f: Record<string, string> }> {
  const [summary] = await cwApi(sb, 'GET', `getbusinessobjectsummary/busobname/${name}`);
  const t = await cwApi(sb, 'POST', 'getbusinessobjecttemplate', { busObId: summary.busObId, includeAll: true });
  return { busObId: summary.busObId, f: Object.fromEntries(t.fields.map((x: { name: string; fieldId: string }) => [x.name, x.fieldId])) };
}

/** Every record of a search, all pages, as field name → value. */
export async function cherwellSearch(
  sb: ProbeSandbox,
  name: string,
  filters: { field: string; operator: string; value: string }[],
): Promise<Record<string, string>[]> {
  const { busObId, f } = await cherwellMeta(sb, name);
  const out: Record<string, string>[] = [];
  for (let page = 1; ; page++) {
    const r = await cwApi(sb, 'POST', 'getsearchresults', {
      busObId,
      includeAllFields: true,
      filters: filters.map((x) => ({ fieldId: f[x.field], operator: x.operator, value: x.value })),
      sorting: [{ fieldId: f.CreatedDateTime, sortDirection: 1 }],
      pageNumber: page,
      pageSize: 1000,
    });
    for (const bo of r.businessObjects) out.push(Object.fromEntries(bo.fields.map((x: { name: string; value: string }) => [x.name, x.value])));
    if (r.businessObjects.length < 1000) return out;
  }
}

/** totalRows of a search: how many records the sandbox itself says match. */
export async function cherwellCount(sb: ProbeSandbox, name: string, filters: { field: string; operator: string; value: string }[]): Promise<number> {
  const { busObId, f } = await cherwellMeta(sb, name);
  const r = await cwApi(sb, 'POST', 'getsearchresults', {
    busObId,
    includeAllFields: false,
    fields: [f.RecID],
    filters: filters.map((x) => ({ fieldId: f[x.field], operator: x.operator, value: x.value })),
    pageNumber: 1,
    pageSize: 1,
  });
  return r.totalRows;
}

/** The status list of a business object, from its summary. */
export async function cherwellStates(sb: ProbeSandbox, name: string): Promise<string[]> {
  const [summary] = await cwApi(sb, 'GET', `getbusinessobjectsummary/busobname/${name}`);
  return String(summary.states).split(',');
}

export const cherwellProbe: PartnerProbe = {
  type: 'Cherwell',
  async start() {
    const sb = await startCherwellSandbox({ port: 0, volume: { incidents: 30, changeRequests: 5, configItems: 10 }, days: 10 });
    return { url: sb.url, host: new URL(sb.url).host, close: () => sb.close() };
  },
  connection: (sb) => quickStartConnection('Cherwell', sb),
  admin: async (sb, method, path, body) =>
    json(
      await fetch(`${sb.url}/CherwellAPI/api/x_sandbox/${path}`, {
        method,
        headers: { authorization: CW_ADMIN, 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      }),
      `Cherwell sandbox ${method} ${path}`,
    ),
  async incidents(sb) {
    const rows = await cherwellSearch(sb, 'Incident', [{ field: 'CorrelationKey', operator: 'startswith', value: 'oitsmc:' }]);
    return rows.map((r) => ({
      id: r.RecID,
      number: r.IncidentID,
      correlationKey: r.CorrelationKey,
      title: r.ShortDescription,
      resolved: r.Status === 'Resolved' || r.Status === 'Closed',
      ci: r.ConfigItemDisplayName,
    }));
  },
  notes: async (sb, id) => (await cherwellSearch(sb, 'JournalNote', [{ field: 'ParentRecID', operator: 'eq', value: id }])).map((r) => r.Details),
  logins: async (sb) => (await cherwellProbe.admin(sb, 'GET', 'licences')).logins,
};

/** Every probed partner, or those named in ITSMC_TEST_PARTNERS (comma-separated types) to run a subset. */
export const PARTNERS: readonly PartnerProbe[] = ((only) => [serviceNowProbe, cherwellProbe].filter((p) => !only || only.includes(p.type)))(
  process.env.ITSMC_TEST_PARTNERS?.split(',').map((t) => t.trim()),
);

/** Correlation key → how many work items carry it. */
export function countByKey(items: ProbeIncident[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const i of items) m.set(i.correlationKey, (m.get(i.correlationKey) ?? 0) + 1);
  return m;
}
