/** Shared pieces of the delivery tests: a connector wired to a real ServiceNow sandbox, payload builders, sandbox queries. */
import fs from 'node:fs';
import { Command } from 'commander';
import { readSettings } from '../../src/config/env.ts';
import { startConnector, type Connector } from '../../src/runtime/connector.ts';
import { startServiceNowSandbox, type ServiceNowSandbox } from '../../src/sandbox/servicenow/index.ts';
import type { DeliverySettings } from '../../src/delivery/settings.ts';
import { api, dropSchema, pgUrl, tempDir, uniqueSchema, type TestDialect } from '../helpers/stores.ts';

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

export interface Rig {
  c: Connector;
  sandbox: ServiceNowSandbox;
  token: string;
  cleanup(): Promise<void>;
}

export interface RigOptions {
  /** Share a sandbox (not closed by cleanup). */
  sandbox?: ServiceNowSandbox;
  /** Join an existing PostgreSQL schema (a second process on the same queue; not dropped by cleanup). */
  pgSchema?: string;
  masterKey?: string;
  /** Create the connection `snow` (default true). */
  connection?: boolean;
}

/** Sandbox on port 0 + connector (allow-listed for it) + the connection `snow`. */
export async function startRig(dialect: TestDialect, delivery: Partial<DeliverySettings> = fastDelivery(), opts: RigOptions = {}): Promise<Rig & { pgSchema?: string }> {
  const sandbox = opts.sandbox;
  const sb = sandbox ?? (await startServiceNowSandbox({ port: 0, volume: SANDBOX_VOLUME, days: 10 }));
  const dataDir = tempDir();
  const pgSchema = dialect === 'postgres' ? (opts.pgSchema ?? uniqueSchema()) : undefined;
  const ownSchema = !opts.pgSchema;
  const host = new URL(sb.url).host;
  const settings = readSettings({
    PORT: '0',
    ITSMC_HOST: '127.0.0.1',
    ITSMC_DATA_DIR: dataDir,
    ITSMC_SANDBOX: '0',
    ITSMC_SYNC: '0',
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
  if (opts.connection === false) return { c, sandbox: sb, token: c.adminToken, pgSchema, cleanup };
  const res = await api(c.url, c.adminToken, 'PUT', '/api/v1/workspaces/default/connections/snow', {
    partnerType: 'ServiceNow',
    serverUrl: sb.url,
    username: 'itsmc.integration',
    password: 'sandbox',
    clientId: 'itsmc-sandbox',
    clientSecret: 'sandbox-secret',
    createNewConfigurationItems: true,
  });
  if (res.status !== 201) throw new Error(`connection: ${res.status} ${JSON.stringify(res.body)}`);
  return { c, sandbox: sb, token: c.adminToken, pgSchema, cleanup };
}

export async function putGroup(rig: Rig, name: string, receivers: { name: string; ticketConfiguration: Record<string, unknown>; connectionName?: string }[], enabled = true) {
  const res = await api(rig.c.url, rig.token, 'PUT', `/api/v1/workspaces/default/actionGroups/${name}`, {
    enabled,
    itsmReceivers: receivers.map((r) => ({ connectionName: 'snow', ...r })),
  });
  if (res.status !== 201 && res.status !== 200) throw new Error(`action group: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body as { webhookUrl: string; alertsUrl: string };
}

export async function postHook(url: string, body: unknown) {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: typeof body === 'string' ? body : JSON.stringify(body) });
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
      const stuck = await c.store.db.selectFrom('jobs').select(['id', 'kind', 'state', 'attempts', 'run_at', 'last_error']).where('state', '!=', 'done').limit(10).execute();
      throw new Error(`delivery queue not drained after ${timeoutMs} ms: ${JSON.stringify(await c.store.jobs.counts())} ${JSON.stringify(stuck)}`);
    }
    await new Promise((r) => setTimeout(r, 25));
  }
}

// ------------------------------------------------------------------ sandbox access (admin, Basic)

const ADMIN = 'Basic ' + Buffer.from('admin:admin').toString('base64');

export async function sandboxGet(sb: ServiceNowSandbox, path: string, query: Record<string, string> = {}): Promise<any> {
  const url = new URL(sb.url + path);
  for (const [k, v] of Object.entries(query)) url.searchParams.set(k, v);
  const res = await fetch(url, { headers: { authorization: ADMIN, accept: 'application/json' } });
  if (!res.ok) throw new Error(`sandbox GET ${path}: ${res.status} ${await res.text()}`);
  return res.json();
}

export async function sandboxAdmin(sb: ServiceNowSandbox, method: string, path: string, body?: unknown): Promise<any> {
  const res = await fetch(sb.url + path, { method, headers: { authorization: ADMIN, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
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

// ------------------------------------------------------------------ payloads

const SUB = '/subscriptions/11111111-2222-3333-4444-555555555555';

export function metricAlert(o: { rule: string; alertId: string; condition?: 'Fired' | 'Resolved'; severity?: string; cis?: string[]; firedAt?: string; resolvedAt?: string }) {
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
          allOf: [{ metricName: 'Percentage CPU', metricNamespace: 'Microsoft.Compute/virtualMachines', operator: 'GreaterThan', threshold: '80', timeAggregation: 'Average', dimensions: [], metricValue: 93.1 }],
          windowStartTime: firedAt,
          windowEndTime: firedAt,
        },
      },
    },
  };
}

export function logSearchAlert(o: { rule: string; alertId: string; rows: { Computer: string; [k: string]: string | number }[]; condition?: 'Fired' | 'Resolved' }) {
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

export function alertmanagerGroup(o: { groupKey: string; alertname: string; alerts: { fingerprint: string; instance: string; status?: 'firing' | 'resolved' }[] }) {
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
  const program = new Command('itsmc').exitOverride();
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
