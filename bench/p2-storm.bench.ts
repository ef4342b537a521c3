/**
 * P2: alert storm economy. 10,000 alerts over 100 dedup keys against the ServiceNow sandbox: per key 50
 * firings (new alert ids of the same rule, interleaved with the other keys) and then their 50 resolves.
 * The least any connector can do is one create per key and one resolve per key: distinct keys + state
 * changes = 200. Measured: partner operations (PartnerClient calls made by the delivery engine) and the
 * HTTP requests the sandbox counted (excluding OAuth), both against that floor.
 */
import { drained, fastDelivery, metricAlert, sandboxAdmin, startRig } from '../test/delivery/helpers.ts';
import type { BenchResult } from './types.ts';

const KEYS = 100;
const PER_KEY = 100;

export default async function run(): Promise<BenchResult[]> {
  const rig = await startRig('sqlite', fastDelivery({ pollMs: 50 }));
  try {
    const res = await fetch(`${rig.c.url}/api/v1/workspaces/default/actionGroups/storm`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${rig.token}`, 'content-type': 'application/json' },
      // Default coalescing window (noteCoalesceSeconds 60): occurrences within a minute share one note.
      body: JSON.stringify({ itsmReceivers: [{ name: 'inc', connectionName: 'snow', ticketConfiguration: { WorkItemType: 'Incident' } }] }),
    });
    const group = (await res.json()) as { webhookUrl: string };
    await sandboxAdmin(rig.sandbox, 'POST', '/api/x_sandbox/stats/reset');
    const before = { ...rig.c.delivery.stats, calls: { ...rig.c.delivery.stats.calls } };

    const fired: unknown[] = [];
    const resolved: unknown[] = [];
    for (let n = 0; n < PER_KEY / 2; n++) {
      for (let k = 0; k < KEYS; k++) {
        const o = { rule: `storm-${k}`, alertId: `st-${k}-${n}`, cis: [] as string[] };
        fired.push(metricAlert(o));
        resolved.push(metricAlert({ ...o, condition: 'Resolved' }));
      }
    }
    shuffle(fired);
    shuffle(resolved);
    const started = Date.now();
    await post(group.webhookUrl, fired);
    await post(group.webhookUrl, resolved);
    const posted = Date.now();
    await drained(rig.c, 300_000);
    const done = Date.now();

    const stats = rig.c.delivery.stats;
    const ops = stats.partnerCalls - before.partnerCalls;
    const sb = (await sandboxAdmin(rig.sandbox, 'GET', '/api/x_sandbox/stats')) as { byRoute: Record<string, number> };
    const http = Object.entries(sb.byRoute)
      .filter(([route]) => !route.includes('oauth'))
      .reduce((n, [, v]) => n + v, 0);
    const writes = Object.entries(sb.byRoute)
      .filter(([route]) => /^(POST|PATCH|PUT) /.test(route) && !route.includes('oauth'))
      .reduce((n, [, v]) => n + v, 0);
    const floor = KEYS + KEYS; // one create and one resolve per key
    process.stderr.write(
      `  storm: ${KEYS * PER_KEY} alerts posted in ${posted - started} ms, delivered ${done - started} ms after the first; ops ${JSON.stringify(diffCalls(before.calls, stats.calls))}; sandbox ${JSON.stringify(sb.byRoute)}\n`,
    );
    return [
      {
        id: 'P2',
        name: `Storm economy: partner operations, ${KEYS * PER_KEY} alerts / ${KEYS} keys`,
        value: ops / floor,
        unit: '× (keys + state changes)',
        goal: '≤ 1.1 ×',
        baseline: floor,
        ratio: ops / floor,
      },
      {
        id: 'P2',
        name: 'Storm economy: partner HTTP requests (all, sandbox count)',
        value: http / floor,
        unit: '× (keys + state changes)',
        goal: null,
        baseline: floor,
        ratio: http / floor,
      },
      {
        id: 'P2',
        name: 'Storm economy: partner write requests (POST/PATCH)',
        value: writes / floor,
        unit: '× (keys + state changes)',
        goal: null,
        baseline: floor,
        ratio: writes / floor,
      },
    ];
  } finally {
    await rig.cleanup();
  }
}

async function post(url: string, bodies: unknown[]): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < bodies.length) {
      const body = bodies[next++];
      const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      await res.text();
      if (res.status !== 202) throw new Error(`webhook answered ${res.status}`);
    }
  };
  await Promise.all(Array.from({ length: 32 }, worker));
}

function shuffle<T>(a: T[]): void {
  let seed = 7;
  const rnd = () => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [a[i], a[j]] = [a[j], a[i]];
  }
}

function diffCalls(a: Record<string, number>, b: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(b).map(([k, v]) => [k, v - (a[k] ?? 0)]));
}
