/**
 * P3: alert → work item latency at 200 alerts/s against the ServiceNow sandbox (SQLite and PostgreSQL stores,
 * default delivery settings; P3_STORES limits them). Every alert is a new rule, so every alert creates an incident. Latency per alert =
 * the outcome row's time (the incident exists and its link is committed) − the time the webhook request
 * arrived. Measured in the same run: the sandbox's own service time for the same create
 * (POST /api/now/table/incident at 200/s with an OAuth token). Load is open-loop (a request every 5 ms,
 * whatever the answers), like independent senders. Reported: p50/p99 above that service time.
 */
import { drained, metricAlert, startRig } from '../test/delivery/helpers.ts';
import type { TestDialect } from '../test/helpers/stores.ts';
import type { BenchResult } from './types.ts';

const RATE = 200;
const SECONDS = Number(process.env.P3_SECONDS ?? 10);

function pct(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

export default async function run(): Promise<BenchResult[]> {
  const stores = (process.env.P3_STORES ?? 'sqlite,postgres').split(',') as TestDialect[];
  const results: BenchResult[] = [];
  for (const store of stores) results.push(...(await measure(store)));
  return results;
}

async function measure(store: TestDialect): Promise<BenchResult[]> {
  const label = store === 'sqlite' ? 'SQLite' : 'PostgreSQL';
  const rig = await startRig(store, { enabled: true });
  try {
    const put = await fetch(`${rig.c.url}/api/v1/workspaces/default/actionGroups/latency`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${rig.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ itsmReceivers: [{ name: 'inc', connectionName: 'snow', ticketConfiguration: { WorkItemType: 'Incident' } }] }),
    });
    const { webhookUrl } = (await put.json()) as { webhookUrl: string };

    // Warm-up: CI lookup cached, token fresh, JIT.
    for (let i = 0; i < 20; i++)
      await fetch(webhookUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(metricAlert({ rule: `warm-${i}`, alertId: `warm-${i}` })),
      });
    await drained(rig.c);

    // The sandbox alone: the same create at the same rate.
    const token = await oauthToken(rig.sandbox.url);
    const direct = await paced(RATE, SECONDS, async (n) => {
      const res = await fetch(`${rig.sandbox.url}/api/now/table/incident?sysparm_fields=sys_id,number,state`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify({
          short_description: `[Sev2] direct-${n} on vm-01`,
          description: 'x'.repeat(900),
          correlation_id: `direct:${n}`,
          correlation_display: 'OpenITSMC',
          impact: '2',
          urgency: '2',
        }),
      });
      await res.text();
      if (res.status !== 201) throw new Error(`sandbox direct create: ${res.status}`);
    });

    // Through the connector.
    const startedAt = Date.now();
    const runId = Date.now().toString(36);
    const accept = await paced(RATE, SECONDS, async (n) => {
      const res = await fetch(webhookUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(metricAlert({ rule: `lat-${runId}-${n}`, alertId: `lat-${runId}-${n}` })),
      });
      await res.text();
      if (res.status !== 202) throw new Error(`webhook: ${res.status}`);
    });
    await drained(rig.c, 120_000);

    const ph = rig.c.store.databaseKind === 'sqlite' ? '?' : '$1';
    const alerts = await rig.c.store.sql.query(`SELECT alert_id, received_at FROM alerts WHERE received_at >= ${ph}`, [startedAt]);
    const outcomes = await rig.c.store.sql.query(
      `SELECT "AlertId_s", "TimeGenerated" FROM ws_itsmactionoutcome_cl WHERE "Operation_s" = 'Created' AND "TimeGenerated" >= ${ph}`,
      [startedAt],
    );
    const created = new Map(outcomes.rows.map((r) => [String(r[0]), Number(r[1])]));
    const latencies: number[] = [];
    for (const [alertId, receivedAt] of alerts.rows) {
      const at = created.get(String(alertId));
      if (at !== undefined) latencies.push(at - Number(receivedAt));
    }
    if (latencies.length < alerts.rows.length * 0.99) throw new Error(`only ${latencies.length} of ${alerts.rows.length} alerts have a Created outcome`);
    latencies.sort((a, b) => a - b);
    const e2e50 = pct(latencies, 50);
    const e2e99 = pct(latencies, 99);
    const svc50 = pct(direct, 50);
    const svc99 = pct(direct, 99);
    process.stderr.write(
      `  P3 ${label}: ${latencies.length} alerts; alert→work item p50 ${e2e50} ms, p99 ${e2e99} ms; sandbox create p50 ${svc50.toFixed(1)} ms, p99 ${svc99.toFixed(1)} ms; webhook accept p50 ${pct(accept, 50).toFixed(1)} ms, p99 ${pct(accept, 99).toFixed(1)} ms\n`,
    );

    // The same alerts resolve at the same rate: alert resolved → work item resolved (a resolve never waits for a
    // note's coalescing window). Compared with the sandbox's own service time for the update that resolves.
    const directResolve = await paced(RATE, SECONDS, async (n) => {
      const res = await fetch(`${rig.sandbox.url}/api/now/table/incident?sysparm_fields=sys_id,number,state`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify({
          short_description: `direct-resolve-${n}`,
          correlation_id: `direct-resolve:${n}`,
          state: '6',
          close_code: 'Solution provided',
          close_notes: 'resolved',
        }),
      });
      await res.text();
    });
    const resolvedFrom = Date.now();
    await paced(RATE, SECONDS, async (n) => {
      const res = await fetch(webhookUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(metricAlert({ rule: `lat-${runId}-${n}`, alertId: `lat-${runId}-${n}`, condition: 'Resolved' })),
      });
      await res.text();
      if (res.status !== 202) throw new Error(`webhook (resolve): ${res.status}`);
    });
    await drained(rig.c, 120_000);
    const resolvedAlerts = await rig.c.store.sql.query(
      `SELECT alert_id, received_at FROM alerts WHERE received_at >= ${ph} AND monitor_condition = 'Resolved'`,
      [resolvedFrom],
    );
    const resolvedOutcomes = await rig.c.store.sql.query(
      `SELECT "AlertId_s", "TimeGenerated" FROM ws_itsmactionoutcome_cl WHERE "Operation_s" = 'Resolved' AND "TimeGenerated" >= ${ph}`,
      [resolvedFrom],
    );
    const resolvedAt = new Map(resolvedOutcomes.rows.map((r) => [String(r[0]), Number(r[1])]));
    const resolveLatencies = resolvedAlerts.rows.flatMap(([alertId, receivedAt]) =>
      resolvedAt.has(String(alertId)) ? [resolvedAt.get(String(alertId))! - Number(receivedAt)] : [],
    );
    if (resolveLatencies.length < resolvedAlerts.rows.length * 0.99)
      throw new Error(`only ${resolveLatencies.length} of ${resolvedAlerts.rows.length} resolved alerts have a Resolved outcome`);
    resolveLatencies.sort((a, b) => a - b);
    const r50 = pct(resolveLatencies, 50);
    const r99 = pct(resolveLatencies, 99);
    const rs50 = pct(directResolve, 50);
    const rs99 = pct(directResolve, 99);
    process.stderr.write(
      `  P3 ${label}: ${resolveLatencies.length} resolves; alert resolved→work item resolved p50 ${r50} ms, p99 ${r99} ms; sandbox write p50 ${rs50.toFixed(1)} ms, p99 ${rs99.toFixed(1)} ms\n`,
    );
    return [
      {
        id: 'P3',
        name: `Alert → work item latency p50 above the sandbox's create (${RATE}/s), ${label}`,
        value: e2e50 - svc50,
        unit: 'ms',
        goal: 'p50 ≤ 30 ms',
        baseline: svc50,
        ratio: svc50 > 0 ? e2e50 / svc50 : null,
      },
      {
        id: 'P3',
        name: `Alert → work item latency p99 above the sandbox's create (${RATE}/s), ${label}`,
        value: e2e99 - svc99,
        unit: 'ms',
        goal: 'p99 ≤ 150 ms',
        baseline: svc99,
        ratio: svc99 > 0 ? e2e99 / svc99 : null,
      },
      {
        id: 'P3',
        name: `Alert resolved → work item resolved p50 above the sandbox's write (${RATE}/s), ${label}`,
        value: r50 - rs50,
        unit: 'ms',
        goal: 'p50 ≤ 30 ms',
        baseline: rs50,
        ratio: rs50 > 0 ? r50 / rs50 : null,
      },
      {
        id: 'P3',
        name: `Alert resolved → work item resolved p99 above the sandbox's write (${RATE}/s), ${label}`,
        value: r99 - rs99,
        unit: 'ms',
        goal: 'p99 ≤ 150 ms',
        baseline: rs99,
        ratio: rs99 > 0 ? r99 / rs99 : null,
      },
    ];
  } finally {
    await rig.cleanup();
  }
}

/** Starts `fn(n)` at a fixed rate (open loop, like independent senders); returns each call's latency, sorted. */
async function paced(rate: number, seconds: number, fn: (n: number) => Promise<void>): Promise<number[]> {
  const total = rate * seconds;
  const t0 = performance.now();
  const latencies: number[] = [];
  const calls: Promise<void>[] = [];
  for (let n = 1; n <= total; n++) {
    const wait = t0 + ((n - 1) * 1000) / rate - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    calls.push(
      (async () => {
        const started = performance.now();
        await fn(n);
        latencies.push(performance.now() - started);
      })(),
    );
  }
  await Promise.all(calls);
  return latencies.sort((a, b) => a - b);
}

async function oauthToken(base: string): Promise<string> {
  const res = await fetch(`${base}/oauth_token.do`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'password',
      client_id: 'itsmc-sandbox',
      client_secret: 'sandbox-secret',
      username: 'itsmc.integration',
      password: 'sandbox',
    }),
  });
  const json = (await res.json()) as { access_token?: string };
  if (!json.access_token) throw new Error(`sandbox token: ${res.status} ${JSON.stringify(json)}`);
  return json.access_token;
}
