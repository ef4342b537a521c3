/**
 * P4 sync: a ServiceNow sandbox with 200,000 and then 500,000 incidents over 120 days, each synced end to
 * end (the real ServiceNow client over HTTP, the sync engine) into a fresh SQLite store and a fresh
 * PostgreSQL schema — records/s beside a plain client paging the same sandbox (the same pages, fields and
 * display values, JSON-parsed) right before each sync in the same run; then 1,000 incidents changed in
 * the sandbox and an incremental sync: seconds.
 *
 * The sandbox runs in a child process (this file with P4_SANDBOX_CHILD=1), so the connector and the
 * emulator each have a core, as they would in production. P4_RECORDS overrides the volumes (comma
 * separated), P4_STORES the stores (`sqlite,postgres`). PostgreSQL is ITSMC_TEST_DATABASE_URL (default
 * postgres://postgres@127.0.0.1:5432/test), each run in a schema of its own that is dropped afterwards.
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

const PG_URL = process.env.ITSMC_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

type StoreKind = 'sqlite' | 'postgres';
const STORE_LABEL: Record<StoreKind, string> = { sqlite: 'SQLite', postgres: 'PostgreSQL' };

/** 1,000 active incidents changed in the sandbox (not timed). */
async function changeIncidents(url: string): Promise<void> {
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
}

/** A fresh store: SQLite in a temporary directory, PostgreSQL in a schema of its own; `drop` removes it. */
async function freshStore(kind: StoreKind, tag: string) {
  const { Store } = await import('../src/store/store.ts');
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'itsmc-p4-'));
  const pgSchema = `p4_${process.pid}_${tag}`;
  const store = await Store.open(kind === 'postgres' ? { dataDir, databaseUrl: PG_URL, pgSchema } : { dataDir });
  const drop = async () => {
    await store.close();
    if (kind === 'postgres') {
      const pg = (await import('pg')).default;
      const admin = new pg.Client({ connectionString: PG_URL });
      await admin.connect();
      await admin.query(`DROP SCHEMA IF EXISTS "${pgSchema}" CASCADE`).finally(() => admin.end());
    }
    fs.rmSync(dataDir, { recursive: true, force: true });
  };
  return { store, drop };
}

async function postgresReachable(): Promise<boolean> {
  const pg = (await import('pg')).default;
  const client = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch (err) {
    process.stderr.write(
      `  PostgreSQL at ${PG_URL.replace(/\/\/[^@]*@/, '//')} not reachable (${err instanceof Error ? err.message : String(err)}): PostgreSQL rows skipped\n`,
    );
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** The full sync of one store against the running sandbox, with the plain client's rate measured just before it. */
async function syncOnce(kind: StoreKind, url: string, records: number, pageSize: number): Promise<BenchResult[]> {
  const { SecretBox } = await import('../src/security/envelope.ts');
  const { ConnectionService } = await import('../src/connections/service.ts');
  const { SyncEngine } = await import('../src/sync/engine.ts');
  const { syncFields, isoToSnDate } = await import('../src/partners/servicenow/mapping.ts');
  await import('../src/partners/registry.ts');
  const { store, drop } = await freshStore(kind, String(records));
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
    const label = `${records.toLocaleString('en-US')}, ${STORE_LABEL[kind]}`;

    // The plain client right before the sync: the same sandbox, warmed the same way, under the same load.
    const since = isoToSnDate(new Date(Date.now() - 120 * 86_400_000).toISOString());
    const baseline = await rawListRate(url, syncFields('Incident'), since, pageSize, Infinity);
    process.stderr.write(`  [${label}] plain client: ${Math.round(baseline).toLocaleString('en-US')} records/s\n`);

    const t0 = performance.now();
    const cpu0 = process.cpuUsage();
    const full = await engine.run(row);
    const fullSeconds = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    if (full.status !== 'ok') throw new Error(`full sync ended ${full.status}: ${full.error}`);
    if (full.appended !== full.fetched) throw new Error(`first sync appended ${full.appended} rows for ${full.fetched} records`);
    const rate = full.fetched / fullSeconds;
    process.stderr.write(
      `  [${label}] full sync: ${full.fetched.toLocaleString('en-US')} records in ${fullSeconds.toFixed(1)} s (connector CPU ${((cpu.user + cpu.system) / full.fetched).toFixed(0)} µs/record), RSS ${Math.round(process.memoryUsage().rss / 1e6)} MB, load ${os.loadavg()[0].toFixed(2)}\n`,
    );

    await changeIncidents(url);
    const t1 = performance.now();
    const incremental = await engine.run((await store.connections.getById(row.id))!);
    const incSeconds = (performance.now() - t1) / 1000;
    if (incremental.status !== 'ok') throw new Error(`incremental sync ended ${incremental.status}: ${incremental.error}`);
    process.stderr.write(`  [${label}] incremental: ${incremental.fetched} read, ${incremental.appended} new rows in ${incSeconds.toFixed(3)} s\n`);
    await engine.close();
    return [
      {
        id: 'P4',
        name: `first sync of ${records.toLocaleString('en-US')} incidents (${STORE_LABEL[kind]}), plain client paging the sandbox as baseline`,
        value: rate,
        unit: 'records/s',
        goal: '≥ 25,000 records/s and ≥ 0.6',
        baseline,
        ratio: rate / baseline,
      },
      {
        id: 'P4',
        name: `incremental sync of ${incremental.appended.toLocaleString('en-US')} changes after it (${STORE_LABEL[kind]})`,
        value: incSeconds,
        unit: 's',
        goal: '≤ 1 s',
        baseline: null,
        ratio: null,
      },
    ];
  } finally {
    await drop();
  }
}

export default async function run(): Promise<BenchResult[]> {
  const volumes = (process.env.P4_RECORDS ?? '200000,500000').split(',').map(Number);
  if (volumes.some((n) => !Number.isInteger(n) || n < 1000)) throw new Error(`P4_RECORDS must be counts of at least 1,000: ${process.env.P4_RECORDS}`);
  const wanted = (process.env.P4_STORES ?? 'sqlite,postgres').split(',') as StoreKind[];
  const stores = wanted.filter((k) => k === 'sqlite') as StoreKind[];
  if (wanted.includes('postgres') && (await postgresReachable())) stores.push('postgres');
  const pageSize = 2000;
  const results: BenchResult[] = [];
  for (const records of volumes) {
    const seedStart = performance.now();
    const { url, child } = await startSandboxChild(records);
    process.stderr.write(`  sandbox with ${records.toLocaleString('en-US')} incidents seeded in ${((performance.now() - seedStart) / 1000).toFixed(1)} s\n`);
    try {
      for (const kind of stores) results.push(...(await syncOnce(kind, url, records, pageSize)));
    } finally {
      child.kill('SIGTERM');
    }
  }
  return results;
}
