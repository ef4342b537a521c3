/**
 * P5 / P6: KQL over 1,000,000 synthetic ServiceDesk_CL rows in a temporary SQLite file, each SPEC query
 * timed through the whole engine (parse → check → compile → execute → result conversion) beside
 * hand-written SQL for the same result, in the same run (median of several runs, after one warm-up).
 */
import Database from 'better-sqlite3';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { BenchResult } from './types.ts';
import { productionLaunch, type ProductionLaunch } from './production-launch.ts';
import { createWorkspaceTablesSql, insertRowSql, toStorageRow } from '../src/store/workspace-tables-sql.ts';
import { registerSqliteFunctions, runKql, translateKql, warmUpKql, type SqlRunner } from '../src/workspace/query.ts';
import { seededRandom } from '../src/core/random.ts';

const ROWS = 1_000_000;
const RUNS = 11;
const SLOW_RUNS = 3;
const WORKSPACE = 'default';
const NOW = Date.UTC(2026, 5, 1);
const DAY = 86400000;
const PG_URL = process.env.ITSMC_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

function weighted<T>(r: () => number, items: [T, number][]): T {
  const total = items.reduce((s, [, w]) => s + w, 0);
  let x = r() * total;
  for (const [v, w] of items) if ((x -= w) < 0) return v;
  return items[items.length - 1][0];
}

const INCIDENT_STATES: [string, number][] = [
  ['New', 10],
  ['In Progress', 25],
  ['On Hold', 5],
  ['Resolved', 30],
  ['Closed', 28],
  ['Canceled', 2],
];
const CR_STATES: [string, number][] = [
  ['New', 10],
  ['Assess', 10],
  ['Authorize', 5],
  ['Scheduled', 15],
  ['Implement', 10],
  ['Review', 10],
  ['Closed', 38],
  ['Canceled', 2],
];
const PRIORITIES: [string, number][] = [
  ['1 - Critical', 3],
  ['2 - High', 12],
  ['3 - Moderate', 35],
  ['4 - Low', 45],
  ['5 - Planning', 5],
];
const LEVELS = ['1 - High', '2 - Medium', '3 - Low'];
const CATEGORIES = ['Network', 'Hardware', 'Software', 'Database', 'Inquiry / Help', 'Storage', 'Security', 'Email'];
const SOURCES = ['Monitoring', 'Email', 'Phone', 'Self-service', 'Chat'];
const TITLES = [
  'Disk space low on',
  'High CPU on',
  'Service down on',
  'Backup failed on',
  'Memory pressure on',
  'Certificate expiring on',
  'Patch window for',
  'Login failures on',
];

function* syntheticRows(n: number): Generator<Record<string, unknown>> {
  const r = seededRandom(42);
  const items = Math.floor(n / 5); // about five versions per work item
  const people = Array.from({ length: 200 }, (_, i) => `user${String(i).padStart(3, '0')}@contoso.com`);
  for (let i = 0; i < n; i++) {
    const item = Math.floor(r() * items);
    const isIncident = item % 5 !== 0;
    const created = NOW - 120 * DAY + Math.floor((item / items) * 118 * DAY);
    const t = Math.min(NOW, created + Math.floor(r() * 10 * DAY));
    const computer = `srv-${String(Math.floor(r() * r() * 2000)).padStart(4, '0')}`;
    const state = weighted(r, isIncident ? INCIDENT_STATES : CR_STATES);
    const done = state === 'Resolved' || state === 'Closed';
    const row: Record<string, unknown> = {
      TimeGenerated: t,
      ServiceDeskConnectionName_s: item % 3 === 0 ? 'ServiceNow-EU' : 'ServiceNow-US',
      ServiceDeskWorkItemType_s: isIncident ? 'Incident' : 'ChangeRequest',
      ServiceDeskId_s: (isIncident ? 'INC' : 'CHG') + String(item).padStart(7, '0'),
      Urgency_s: LEVELS[Math.floor(r() * 3)],
      Impact_s: LEVELS[Math.floor(r() * 3)],
      Priority_s: weighted(r, PRIORITIES),
      CreatedBy_s: people[Math.floor(r() * people.length)],
      AssignedTo_s: people[Math.floor(r() * people.length)],
      Category_s: CATEGORIES[Math.floor(r() * CATEGORIES.length)],
      Source_s: SOURCES[Math.floor(r() * SOURCES.length)],
      Title_s: `${TITLES[item % TITLES.length]} ${computer}`,
      Description_s: `Alert from monitoring: ${TITLES[item % TITLES.length].toLowerCase()} ${computer}. Rule ${item % 97}; see runbook RB-${item % 31}.`,
      CreatedDate_t: created,
      Computer: computer,
      SourceSystem: 'RestAPI',
    };
    if (isIncident) {
      row.IncidentState_s = state;
      if (done) {
        row.ResolvedDate_t = t;
        row.ResolvedBy_s = row.AssignedTo_s;
      }
      if (state === 'Closed') {
        row.ClosedDate_t = t;
        row.ClosedBy_s = row.AssignedTo_s;
      }
    } else {
      row.CRState_s = state;
      row.Type_s = ['Normal', 'Standard', 'Emergency'][item % 3];
      row.Risk_s = LEVELS[item % 3];
      row.RequestedDate_t = created;
      row.PlannedStartDate_t = created + 2 * DAY;
      row.PlannedEndDate_t = created + 3 * DAY;
      if (done) {
        row.WorkStartDate_t = created + 2 * DAY;
        row.WorkEndDate_t = created + 2 * DAY + 3600000;
        row.ClosedDate_t = t;
      }
    }
    yield row;
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/** Median ms of `a` and of `b`, measured alternately (so machine noise hits both alike), after one warm-up each. */
async function timePair(a: () => unknown, b: () => unknown, runs: number): Promise<[number, number]> {
  await a();
  await b();
  const sa: number[] = [];
  const sb: number[] = [];
  for (let i = 0; i < runs; i++) {
    let t0 = performance.now();
    await a();
    sa.push(performance.now() - t0);
    t0 = performance.now();
    await b();
    sb.push(performance.now() - t0);
  }
  return [median(sa), median(sb)];
}

export default async function run(): Promise<BenchResult[]> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'itsmc-kql-bench-'));
  const db = new Database(path.join(dir, 'ws.sqlite'));
  try {
    // Bulk load without a journal (a throw-away file); queries then run in WAL mode as in production.
    db.pragma('journal_mode = OFF');
    db.pragma('synchronous = OFF');
    registerSqliteFunctions(db);
    // Tables first, indexes after the bulk load (same DDL, just ordered for a faster load).
    const ddl = createWorkspaceTablesSql('sqlite');
    for (const s of ddl.filter((x) => x.startsWith('CREATE TABLE'))) db.exec(s);
    const insert = db.prepare(insertRowSql('ServiceDesk_CL', 'sqlite'));
    const load = db.transaction((rows: Iterable<Record<string, unknown>>) => {
      for (const row of rows) insert.run(WORKSPACE, ...toStorageRow('ServiceDesk_CL', row, 'sqlite'));
    });
    load(syntheticRows(ROWS));
    for (const s of ddl.filter((x) => !x.startsWith('CREATE TABLE'))) db.exec(s);
    db.exec('ANALYZE');
    db.pragma('journal_mode = WAL');

    const runner: SqlRunner = {
      dialect: 'sqlite',
      async query(sql, params) {
        return {
          rows: db
            .prepare(sql)
            .raw()
            .all(...params) as unknown[][],
        };
      },
    };
    warmUpKql();
    const now = new Date(NOW);
    const hand =
      (sql: string, ...params: unknown[]) =>
      () =>
        db
          .prepare(sql)
          .raw()
          .all(...params);

    const cases: { id: string; name: string; kql: string; sql: string; params: unknown[]; goal: string | null; runs: number }[] = [
      {
        id: 'P5a',
        name: 'KQL summarize count() by IncidentState_s, 1M rows (SQLite)',
        kql: 'ServiceDesk_CL | summarize count() by IncidentState_s',
        sql: 'SELECT "IncidentState_s", count(*) FROM ws_servicedesk_cl WHERE workspace = ? GROUP BY "IncidentState_s"',
        params: [WORKSPACE],
        goal: '≤ 150 ms; ≤ 1.2× hand SQL',
        runs: RUNS,
      },
      {
        id: 'P5b',
        name: 'KQL where TimeGenerated > ago(7d) | summarize count() by bin(TimeGenerated, 1d)',
        kql: 'ServiceDesk_CL | where TimeGenerated > ago(7d) | summarize count() by bin(TimeGenerated, 1d)',
        sql: 'SELECT ("TimeGenerated" / 86400000) * 86400000 AS d, count(*) FROM ws_servicedesk_cl WHERE workspace = ? AND "TimeGenerated" > ? GROUP BY d',
        params: [WORKSPACE, NOW - 7 * DAY],
        goal: null,
        runs: RUNS,
      },
      {
        id: 'P5c',
        name: 'KQL arg_max(TimeGenerated, *) by ServiceDeskId_s | summarize count() by Priority_s',
        kql: 'ServiceDesk_CL | summarize arg_max(TimeGenerated, *) by ServiceDeskId_s | summarize count() by Priority_s',
        sql: 'SELECT "Priority_s", count(*) FROM (SELECT "Priority_s", max("TimeGenerated") FROM ws_servicedesk_cl WHERE workspace = ? GROUP BY "ServiceDeskId_s") GROUP BY "Priority_s"',
        params: [WORKSPACE],
        goal: null,
        runs: SLOW_RUNS,
      },
      {
        id: 'P5e',
        name: 'KQL make-series count() on TimeGenerated (30 days, step 1d) by Priority_s: the timechart',
        kql: `ServiceDesk_CL | make-series n = count() default = 0 on TimeGenerated from datetime(${new Date(NOW - 30 * DAY).toISOString()}) to datetime(${new Date(NOW).toISOString()}) step 1d by Priority_s`,
        sql:
          'WITH RECURSIVE bins(b) AS (SELECT 0 UNION ALL SELECT b + 1 FROM bins WHERE b + 1 < 30),' +
          ' agg AS (SELECT "Priority_s" AS k, ("TimeGenerated" - ?) / 86400000 AS b, count(*) AS n FROM ws_servicedesk_cl' +
          ' WHERE workspace = ? AND "TimeGenerated" >= ? AND "TimeGenerated" < ? GROUP BY k, b),' +
          ' keys AS (SELECT DISTINCT k FROM agg)' +
          " SELECT keys.k, json_group_array(coalesce(agg.n, 0) ORDER BY bins.b), json_group_array(strftime('%Y-%m-%dT%H:%M:%SZ', (? + bins.b * 86400000) / 1000, 'unixepoch') ORDER BY bins.b)" +
          ' FROM keys CROSS JOIN bins LEFT JOIN agg ON agg.k = keys.k AND agg.b = bins.b GROUP BY keys.k',
        params: [NOW - 30 * DAY, WORKSPACE, NOW - 30 * DAY, NOW, NOW - 30 * DAY],
        goal: '≤ 1.2× hand SQL',
        runs: SLOW_RUNS,
      },
      {
        id: 'P5f',
        name: 'KQL parse Description_s (rule:long, runbook) | summarize count() by runbook',
        kql: 'ServiceDesk_CL | parse Description_s with * "Rule " rule:long "; see runbook " runbook "." | summarize n = count() by runbook',
        sql:
          "SELECT CASE WHEN ok THEN substr(rest, 1, instr(rest, '.') - 1) ELSE '' END AS runbook, count(*) FROM (" +
          " SELECT substr(tail, instr(tail, '; see runbook ') + 14) AS rest," +
          " instr(tail, '; see runbook ') > 0 AND CAST(substr(tail, 1, instr(tail, '; see runbook ') - 1) AS INTEGER) IS NOT NULL AS ok FROM (" +
          ' SELECT substr("Description_s", instr("Description_s", \'Rule \') + 5) AS tail FROM ws_servicedesk_cl WHERE workspace = ? AND instr("Description_s", \'Rule \') > 0))' +
          ' GROUP BY runbook',
        params: [WORKSPACE],
        goal: '≤ 1.2× hand SQL',
        runs: SLOW_RUNS,
      },
    ];

    const results: BenchResult[] = [];
    for (const c of cases) {
      // KQL = the whole engine per call: parse/check (cached by query text after the first call, as
      // dashboards repeat their tiles) → compile → execute → convert to the Logs result format.
      const [kqlMs, handMs] = await timePair(() => runKql(runner, WORKSPACE, c.kql, { now }), hand(c.sql, ...c.params), c.runs);
      results.push({ id: c.id, name: c.name, value: kqlMs, unit: 'ms', goal: c.goal, baseline: handMs, ratio: kqlMs / handMs });
    }
    // The uncached front end alone (Kusto parse + semantic analysis + subset check + SQL generation):
    // a unique comment defeats the cache.
    let n = 0;
    const frontEnd: number[] = [];
    for (let i = 0; i < 20; i++) {
      const t0 = performance.now();
      translateKql(`${cases[0].kql} // ${n++}`, { dialect: 'sqlite', workspace: WORKSPACE, now });
      frontEnd.push(performance.now() - t0);
    }
    results.push({
      id: 'P5d',
      name: 'KQL front end uncached (parse + analyse + check + compile) for P5a',
      value: median(frontEnd),
      unit: 'ms',
      goal: null,
      baseline: null,
      ratio: null,
    });
    db.close();
    const dataDir = moveIntoDataDir(path.join(dir, 'ws.sqlite'));
    const queries = cases.map((c) => c.kql);
    const production = await connectorRss(dataDir, queries, productionLaunch());
    results.push({
      id: 'P6',
      name: 'Connector RSS (compiled JS, launched as npm start) with these 1M workspace rows, after the P5 queries through the query API',
      value: production.after,
      unit: 'MB',
      goal: '≤ 200 MB',
      baseline: production.idle,
      ratio: production.after / production.idle,
    });
    const defaults = await connectorRss(dataDir, queries, { env: {}, nodeArgs: [] });
    results.push({
      id: 'P6',
      name: 'The same with Node and glibc defaults (no flags, no MALLOC_* settings)',
      value: defaults.after,
      unit: 'MB',
      goal: null,
      baseline: production.after,
      ratio: defaults.after / production.after,
    });
    const onPostgres = await postgresConnectorRss(queries);
    if (onPostgres)
      results.push({
        id: 'P6',
        name: 'Connector RSS (compiled JS, launched as npm start) with 1M workspace rows in PostgreSQL, after the same queries',
        value: onPostgres.after,
        unit: 'MB',
        goal: '≤ 200 MB',
        baseline: onPostgres.idle,
        ratio: onPostgres.after / onPostgres.idle,
      });
    return results;
  } finally {
    if (db.open) db.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * P6 on PostgreSQL: the same 1M rows appended through the store into a schema of its own, then the connector
 * (launched as npm start) on that schema runs the same queries. Null (no row) when PostgreSQL does not answer.
 */
async function postgresConnectorRss(queries: string[]): Promise<{ idle: number; after: number } | null> {
  const { Store } = await import('../src/store/store.ts');
  const pg = (await import('pg')).default;
  const admin = new pg.Client({ connectionString: PG_URL });
  try {
    await admin.connect();
  } catch {
    return null;
  }
  const pgSchema = `p6_${process.pid}`;
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'itsmc-p6-pg-'));
  try {
    const store = await Store.open({ dataDir, databaseUrl: PG_URL, pgSchema });
    try {
      await store.migrate();
      await store.workspaces.ensure(WORKSPACE);
      let chunk: Record<string, unknown>[] = [];
      for (const row of syntheticRows(ROWS)) {
        chunk.push(row);
        if (chunk.length === 5_000) {
          await store.workspaceRows.append('ServiceDesk_CL', WORKSPACE, chunk);
          chunk = [];
        }
      }
      if (chunk.length) await store.workspaceRows.append('ServiceDesk_CL', WORKSPACE, chunk);
    } finally {
      await store.close();
    }
    await admin.query(`ANALYZE "${pgSchema}".ws_servicedesk_cl`);
    return await connectorRss(dataDir, queries, productionLaunch(), { databaseUrl: PG_URL, pgSchema });
  } finally {
    await admin.query(`DROP SCHEMA IF EXISTS "${pgSchema}" CASCADE`).catch(() => undefined);
    await admin.end();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

/** The bench file becomes the store of a connector's data directory. */
function moveIntoDataDir(file: string): string {
  const dataDir = path.join(path.dirname(file), 'data');
  fs.mkdirSync(dataDir, { mode: 0o700 });
  fs.renameSync(file, path.join(dataDir, 'itsmc.sqlite'));
  return dataDir;
}

/**
 * P6 as production runs it: `dist/` (compiled by `npm install`; run `npm run build` after changing src) in a
 * process of its own, launched with `launch` (npm start's environment and node flags), the 1M-row file as its
 * store, the KQL engine warmed by the P5 queries sent through the Logs query API. Baseline: the same process
 * before its first query.
 */
async function connectorRss(
  dataDir: string,
  queries: string[],
  launch: ProductionLaunch,
  postgres?: { databaseUrl: string; pgSchema: string },
): Promise<{ idle: number; after: number }> {
  const dist = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'dist');
  if (!fs.existsSync(path.join(dist, 'runtime', 'connector.js'))) throw new Error('P6 needs dist/: run npm run build');
  const script = `
    const { readSettings } = await import(${JSON.stringify(pathToFileURL(path.join(dist, 'config', 'env.js')).href)});
    const { startConnector } = await import(${JSON.stringify(pathToFileURL(path.join(dist, 'runtime', 'connector.js')).href)});
    const settings = readSettings({ PORT: '0', ITSMC_HOST: '127.0.0.1', ITSMC_DATA_DIR: ${JSON.stringify(dataDir)}, ITSMC_SANDBOX: '0', ITSMC_SYNC: '0', ITSMC_LOG_LEVEL: 'error', ITSMC_DATABASE_URL: ${JSON.stringify(postgres?.databaseUrl ?? '')} });
    const c = await startConnector({ settings, pgSchema: ${JSON.stringify(postgres?.pgSchema)} });
    const mb = () => process.memoryUsage().rss / 1024 / 1024;
    const idle = mb();
    for (let round = 0; round < 3; round++)
      for (const query of ${JSON.stringify(queries)}) {
        const res = await fetch(c.url + '/v1/workspaces/default/query', {
          method: 'POST',
          headers: { authorization: 'Bearer ' + c.adminToken, 'content-type': 'application/json' },
          body: JSON.stringify({ query }),
        });
        if (res.status !== 200) throw new Error('query ' + res.status + ': ' + (await res.text()).slice(0, 500));
        await res.arrayBuffer();
      }
    process.stdout.write(JSON.stringify({ idle, after: mb() }) + '\\n');
    await c.close();
    process.exit(0);`;
  // A file, not `node -e`: --input-type=module would be inherited by the query pool's worker threads.
  const scriptFile = path.join(dataDir, '..', `p6-${path.basename(dataDir)}.mjs`);
  fs.writeFileSync(scriptFile, script);
  const child = spawn(process.execPath, [...launch.nodeArgs, scriptFile], { env: { ...process.env, ...launch.env }, stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  const code = await new Promise<number | null>((r) => child.once('exit', r));
  fs.rmSync(scriptFile, { force: true });
  if (code !== 0) throw new Error(`P6 connector exited with ${code}`);
  return JSON.parse(out.trim().split('\n').pop()!);
}
