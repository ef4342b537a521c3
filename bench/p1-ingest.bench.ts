/**
 * P1: durable alert ingest on SQLite (WAL, synchronous=FULL). The connector runs in a child process (its
 * own core, like production); autocannon drives it from this process. Measured in the same run:
 * - a no-op Fastify route of the same server, same body (JSON parse included): the HTTP ceiling;
 * - POST /hooks/{secret} with a unique Azure common-schema metric alert per request, every 202 only after
 *   the alert row and its delivery job committed (group commit): alerts/s at full load;
 * - p99 accept latency at a fixed 2,000 alerts/s.
 * Delivery workers are off in the child (ITSMC_DELIVERY=0): this measures acceptance, not delivery.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import type { BenchResult } from './types.ts';

const SECONDS = Number(process.env.P1_SECONDS ?? 8);
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

/** Child mode: run the connector with a no-op route and an action group; print what the parent needs. */
async function serve(): Promise<void> {
  const { readSettings } = await import('../src/config/env.ts');
  const { startConnector } = await import('../src/runtime/connector.ts');
  const settings = readSettings({ ...process.env, PORT: '0', ITSMC_HOST: '127.0.0.1', ITSMC_SANDBOX: '0', ITSMC_SYNC: '0' });
  const c = await startConnector({ settings, listen: false, delivery: { enabled: false } });
  c.app.post('/noop', { config: { access: 'public' } }, async (_req, reply) => reply.status(202).send({ status: 'accepted' }));
  const url = await c.app.listen({ port: 0, host: '127.0.0.1' });
  await c.connections.put('default', 'bench', {
    partnerType: 'SCSM',
    serverUrl: 'https://scsm-bench.azurewebsites.net',
    clientId: 'app',
    clientSecret: 'secret',
  });
  const { row } = await c.actionGroups.put('default', 'bench', {
    itsmReceivers: [{ name: 'inc', connectionName: 'bench', ticketConfiguration: { WorkItemType: 'Incident' } }],
  });
  const hook = `${url}/hooks/${c.actionGroups.secretOf(row)}`;
  process.stdout.write(JSON.stringify({ url, hook }) + '\n');
  process.on('message', async (m) => {
    if (m === 'count') process.send!({ alerts: await c.store.alerts.count(), jobs: (await c.store.jobs.counts()).pending, commit: c.ingest.stats });
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

export default async function run(): Promise<BenchResult[]> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'itsmc-p1-'));
  const child: ChildProcess = spawn(
    process.execPath,
    [...(process.env.P1_NODE_ARGS ?? '').split(' ').filter(Boolean), '--import', 'tsx', fileURLToPath(import.meta.url)],
    {
      env: { ...process.env, P1_SERVE: '1', ITSMC_DATA_DIR: dataDir, ITSMC_LOG_LEVEL: 'error' },
      stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
    },
  );
  try {
    const { url, hook } = await new Promise<{ url: string; hook: string }>((resolve, reject) => {
      let buf = '';
      child.stdout!.on('data', (d) => {
        buf += d;
        const line = buf.split('\n').find((l) => l.startsWith('{'));
        if (line) resolve(JSON.parse(line));
      });
      child.once('exit', (code) => reject(new Error(`bench server exited with ${code}`)));
    });
    const counts = () =>
      new Promise<{ alerts: number; jobs: number; commit: { batches: number; items: number; writeMs: number } }>((resolve) => {
        child.once('message', (m) => resolve(m as any));
        child.send('count');
      });
    const body = alertBody();
    await load(hook, body, { seconds: 2, connections: 32 }); // warm-up (JIT, page cache, WAL)
    await load(`${url}/noop`, body, { seconds: 1, connections: 32 });
    const noop = await load(`${url}/noop`, body, { seconds: SECONDS, connections: 32 });
    const c0 = await counts();
    const ingest = await load(hook, body, { seconds: SECONDS, connections: 256 });
    const c1 = await counts();
    const batches = c1.commit.batches - c0.commit.batches;
    process.stderr.write(
      `  full load: ${batches} transactions, ${((c1.commit.items - c0.commit.items) / batches).toFixed(1)} alerts each, ${((c1.commit.writeMs - c0.commit.writeMs) / batches).toFixed(2)} ms each\n`,
    );
    const paced = await load(hook, body, { seconds: SECONDS, connections: 32, rate: 2000 });
    const noopPaced = await load(`${url}/noop`, body, { seconds: SECONDS, connections: 32, rate: 2000 });
    const final = await counts();
    const sent = 2 * 32 + ingest.total + paced.total; // warm-up is approximate; the check is "no 202 without a row"
    if (final.alerts < ingest.total + paced.total) throw new Error(`only ${final.alerts} alerts stored for ${sent} accepted`);
    return [
      {
        id: 'P1',
        name: 'Durable alert ingest, SQLite FULL (webhook → alert + job committed)',
        value: ingest.rps,
        unit: 'alerts/s',
        goal: '≥ 10,000 alerts/s',
        baseline: noop.rps,
        ratio: ingest.rps / noop.rps,
      },
      {
        id: 'P1',
        name: 'Accept latency p99 at 2,000 alerts/s',
        value: paced.p99,
        unit: 'ms',
        goal: 'p99 ≤ 20 ms',
        baseline: noopPaced.p99,
        ratio: noopPaced.p99 > 0 ? paced.p99 / noopPaced.p99 : null,
      },
      {
        id: 'P1',
        name: 'Accept latency p50 at 2,000 alerts/s',
        value: paced.p50,
        unit: 'ms',
        goal: null,
        baseline: noopPaced.p50,
        ratio: noopPaced.p50 > 0 ? paced.p50 / noopPaced.p50 : null,
      },
    ];
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

if (process.env.P1_SERVE === '1') void serve();
