/**
 * kill -9 during the initial sync: a real connector process (`itsmc serve`) backfills from the sandbox,
 * is killed mid-way, and a new process on the same store finishes the job. Afterwards ServiceDesk_CL
 * holds every record of the window exactly once: nothing lost, nothing duplicated.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { startServiceNowSandbox, type ServiceNowSandbox } from '../../src/sandbox/servicenow/index.ts';
import { api, dropSchema, pgUrl, tempDir, testDialects, uniqueSchema } from '../helpers/stores.ts';
import { kql, sandboxConnection, snCount, snow, until } from './helpers.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const WS = '/api/v1/workspaces/default/connections';

interface Child {
  process: ChildProcess;
  url: string;
  output: () => string;
}

/** `itsmc serve` as a child process; resolves with its URL once it listens. */
async function serve(env: Record<string, string>): Promise<Child> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(root, 'src/cli/main.ts'), 'serve'], {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the connector did not start:\n${out}`)), 60_000);
    const check = () => {
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    };
    child.stdout!.on('data', check);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the connector exited with ${code}:\n${out}`));
    });
  });
  return { process: child, url, output: () => out };
}

async function kill(child: Child): Promise<void> {
  if (child.process.exitCode !== null || child.process.signalCode !== null) return;
  const exited = new Promise((r) => child.process.once('exit', r));
  child.process.kill('SIGKILL');
  await exited;
}

for (const dialect of testDialects) {
  describe(`kill -9 during the initial sync on ${dialect}`, () => {
    let sandbox: ServiceNowSandbox;
    let dataDir: string;
    let schema: string | undefined;
    const children: Child[] = [];
    const token = `itsma_test_${randomBytes(12).toString('hex')}`;
    let env: Record<string, string>;

    before(async () => {
      sandbox = await startServiceNowSandbox({ port: 0, seed: 9, days: 60, volume: { incidents: 2500, changeRequests: 500, computers: 50 } });
      // Slow pages, so the kill lands in the middle of the backfill.
      assert.equal(
        (await snow(sandbox, 'PUT', '/api/x_sandbox/faults', { latencyMs: 25, paths: ['/api/now/table/incident', '/api/now/table/change_request'] })).status,
        200,
      );
      dataDir = tempDir('itsmc-crash-');
      let databaseUrl: string | undefined;
      if (dialect === 'postgres') {
        schema = uniqueSchema();
        const admin = new pg.Client({ connectionString: pgUrl() });
        await admin.connect();
        await admin.query(`CREATE SCHEMA "${schema}"`);
        await admin.end();
        const url = new URL(pgUrl());
        url.searchParams.set('options', `-c search_path=${schema}`);
        databaseUrl = url.toString();
      }
      env = {
        PORT: '0',
        ITSMC_HOST: '127.0.0.1',
        ITSMC_DATA_DIR: dataDir,
        ITSMC_SANDBOX: '0',
        ITSMC_ADMIN_TOKEN: token,
        ITSMC_ALLOWED_PARTNER_HOSTS: new URL(sandbox.url).host,
        ITSMC_SYNC_PAGE_SIZE: '50',
        ITSMC_LOG_LEVEL: 'warn',
        ITSMC_DATABASE_URL: databaseUrl ?? '',
      };
    });
    after(async () => {
      for (const child of children) await kill(child);
      await sandbox?.close();
      if (schema) await dropSchema(schema);
      if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
    });

    it('loses and duplicates nothing', async () => {
      const first = await serve(env);
      children.push(first);
      const total = (await snCount(sandbox, 'incident', '')) + (await snCount(sandbox, 'change_request', ''));
      const put = await api(first.url, token, 'PUT', `${WS}/sn`, sandboxConnection(sandbox, { syncDataDays: 120 }));
      assert.equal(put.status, 201, JSON.stringify(put.body));

      // The scheduler starts the backfill at once; kill the process as soon as some pages are committed.
      const count = async (base: string) => {
        const res = await kql(base, token, 'ServiceDesk_CL | count');
        return res.status === 200 ? (res.rows[0].Count as number) : -1;
      };
      const seen = await until(
        'the first committed pages',
        async () => {
          const n = await count(first.url);
          return n > 0 ? n : undefined;
        },
        60_000,
        20,
      );
      await kill(first);
      assert.ok(seen < total, `killed during the backfill (${seen} of ${total} rows)`);

      const second = await serve(env);
      children.push(second);
      const status = await until(
        'the resumed backfill to finish',
        async () => {
          const res = await api(second.url, token, 'GET', `${WS}/sn/sync`);
          const done =
            res.status === 200 && res.body.scopes.length === 2 && res.body.scopes.every((s: any) => s.backfillDone && !s.resumable) && !res.body.running;
          return done ? res.body : undefined;
        },
        90_000,
        100,
      );

      // The killed holder's run never finished; a run of the new process did.
      const killed = status.runs.filter((r: any) => r.status === 'running' && r.finishedAt === null);
      assert.equal(killed.length, 1, JSON.stringify(status.runs));
      assert.ok(
        status.runs.some((r: any) => r.status === 'ok' && r.holder !== killed[0].holder),
        JSON.stringify(status.runs),
      );

      const perRecord = await kql(
        second.url,
        token,
        'ServiceDesk_CL | summarize n = count() by ServiceDeskId_s | summarize records = count(), rows = sum(n), most = max(n)',
      );
      assert.equal(perRecord.status, 200, JSON.stringify(perRecord.body));
      assert.deepEqual(perRecord.rows[0], { records: total, rows: total, most: 1 });
      const byType = await kql(
        second.url,
        token,
        'ServiceDesk_CL | summarize n = count() by ServiceDeskWorkItemType_s | order by ServiceDeskWorkItemType_s asc',
      );
      assert.deepEqual(
        byType.rows.map((r) => r.n),
        [await snCount(sandbox, 'change_request', ''), await snCount(sandbox, 'incident', '')],
      );
      await kill(second);
    });
  });
}
