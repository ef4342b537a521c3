/**
 * P1: durable alert ingest under real conditions, on SQLite (WAL, synchronous=FULL) and on PostgreSQL. The
 * connector runs in a child process with delivery on, as in production, with an action group whose ITSM action
 * creates an incident in the ServiceNow sandbox (another child process, like a remote partner); autocannon
 * drives it from this process with 64 connections. Measured in the same run, on the same server:
 * - a no-op Fastify route, same body (JSON parse included): the HTTP ceiling;
 * - POST /hooks/{secret} with a distinct Azure common-schema metric alert per request (so every alert is a new
 *   incident to deliver), every 202 only after the alert row and its delivery job committed: alerts/s;
 * - p99 accept latency at a fixed 2,000 alerts/s.
 * Both children start with the environment and node flags of `npm start` (production-launch.ts).
 * P1_STORES=sqlite (or postgres) limits the stores; P1_SECONDS the length of each load.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import type { BenchResult } from './types.ts';
import { productionLaunch } from './production-launch.ts';

const SECONDS = Number(process.env.P1_SECONDS ?? 8);
const PG_URL = process.env.ITSMC_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const runId = Date.now().toString(36);
let seq = 0;

function alertBody(): string {
  const now = new Date().toISOString();
  return JSON.stringify({
    schemaId: 'azureMonitorCommonAlertSchema',
    data: {
      essentials: {
        alertId: '/subscriptions/11111111-2222-3333-4444-555555555555/providers/Microsoft.AlertsManagement/alerts/[<id>]',
        alertRule: 'cpu-high-[<id>]',
        severity: 'Sev2',
        signalType: 'Metric',
        monitorCondition: 'Fired',
        monitoringService: 'Platform',
        alertTargetIDs: ['/subscriptions/11111111-2222-3333-4444-555555555555/resourcegroups/rg/providers/microsoft.compute/virtualmachines/vm-01'],
        configurationItems: ['vm-01'],
        originAlertId: 'origin-[<id>]',
        firedDateTime: now,
        description: 'CPU above 80 percent',
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
          windowStartTime: now,
          windowEndTime: now,
        },
      },
    },
  });
}

/** Sandbox child: the ServiceNow emulator in its own process, as a real partner would be. */
async function serveSandbox(): Promise<void> {
  const { sandboxedPartners } = await import('../src/partners/registry.ts');
  const sb = await sandboxedPartners()[0].sandbox.start({ port: 0, size: 'small', days: 10 });
  process.stdout.write(JSON.stringify({ url: sb.url }) + '\n');
  process.once('SIGTERM', async () => {
    await sb.close();
    process.exit(0);
  });
}

/**
 * Connector child: the connector as production runs it (delivery on), a no-op route on the same server, a
 * connection to the partner sandbox and an action group with one ITSM action to it.
 */
async function serve(): Promise<void> {
  const { readSettings } = await import('../src/config/env.ts');
  const { startConnector } = await import('../src/runtime/connector.ts');
  const { sandboxedPartners } = await import('../src/partners/registry.ts');
  const { sandboxConnectionInput } = await import('../src/runtime/quickstart.ts');
  const partnerUrl = process.env.P1_PARTNER_URL!;
  const postgres = process.env.P1_STORE === 'postgres';
  const settings = readSettings({
    ...process.env,
    PORT: '0',
    ITSMC_HOST: '127.0.0.1',
    ITSMC_SANDBOX: '0',
    ITSMC_SYNC: '0',
    ITSMC_ALLOWED_PARTNER_HOSTS: new URL(partnerUrl).host,
    ITSMC_DATABASE_URL: postgres ? PG_URL : '',
  });
  const c = await startConnector({ settings, listen: false, pgSchema: process.env.P1_PG_SCHEMA || undefined });
  c.app.post('/noop', { config: { access: 'public' } }, async (_req, reply) => reply.status(202).send({ status: 'accepted' }));
  const url = await c.app.listen({ port: 0, host: '127.0.0.1' });
  await c.connections.put('default', 'bench', sandboxConnectionInput(sandboxedPartners()[0], partnerUrl));
  const { row } = await c.actionGroups.put('default', 'bench', {
    itsmReceivers: [{ name: 'inc', connectionName: 'bench', ticketConfiguration: { WorkItemType: 'Incident' } }],
  });
  const hook = `${url}/hooks/${c.actionGroups.secretOf(row)}`;
  process.stdout.write(JSON.stringify({ url, hook }) + '\n');
  process.on('message', async (m) => {
    if (m === 'count') {
      const jobs = await c.store.jobs.counts();
      process.send!({ alerts: await c.store.alerts.count(), pending: jobs.pending, delivered: c.delivery.stats.acked, commit: c.ingest.stats });
    }
  });
  process.once('SIGTERM', async () => {
    await c.close();
    process.exit(0);
  });
}

async function load(url: string, body: string, opts: { seconds: number; connections: number; rate?: number }) {
  const result = await autocannon({
    url,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    // A unique alert id per request (autocannon's idReplacement breaks Content-Length in 8.0.0).
    requests: [{ setupRequest: (req: any) => ({ ...req, body: body.replaceAll('[<id>]', `${runId}-${++seq}`) }) }],
    connections: opts.connections,
    duration: opts.seconds,
    ...(opts.rate ? { overallRate: opts.rate } : {}),
  });
  if (result.non2xx > 0 || result.errors > 0) throw new Error(`${url}: ${result.non2xx} non-2xx, ${result.errors} errors`);
  return { rps: result.requests.average, total: result.requests.total, p99: result.latency.p99, p50: result.latency.p50 };
}

interface Counts {
  alerts: number;
  pending: number;
  delivered: number;
  commit: { batches: number; items: number; writeMs: number };
}

/** Spawns this file in a child mode; resolves with the first JSON line it prints. */
async function child<T>(env: Record<string, string>, ipc = false): Promise<{ proc: ChildProcess; info: T }> {
  const launch = productionLaunch();
  const nodeArgs = [...launch.nodeArgs, ...(process.env.P1_NODE_ARGS ?? '').split(' ').filter(Boolean)];
  const proc = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', fileURLToPath(import.meta.url)], {
    env: { ...process.env, ...launch.env, ITSMC_LOG_LEVEL: 'error', ...env },
    stdio: ['ignore', 'pipe', 'inherit', ...(ipc ? (['ipc'] as const) : [])],
  });
  const info = await new Promise<T>((resolve, reject) => {
    let buf = '';
    proc.stdout!.on('data', (d) => {
      buf += d;
      const line = buf.split('\n').find((l) => l.startsWith('{'));
      if (line) resolve(JSON.parse(line));
    });
    proc.once('exit', (code) => reject(new Error(`bench child exited with ${code}`)));
  });
  return { proc, info };
}

async function stop(proc: ChildProcess): Promise<void> {
  if (proc.exitCode !== null) return;
  proc.kill('SIGTERM');
  await new Promise((r) => proc.once('exit', r));
}

async function measure(store: 'sqlite' | 'postgres'): Promise<BenchResult[]> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'itsmc-p1-'));
  const pgSchema = store === 'postgres' ? `p1_${runId}` : '';
  const sandbox = await child<{ url: string }>({ P1_MODE: 'sandbox' });
  let connector: ChildProcess | undefined;
  try {
    const started = await child<{ url: string; hook: string }>(
      { P1_MODE: 'connector', P1_STORE: store, P1_PG_SCHEMA: pgSchema, P1_PARTNER_URL: sandbox.info.url, ITSMC_DATA_DIR: dataDir },
      true,
    );
    connector = started.proc;
    const { url, hook } = started.info;
    const counts = () =>
      new Promise<Counts>((resolve) => {
        connector!.once('message', (m) => resolve(m as Counts));
        connector!.send('count');
      });
    const body = alertBody();
    await load(hook, body, { seconds: 2, connections: 32 }); // warm-up (JIT, page cache, WAL, partner token)
    await load(`${url}/noop`, body, { seconds: 1, connections: 32 });
    const noop = await load(`${url}/noop`, body, { seconds: SECONDS, connections: 64 });
    const c0 = await counts();
    const ingest = await load(hook, body, { seconds: SECONDS, connections: 64 });
    const c1 = await counts();
    const batches = c1.commit.batches - c0.commit.batches;
    process.stderr.write(
      `  ${store} full load: ${batches} transactions, ${((c1.commit.items - c0.commit.items) / batches).toFixed(1)} alerts each, ` +
        `${((c1.commit.writeMs - c0.commit.writeMs) / batches).toFixed(2)} ms each; delivered meanwhile ${c1.delivered - c0.delivered} ` +
        `(${((c1.delivered - c0.delivered) / SECONDS).toFixed(0)}/s), backlog ${c1.pending}\n`,
    );
    const paced = await load(hook, body, { seconds: SECONDS, connections: 32, rate: 2000 });
    const noopPaced = await load(`${url}/noop`, body, { seconds: SECONDS, connections: 32, rate: 2000 });
    const final = await counts();
    if (final.alerts < ingest.total + paced.total) throw new Error(`only ${final.alerts} alerts stored for ${ingest.total + paced.total} accepted`);
    const label = store === 'sqlite' ? 'SQLite FULL' : 'PostgreSQL';
    return [
      {
        id: 'P1',
        name: `Ingest with delivery running, ${label} (64 connections, distinct alerts → ServiceNow sandbox action)`,
        value: ingest.rps,
        unit: 'alerts/s',
        goal: '≥ 10,000/s and ≥ 0.35 of no-op',
        baseline: noop.rps,
        ratio: ingest.rps / noop.rps,
      },
      {
        id: 'P1',
        name: `Accept latency p99 at 2,000 alerts/s, ${label}`,
        value: paced.p99,
        unit: 'ms',
        goal: 'p99 ≤ 20 ms',
        baseline: noopPaced.p99,
        ratio: noopPaced.p99 > 0 ? paced.p99 / noopPaced.p99 : null,
      },
    ];
  } finally {
    if (connector) await stop(connector);
    await stop(sandbox.proc);
    fs.rmSync(dataDir, { recursive: true, force: true });
    if (pgSchema) await dropSchema(pgSchema);
  }
}

async function dropSchema(schema: string): Promise<void> {
  const pg = (await import('pg')).default;
  const client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  } finally {
    await client.end();
  }
}

export default async function run(): Promise<BenchResult[]> {
  const stores = (process.env.P1_STORES ?? 'sqlite,postgres').split(',') as ('sqlite' | 'postgres')[];
  const results: BenchResult[] = [];
  for (const store of stores) results.push(...(await measure(store)));
  return results;
}

if (process.env.P1_MODE === 'connector') void serve();
if (process.env.P1_MODE === 'sandbox') void serveSandbox();
