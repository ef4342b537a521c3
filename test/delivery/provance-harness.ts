/**
 * One harness per partner sandbox for the delivery tests that run against every partner (crash, chaos):
 * start the sandbox, the connection body for it, the work items the connector made (read through the
 * sandbox's own API) and its fault switches in one vocabulary.
 */
import type { ConnectionInput } from '../../src/connections/model.ts';
import type { DeliverySettings } from '../../src/delivery/settings.ts';
import { sandboxConnectionInput } from '../../src/runtime/quickstart.ts';
import { startServiceNowSandbox } from '../../src/sandbox/servicenow/index.ts';
import { serviceNowSandbox } from '../../src/sandbox/servicenow/descriptor.ts';
import { serviceNowPartner } from '../../src/partners/servicenow/descriptor.ts';
import { provanceSandbox } from '../../src/sandbox/provance/descriptor.ts';
import { provancePartner } from '../../src/partners/provance/descriptor.ts';
import { SANDBOX_CREDENTIALS, startProvanceSandbox, type ProvanceSandbox } from '../../src/sandbox/provance/index.ts';
import { api, startTestConnector, type TestConnector, type TestDialect } from '../helpers/stores.ts';
import { SANDBOX_VOLUME, ourIncidents, sandboxAdmin, sandboxGet, workNotes } from './helpers.ts';

export interface OurWorkItem {
  id: string;
  correlation: string;
  title: string;
  closed: boolean;
  /** Name of the (primary) CI, '' when none. */
  ci: string;
}

export interface ChaosFaults {
  errorRate?: number;
  timeoutRate?: number;
  timeoutMs?: number;
  latencyMs?: number;
  rateLimitNext?: { count: number; retryAfterSec: number };
  outageUntil?: string;
}

export interface SandboxHarness {
  url: string;
  connection(): ConnectionInput;
  /** Work items the connector made (correlation keys starting with `oitsmc:`). */
  ourWorkItems(): Promise<OurWorkItem[]>;
  notes(id: string): Promise<string[]>;
  faults(f: ChaosFaults): Promise<void>;
  resetFaults(): Promise<void>;
  close(): Promise<void>;
}

export interface PartnerHarness {
  partner: 'ServiceNow' | 'Provance';
  start(): Promise<SandboxHarness>;
}

const serviceNow: PartnerHarness = {
  partner: 'ServiceNow',
  async start() {
    const sb = await startServiceNowSandbox({ port: 0, volume: SANDBOX_VOLUME, days: 10 });
    return {
      url: sb.url,
      connection: () =>
        sandboxConnectionInput({ ...serviceNowPartner, sandbox: serviceNowSandbox }, sb.url, {
          dataSyncScope: ['Incident'],
          createNewConfigurationItems: true,
        }),
      async ourWorkItems() {
        const computers = new Map<string, string>();
        const rows = await ourIncidents(sb);
        for (const r of rows.filter((x) => x.cmdb_ci)) {
          if (!computers.has(r.cmdb_ci))
            computers.set(r.cmdb_ci, (await sandboxGet(sb, `/api/now/table/cmdb_ci/${r.cmdb_ci}`, { sysparm_fields: 'name' })).result.name);
        }
        return rows.map((r) => ({
          id: r.sys_id,
          correlation: r.correlation_id,
          title: r.short_description,
          closed: ['6', '7', '8'].includes(r.state),
          ci: computers.get(r.cmdb_ci) ?? '',
        }));
      },
      notes: (id) => workNotes(sb, id),
      faults: (f) => sandboxAdmin(sb, 'PUT', '/api/x_sandbox/faults', f),
      resetFaults: () => sandboxAdmin(sb, 'POST', '/api/x_sandbox/reset_faults'),
      close: () => sb.close(),
    };
  },
};

const PROVANCE_ADMIN = 'Basic ' + Buffer.from(`${SANDBOX_CREDENTIALS.admin.username}:${SANDBOX_CREDENTIALS.admin.password}`).toString('base64');

/** Reads the Provance sandbox through its Web API as the admin user (password grant on its token endpoint). */
export class ProvanceReader {
  private token: string | undefined;
  constructor(private readonly sb: Pick<ProvanceSandbox, 'url' | 'apiUrl'>) {}

  private async bearer(): Promise<string> {
    if (this.token) return this.token;
    const res = await fetch(`${this.sb.url}/${SANDBOX_CREDENTIALS.tenant}/oauth2/v2.0/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'password',
        client_id: SANDBOX_CREDENTIALS.clientId,
        username: SANDBOX_CREDENTIALS.admin.username,
        password: SANDBOX_CREDENTIALS.admin.password,
        scope: `${this.sb.url}/.default`,
      }),
    });
    const body = (await res.json()) as { access_token?: string };
    if (!body.access_token) throw new Error(`Provance sandbox token: ${res.status} ${JSON.stringify(body)}`);
    this.token = body.access_token;
    return this.token;
  }

  /** Every row of a query, following @odata.nextLink (formatted values included). */
  async all(path: string): Promise<Record<string, any>[]> {
    const out: Record<string, any>[] = [];
    let url: string | undefined = `${this.sb.apiUrl}/${path}`;
    while (url) {
      const res: Response = await fetch(url, {
        headers: { authorization: `Bearer ${await this.bearer()}`, prefer: 'odata.maxpagesize=5000,odata.include-annotations="*"', accept: 'application/json' },
      });
      if (res.status === 401) {
        this.token = undefined;
        continue;
      }
      const body = (await res.json()) as { value?: Record<string, any>[]; '@odata.nextLink'?: string };
      if (!res.ok || !body.value) throw new Error(`Provance sandbox GET ${path}: ${res.status} ${JSON.stringify(body)}`);
      out.push(...body.value);
      url = body['@odata.nextLink'];
    }
    return out;
  }

  async admin(method: string, path: string, body?: unknown): Promise<unknown> {
    const res = await fetch(`${this.sb.url}/_sandbox/${path}`, {
      method,
      headers: { authorization: PROVANCE_ADMIN, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`Provance sandbox admin ${method} ${path}: ${res.status} ${text}`);
    return text ? JSON.parse(text) : undefined;
  }
}

export function provanceConnection(url: string): ConnectionInput {
  return sandboxConnectionInput({ ...provancePartner, sandbox: provanceSandbox }, url, { dataSyncScope: ['Incident'], createNewConfigurationItems: true });
}

export const provanceHarness: PartnerHarness = {
  partner: 'Provance',
  async start() {
    const sb = await startProvanceSandbox({ port: 0, volume: { incidents: 30, changeRequests: 5, cis: 10 }, days: 10 });
    const reader = new ProvanceReader(sb);
    return {
      url: sb.url,
      connection: () => provanceConnection(sb.url),
      async ourWorkItems() {
        const rows = await reader.all(
          `incidents?$select=title,statecode,prov_correlationkey,_prov_configurationitemid_value&$filter=${encodeURIComponent("startswith(prov_correlationkey,'oitsmc:')")}&$orderby=createdon asc`,
        );
        return rows.map((r) => ({
          id: r.incidentid,
          correlation: r.prov_correlationkey,
          title: r.title,
          closed: r.statecode !== 0,
          ci: r['_prov_configurationitemid_value@OData.Community.Display.V1.FormattedValue'] ?? '',
        }));
      },
      async notes(id) {
        return (await reader.all(`annotations?$select=notetext&$filter=_objectid_value eq ${id}&$orderby=createdon asc`)).map((n) => n.notetext as string);
      },
      async faults(f) {
        await reader.admin('PUT', 'faults', f);
      },
      resetFaults: async () => {
        await reader.admin('POST', 'reset_faults');
      },
      close: () => sb.close(),
    };
  },
};

export const partnerHarnesses: readonly PartnerHarness[] = [serviceNow, provanceHarness];

export interface PartnerRig {
  c: TestConnector;
  sandbox: SandboxHarness;
  token: string;
  /** Name of the connection made to the sandbox. */
  connection: string;
  cleanup(): Promise<void>;
}

/** A partner's sandbox on port 0, a connector allow-listed for it (delivery as given) and the connection `itsm`. */
export async function startPartnerRig(harness: PartnerHarness, delivery: Partial<DeliverySettings>, dialect: TestDialect = 'sqlite'): Promise<PartnerRig> {
  const sandbox = await harness.start();
  const c = await startTestConnector(dialect, { ITSMC_ALLOWED_PARTNER_HOSTS: new URL(sandbox.url).host }, delivery);
  const cleanup = async () => {
    await c.cleanup();
    await sandbox.close();
  };
  const res = await api(c.url, c.adminToken, 'PUT', '/api/v1/workspaces/default/connections/itsm', sandbox.connection());
  if (res.status !== 201) {
    await cleanup();
    throw new Error(`connection: ${res.status} ${JSON.stringify(res.body)}`);
  }
  return { c, sandbox, token: c.adminToken, connection: 'itsm', cleanup };
}

export function countBy(values: string[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const v of values) m.set(v, (m.get(v) ?? 0) + 1);
  return m;
}
