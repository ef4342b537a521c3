/**
 * Shared pieces of the delivery tests: a connector wired to a real partner sandbox (ServiceNow unless a test
 * asks for another), payload builders, sandbox queries.
 */
import fs from 'node:fs';
import { Command } from 'commander';
import { addGlobalOptions } from '../../src/cli/program.ts';
import { startConnector, type Connector } from '../../src/runtime/connector.ts';
import type { ServiceNowSandbox } from '../../src/sandbox/servicenow/index.ts';
import type { PartnerDescriptor, RunningSandbox, SandboxSection } from '../../src/partners/descriptor.ts';
import type { PartnerContext, TokenSet } from '../../src/partners/partner.ts';
import { partners } from '../../src/partners/registry.ts';
import { sandboxConnectionInput } from '../../src/runtime/quickstart.ts';
import { serviceNowWithSandbox } from '../sync/helpers.ts';
import type { DeliverySettings } from '../../src/delivery/settings.ts';
import { api, dropSchema, pgUrl, tempDir, testSettings, uniqueSchema, type TestDialect } from '../helpers/stores.ts';
import type { PartnerProbe, ProbeSandbox } from './partners.ts';
import { storeInternals } from '../../src/store/testkit.ts';

export const SANDBOX_VOLUME = { incidents: 30, changeRequests: 5, computers: 10 };

/** Short backoff, leases and breaker times, so that retries happen within a test. */
export function fastDelivery(overrides: Partial<DeliverySettings['engine']> = {}, maxAttempts = 12): Partial<DeliverySettings> {
  return {
    enabled: true,
    engine: {
      leaseMs: 3_000,
      pollMs: 20,
      backoff: { baseMs: 20, maxMs: 400 },
      authPauseMs: 200,
      gate: { concurrency: 8, ratePerSecond: 1000, burst: 1000, minRatePerSecond: 20, failureThreshold: 5, openMs: 100, maxOpenMs: 800 },
      ...overrides,
    },
    ingest: { maxAttempts, groupCommit: { maxItems: 256, maxDelayMs: 2 } },
    partnerTimeoutMs: 2_000,
  };
}

/** A registered partner with a client and an emulator. */
export type SandboxedPartner = PartnerDescriptor & { create: NonNullable<PartnerDescriptor['create']>; sandbox: SandboxSection };

/** The partners the engine-level delivery tests (crash, chaos) run against: every one with a client and a sandbox. */
export const deliveryPartners: SandboxedPartner[] = (partners as readonly PartnerDescriptor[]).filter((p): p is SandboxedPartner => !!p.create && !!p.sandbox);

export interface Rig {
  c: Connector;
  sandbox: RunningSandbox;
  token: string;
  /** The connection to the sandbox (`snow` for ServiceNow, the partner type in lower case otherwise). */
  connectionName: string;
  cleanup(): Promise<void>;
}

export interface RigOptions {
  /** Share a sandbox (not closed by cleanup). */
  sandbox?: RunningSandbox;
  /** Join an existing PostgreSQL schema (a second process on the same queue; not dropped by cleanup). */
  pgSchema?: string;
  masterKey?: string;
  /** Create the connection (default true). */
  connection?: boolean;
  /** The partner whose sandbox and connection the rig uses (default ServiceNow). */
  partner?: SandboxedPartner;
}

/** Sandbox on port 0 + connector (allow-listed for it) + a connection to the sandbox. */
export async function startRig(
  dialect: TestDialect,
  delivery: Partial<DeliverySettings> = fastDelivery(),
  opts: RigOptions = {},
): Promise<Rig & { pgSchema?: string }> {
  const partner: SandboxedPartner = opts.partner ?? serviceNowWithSandbox;
  const connectionName = partner.type === 'ServiceNow' ? 'snow' : partner.type.toLowerCase();
  const sandbox = opts.sandbox;
  const sb = sandbox ?? (await partner.sandbox.start({ port: 0, size: 'small', days: 10 }));
  const dataDir = tempDir();
  const pgSchema = dialect === 'postgres' ? (opts.pgSchema ?? uniqueSchema()) : undefined;
  const ownSchema = !opts.pgSchema;
  const host = new URL(sb.url).host;
  const settings = testSettings(dataDir, {
    ITSMC_ALLOWED_PARTNER_HOSTS: host,
    ...(dialect === 'postgres' ? { ITSMC_DATABASE_URL: pgUrl() } : {}),
    ...(opts.masterKey ? { ITSMC_MASTER_KEY: opts.masterKey } : {}),
  });
  const c = await startConnector({ settings, pgSchema, delivery });
  const cleanup = async () => {
    await c.close();
    if (!sandbox) await sb.close();
    if (pgSchema && ownSchema) await dropSchema(pgSchema);
    fs.rmSync(dataDir, { recursive: true, force: true });
  };
  const rig = { c, sandbox: sb, token: c.adminToken, connectionName, pgSchema, cleanup };
  if (opts.connection === false) return rig;
  const res = await api(
    c.url,
    c.adminToken,
    'PUT',
    `/api/v1/workspaces/default/connections/${connectionName}`,
    sandboxConnectionInput(partner, sb.url, { createNewConfigurationItems: true }),
  );
  if (res.status !== 201) throw new Error(`connection: ${res.status} ${JSON.stringify(res.body)}`);
  return rig;
}

export interface PartnerRig {
  c: Connector;
  probe: PartnerProbe;
  sb: ProbeSandbox;
  token: string;
  connectionName: string;
  cleanup(): Promise<void>;
}

/** A partner probe's sandbox + connector + the connection `snow` to it (read back through the sandbox's own API). */
export async function startPartnerRig(probe: PartnerProbe, dialect: TestDialect, delivery: Partial<DeliverySettings> = fastDelivery()): Promise<PartnerRig> {
  const sb = await probe.start();
  const dataDir = tempDir();
  const pgSchema = dialect === 'postgres' ? uniqueSchema() : undefined;
  const settings = testSettings(dataDir, { ITSMC_ALLOWED_PARTNER_HOSTS: sb.host, ...(dialect === 'postgres' ? { ITSMC_DATABASE_URL: pgUrl() } : {}) });
  const c = await startConnector({ settings, pgSchema, delivery });
  const cleanup = async () => {
    await c.close();
    await sb.close();
    if (pgSchema) await dropSchema(pgSchema);
    fs.rmSync(dataDir, { recursive: true, force: true });
  };
  const res = await api(c.url, c.adminToken, 'PUT', '/api/v1/workspaces/default/connections/snow', probe.connection(sb));
  if (res.status !== 201) {
    await cleanup();
    throw new Error(`${probe.type} connection: ${res.status} ${JSON.stringify(res.body)}`);
  }
  return { c, probe, sb, token: c.adminToken, connectionName: 'snow', cleanup };
}

export async function putGroup(
  rig: Pick<Rig, 'c' | 'token' | 'connectionName'>,
  name: string,
  receivers: { name: string; ticketConfiguration: Record<string, unknown>; connectionName?: string }[],
  enabled = true,
) {
  const res = await api(rig.c.url, rig.token, 'PUT', `/api/v1/workspaces/default/actionGroups/${name}`, {
    enabled,
    itsmReceivers: receivers.map((r) => ({ connectionName: rig.connectionName, ...r })),
  });
  if (res.status !== 201 && res.status !== 200) throw new Error(`action group: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body as { webhookUrl: string; alertsUrl: string };
}

export async function postHook(url: string, body: unknown) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    json = text;
  }
  return { status: res.status, body: json };
}

/** Waits until the delivery queue has nothing pending or running (dead letters excepted). */
export async function drained(c: Connector, timeoutMs = 30_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    if ((await c.store.jobs.unfinished(['deliver'])) === 0) return;
    if (Date.now() > end) {
      const stuck = await storeInternals(c.store)
        .db.selectFrom('jobs')
        .select(['id', 'kind', 'state', 'attempts', 'run_at', 'last_error'])
        .where('state', '!=', 'done')
        .limit(10)
        .execute();
      throw new Error(`delivery queue not drained after ${timeoutMs} ms: ${JSON.stringify(await c.store.jobs.counts())} ${JSON.stringify(stuck)}`);
    }
    await new Promise((r) => setTimeout(r, 25));
  }
}

// ------------------------------------------------------------------ sandbox access (admin, Basic)

const ADMIN = 'Basic ' + Buffer.from('admin:admin').toString('base64');

export async function sandboxGet(sb: Pick<ServiceNowSandbox, 'url'>, path: string, query: Record<string, string> = {}): Promise<any> {
  const url = new URL(sb.url + path);
  for (const [k, v] of Object.entries(query)) url.searchParams.set(k, v);
  const res = await fetch(url, { headers: { authorization: ADMIN, accept: 'application/json' } });
  if (!res.ok) throw new Error(`sandbox GET ${path}: ${res.status} ${await res.text()}`);
  return res.json();
}

export async function sandboxAdmin(sb: ServiceNowSandbox, method: string, path: string, body?: unknown): Promise<any> {
  const res = await fetch(sb.url + path, {
    method,
    headers: { authorization: ADMIN, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`sandbox ${method} ${path}: ${res.status} ${text}`);
  return text ? JSON.parse(text) : undefined;
}

export interface SnIncident {
  sys_id: string;
  number: string;
  state: string;
  correlation_id: string;
  short_description: string;
  cmdb_ci: string;
  close_code: string;
}

/** Incidents the connector made (correlation ids start with `oitsmc:`). */
export async function ourIncidents(sb: ServiceNowSandbox, extraQuery = ''): Promise<SnIncident[]> {
  const out: SnIncident[] = [];
  let offset = 0;
  for (;;) {
    const page = await sandboxGet(sb, '/api/now/table/incident', {
      sysparm_query: `correlation_idSTARTSWITHoitsmc:${extraQuery ? '^' + extraQuery : ''}^ORDERBYsys_created_on`,
      sysparm_fields: 'sys_id,number,state,correlation_id,short_description,cmdb_ci,close_code',
      sysparm_limit: '1000',
      sysparm_offset: String(offset),
      sysparm_exclude_reference_link: 'true',
    });
    out.push(...page.result);
    if (page.result.length < 1000) return out;
    offset += 1000;
  }
}

export async function workNotes(sb: ServiceNowSandbox, sysId: string): Promise<string[]> {
  const page = await sandboxGet(sb, '/api/now/table/sys_journal_field', {
    sysparm_query: `element_id=${sysId}^element=work_notes^ORDERBYsys_created_on`,
    sysparm_fields: 'value',
    sysparm_limit: '1000',
  });
  return page.result.map((r: { value: string }) => r.value);
}

/** Correlation id → how many incidents carry it. */
export function countByCorrelation(incidents: SnIncident[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const i of incidents) m.set(i.correlation_id, (m.get(i.correlation_id) ?? 0) + 1);
  return m;
}

// ------------------------------------------------------------------ any partner

export interface PartnerIncident {
  id: string;
  number: string;
  title: string;
  state: string;
}

/**
 * Incidents changed since `since` in a partner's sandbox, read with the partner's own sync read
 * (`listChangedSince`, the path the contract suite checks), so one assertion serves every partner.
 */
export async function partnerIncidents(partner: SandboxedPartner, sandbox: { url: string }, since: string): Promise<PartnerIncident[]> {
  let tokens: TokenSet | null = null;
  const ctx: PartnerContext = {
    credentials: partner.sandbox.credentials(sandbox.url),
    tokens: { load: async () => tokens, save: async (t) => void (tokens = t) },
    timeoutMs: 10_000,
  };
  const client = partner.create(ctx);
  await client.authenticate();
  const out: PartnerIncident[] = [];
  let cursor: string | undefined;
  do {
    const page = await client.listChangedSince('Incident', since, cursor, 500);
    for (const r of page.records)
      out.push({ id: r.id, number: String(r.row.ServiceDeskId_s), title: String(r.row.Title_s), state: String(r.row.IncidentState_s) });
    cursor = page.next;
  } while (cursor);
  return out;
}

/** Title → how many incidents carry it. */
export function countByTitle(incidents: PartnerIncident[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const i of incidents) m.set(i.title, (m.get(i.title) ?? 0) + 1);
  return m;
}

// ------------------------------------------------------------------ payloads

const SUB = '/subscriptions/11111111-2222-3333-4444-555555555555';

export function metricAlert(o: {
  rule: string;
  alertId: string;
  condition?: 'Fired' | 'Resolved';
  severity?: string;
  cis?: string[];
  firedAt?: string;
  resolvedAt?: string;
}) {
  const firedAt = o.firedAt ?? new Date().toISOString();
  return {
    schemaId: 'azureMonitorCommonAlertSchema',
    data: {
      essentials: {
        alertId: `${SUB}/providers/Microsoft.AlertsManagement/alerts/${o.alertId}`,
        alertRule: o.rule,
        severity: o.severity ?? 'Sev2',
        signalType: 'Metric',
        monitorCondition: o.condition ?? 'Fired',
        monitoringService: 'Platform',
        alertTargetIDs: [`${SUB}/resourcegroups/rg/providers/microsoft.compute/virtualmachines/${(o.cis ?? ['vm-01'])[0]}`],
        configurationItems: o.cis ?? ['vm-01'],
        originAlertId: `origin-${o.alertId}`,
        firedDateTime: firedAt,
        ...(o.condition === 'Resolved' ? { resolvedDateTime: o.resolvedAt ?? new Date().toISOString() } : {}),
        description: `Metric alert ${o.rule}`,
        essentialsVersion: '1.0',
        alertContextVersion: '1.0',
      },
      alertContext: {
        properties: null,
        conditionType: 'SingleResourceMultipleMetricCriteria',
        condition: {
          windowSize: 'PT5M',
          allOf: [
            {
              metricName: 'Percentage CPU',
              metricNamespace: 'Microsoft.Compute/virtualMachines',
              operator: 'GreaterThan',
              threshold: '80',
              timeAggregation: 'Average',
              dimensions: [],
              metricValue: 93.1,
            },
          ],
          windowStartTime: firedAt,
          windowEndTime: firedAt,
        },
      },
    },
  };
}

export function logSearchAlert(o: {
  rule: string;
  alertId: string;
  rows: { Computer: string; [k: string]: string | number }[];
  condition?: 'Fired' | 'Resolved';
}) {
  const columns = Object.keys(o.rows[0] ?? { Computer: '' }).map((name) => ({ name, type: typeof o.rows[0]?.[name] === 'number' ? 'real' : 'string' }));
  return {
    schemaId: 'azureMonitorCommonAlertSchema',
    data: {
      essentials: {
        alertId: `${SUB}/providers/Microsoft.AlertsManagement/alerts/${o.alertId}`,
        alertRule: o.rule,
        severity: 'Sev2',
        signalType: 'Log',
        monitorCondition: o.condition ?? 'Fired',
        monitoringService: 'Log Analytics',
        alertTargetIDs: [`${SUB}/resourcegroups/ops-rg/providers/microsoft.operationalinsights/workspaces/ops-la`],
        configurationItems: [...new Set(o.rows.map((r) => r.Computer))],
        originAlertId: `origin-${o.alertId}`,
        firedDateTime: new Date().toISOString(),
        description: 'Free space under 10 percent',
        essentialsVersion: '1.0',
        alertContextVersion: '1.1',
      },
      alertContext: {
        SearchQuery: 'Perf | where CounterName == "% Free Space" and CounterValue < 10',
        SearchIntervalStartTimeUtc: '3/22/2019 1:35:31 PM',
        SearchIntervalEndtimeUtc: '3/22/2019 1:40:31 PM',
        ResultCount: String(o.rows.length),
        SearchIntervalInMinutes: '5',
        AffectedConfigurationItems: [...new Set(o.rows.map((r) => r.Computer))],
        SearchResults: { tables: [{ name: 'PrimaryResult', columns, rows: o.rows.map((r) => columns.map((c) => r[c.name])) }] },
      },
    },
  };
}

export function alertmanagerGroup(o: {
  groupKey: string;
  alertname: string;
  alerts: { fingerprint: string; instance: string; status?: 'firing' | 'resolved' }[];
}) {
  const status = o.alerts.every((a) => a.status === 'resolved') ? 'resolved' : 'firing';
  return {
    receiver: 'itsmc',
    status,
    alerts: o.alerts.map((a) => ({
      status: a.status ?? 'firing',
      labels: { alertname: o.alertname, instance: a.instance, severity: 'critical' },
      annotations: { summary: `${o.alertname} on ${a.instance}` },
      startsAt: '2024-02-06T13:08:45.828Z',
      endsAt: a.status === 'resolved' ? '2024-02-06T14:08:45.828Z' : '0001-01-01T00:00:00Z',
      generatorURL: 'http://prometheus.example.org:9090/graph',
      fingerprint: a.fingerprint,
    })),
    groupLabels: { alertname: o.alertname },
    commonLabels: { alertname: o.alertname },
    commonAnnotations: {},
    externalURL: 'http://alertmanager.example.org:9093',
    version: '4',
    groupKey: o.groupKey,
    truncatedAlerts: 0,
  };
}

// ------------------------------------------------------------------ CLI in-process

/** Runs `itsmc <args>` in-process with the given command groups against the rig; returns what it printed. */
export async function runCli(rig: Rig, register: ((program: Command) => void)[], ...args: string[]): Promise<string> {
  const program = addGlobalOptions(new Command('itsmc').exitOverride());
  for (const r of register) r(program);
  const lines: string[] = [];
  const log = console.log;
  console.log = (...a: unknown[]) => lines.push(a.map(String).join(' '));
  const before = process.env.ITSMC_ADMIN_TOKEN;
  process.env.ITSMC_ADMIN_TOKEN = rig.token;
  try {
    await program.parseAsync(['node', 'itsmc', ...args, '--url', rig.c.url]);
  } finally {
    console.log = log;
    if (before === undefined) delete process.env.ITSMC_ADMIN_TOKEN;
    else process.env.ITSMC_ADMIN_TOKEN = before;
  }
  return lines.join('\n');
}
