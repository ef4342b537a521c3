/**
 * P4 sync: a ServiceNow sandbox with 500,000 incidents over 120 days, synced end to end (the real
 * ServiceNow client over HTTP, the sync engine, SQLite) — records/s beside the sandbox's own list
 * throughput read raw with fetch in the same run (the same pages, fields and display values, JSON-parsed);
 * then 1,000 incidents changed in the sandbox and an incremental sync: seconds.
 *
 * The sandbox runs in a child process (this file with P4_SANDBOX_CHILD=1), so the connector and the
 * emulator each have a core, as they would in production. P4_RECORDS overrides the volume.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BenchResult } from './types.ts';

const here = fileURLToPath(import.meta.url);
const ADMIN = 'Basic ' + Buffer.from('admin:admin').toString('base64');

if (process.env.P4_SANDBOX_CHILD === '1') {
  const { startServiceNowSandbox } = await import('../src/sandbox/servicenow/index.ts');
  const sandbox = await startServiceNowSandbox({
    port: 0,
    seed: 4,
    days: 120,
    volume: { incidents: Number(process.env.P4_RECORDS), changeRequests: 0, computers: 500 },
  });
  process.stdout.write(`SANDBOX ${sandbox.url}\n`);
  process.on('SIGTERM', () => {
    void sandbox.close().finally(() => process.exit(0));
  });
}

async function startSandboxChild(records: number): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(process.execPath, ['--import', 'tsx', here], {
    env: { ...process.env, P4_SANDBOX_CHILD: '1', P4_RECORDS: String(records) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const m = /SANDBOX (\S+)/.exec(out);
      if (m) resolve(m[1]);
    });
    child.once('exit', (code) => reject(new Error(`sandbox child exited with ${code}`)));
  });
  return { url, child };
}

/** The sandbox's own list throughput: the pages the client reads, keyset-paged, fetched and parsed. */
async function rawListRate(url: string, fields: string[], since: string, limit: number, maxRecords: number): Promise<number> {
  const started = performance.now();
  let total = 0;
  let query = `sys_updated_on>=${since}^ORDERBYsys_updated_on^ORDERBYsys_id`;
  for (;;) {
    const params = new URLSearchParams({
      sysparm_query: query,
      sysparm_fields: fields.join(','),
      sysparm_limit: String(limit),
      sysparm_display_value: 'all',
      sysparm_exclude_reference_link: 'true',
      sysparm_suppress_pagination_header: 'true',
      sysparm_no_count: 'true',
    });
    const res = await fetch(`${url}/api/now/table/incident?${params}`, { headers: { authorization: ADMIN, accept: 'application/json' } });
    const body = (await res.json()) as { result: Record<string, { value: string }>[] };
    total += body.result.length;
    if (body.result.length < limit || total >= maxRecords) break;
    const last = body.result[body.result.length - 1];
    const u = last.sys_updated_on.value;
    query = `sys_updated_on>${u}^NQsys_updated_on=${u}^sys_id>${last.sys_id.value}^ORDERBYsys_updated_on^ORDERBYsys_id`;
  }
  return total / ((performance.now() - started) / 1000);
}

export default async function run(): Promise<BenchResult[]> {
  const records = Number(process.env.P4_RECORDS ?? 500_000);
  const pageSize = 2000;
  const { Store } = await import('../src/store/store.ts');
  const { SecretBox } = await import('../src/security/envelope.ts');
  const { ConnectionService } = await import('../src/connections/service.ts');
  const { SyncEngine } = await import('../src/sync/engine.ts');
  const { syncFields, isoToSnDate } = await import('../src/partners/servicenow/mapping.ts');
  await import('../src/partners/registry.ts');

  const seedStart = performance.now();
  const { url, child } = await startSandboxChild(records);
  process.stderr.write(`  sandbox with ${records.toLocaleString('en-US')} incidents seeded in ${((performance.now() - seedStart) / 1000).toFixed(1)} s\n`);
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'itsmc-p4-'));
  const store = await Store.open({ dataDir });
  try {
    await store.migrate();
    await store.workspaces.ensure('default');
    const box = new SecretBox([{ version: 1, key: Buffer.alloc(32, 7) }]);
    const connections = new ConnectionService(store, box, { allowedPartnerHosts: [new URL(url).host], partnerTimeoutMs: 120_000 });
    await connections.put('default', 'p4', {
      partnerType: 'ServiceNow',
      serverUrl: url,
      username: 'itsmc.integration',
      password: 'sandbox',
      clientId: 'itsmc-sandbox',
      clientSecret: 'sandbox-secret',
      dataSyncScope: ['Incident'],
      syncDataDays: 120,
    });
    const row = (await store.connections.get('default', 'p4'))!;
    const engine = new SyncEngine(store, { client: (r) => connections.client(r), pageSize });

    // Baseline first (warms the sandbox's page cache the same way for both).
    const since = isoToSnDate(new Date(Date.now() - 120 * 86_400_000).toISOString());
    const baseline = await rawListRate(url, syncFields('Incident'), since, pageSize, Infinity);
    process.stderr.write(`  raw list: ${Math.round(baseline).toLocaleString('en-US')} records/s\n`);

    const t0 = performance.now();
    const cpu0 = process.cpuUsage();
    const full = await engine.run(row);
    const fullSeconds = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    if (full.status !== 'ok') throw new Error(`full sync ended ${full.status}: ${full.error}`);
    const rate = full.fetched / fullSeconds;
    process.stderr.write(
      `  full sync: ${full.fetched.toLocaleString('en-US')} records in ${fullSeconds.toFixed(1)} s (connector CPU ${((cpu.user + cpu.system) / full.fetched).toFixed(0)} µs/record), RSS ${Math.round(process.memoryUsage().rss / 1e6)} MB\n`,
    );

    // 1,000 changes in the sandbox (not timed), then the incremental sync (timed).
    const list = await fetch(
      `${url}/api/now/table/incident?sysparm_fields=sys_id&sysparm_limit=1000&sysparm_query=${encodeURIComponent('active=true^ORDERBYsys_id')}`,
      {
        headers: { authorization: ADMIN, accept: 'application/json' },
      },
    );
    const ids = ((await list.json()) as { result: { sys_id: string }[] }).result.map((r) => r.sys_id);
    if (ids.length < 1000) throw new Error(`only ${ids.length} active incidents to change`);
    for (let i = 0; i < ids.length; i += 20) {
      await Promise.all(
        ids.slice(i, i + 20).map(async (id, j) => {
          const res = await fetch(`${url}/api/now/table/incident/${id}`, {
            method: 'PATCH',
            headers: { authorization: ADMIN, accept: 'application/json', 'content-type': 'application/json' },
            body: JSON.stringify({ urgency: String(((i + j) % 3) + 1), work_notes: 'P4 incremental change' }),
          });
          if (!res.ok) throw new Error(`PATCH ${id}: ${res.status} ${await res.text()}`);
          await res.arrayBuffer();
        }),
      );
    }
    const t1 = performance.now();
    const incremental = await engine.run((await store.connections.getById(row.id))!);
    const incSeconds = (performance.now() - t1) / 1000;
    if (incremental.status !== 'ok') throw new Error(`incremental sync ended ${incremental.status}: ${incremental.error}`);
    process.stderr.write(`  incremental: ${incremental.fetched} read, ${incremental.appended} new rows in ${incSeconds.toFixed(3)} s\n`);
    await engine.close();

    const scale = records === 500_000 ? '500,000' : records.toLocaleString('en-US');
    return [
      {
        id: 'P4',
        name: `sync ${scale} incidents end to end (SQLite), raw sandbox list as baseline`,
        value: rate,
        unit: 'records/s',
        goal: '≥ 25,000 records/s',
        baseline,
        ratio: rate / baseline,
      },
      {
        id: 'P4',
        name: `incremental sync of ${incremental.appended.toLocaleString('en-US')} changes`,
        value: incSeconds,
        unit: 's',
        goal: '≤ 1 s',
        baseline: null,
        ratio: null,
      },
    ];
  } finally {
    await store.close();
    child.kill('SIGTERM');
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}
