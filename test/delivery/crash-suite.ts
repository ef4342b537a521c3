/**
 * Crash safety (SPEC 2.4, R1), one suite for every partner with a client and a sandbox (a
 * `crash-<partner>.test.ts` per partner runs it, so each stays within the per-file time limit): the
 * connector runs as a child process (`itsmc serve`) on SQLite, is flooded with alerts and killed with SIGKILL
 * at random moments, several times, and restarted on the same data directory. Senders retry what was not
 * acknowledged, as Azure Monitor does. At the end every accepted alert has produced its work item exactly
 * once: counted in the partner's sandbox, one incident per rule.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import type { RunningSandbox } from '../../src/partners/descriptor.ts';
import { sandboxConnectionInput } from '../../src/runtime/quickstart.ts';
import { api, tempDir } from '../helpers/stores.ts';
import { countByTitle, deliveryPartners, metricAlert, partnerIncidents, type SandboxedPartner } from './helpers.ts';
import { freePort } from '../helpers/wait.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const TOKEN = 'itsma_crash_test_admin_token_0123456789';

class Child {
  proc: ChildProcess | null = null;
  starts = 0;
  constructor(private readonly env: Record<string, string>) {}

  async start(): Promise<void> {
    this.starts += 1;
    const proc = spawn(process.execPath, ['--import', 'tsx', path.join(root, 'src/cli/main.ts'), 'serve'], {
      cwd: root,
      env: { ...process.env, ...this.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.proc = proc;
    let out = '';
    await new Promise<void>((resolve, reject) => {
      const onData = (d: Buffer) => {
        out += d.toString();
        if (out.includes('OpenITSMC listening on')) resolve();
      };
      proc.stdout!.on('data', onData);
      proc.stderr!.on('data', (d) => (out += d.toString()));
      proc.once('exit', (code) => reject(new Error(`connector exited (${code}) before listening:\n${out.slice(-2000)}`)));
    });
  }

  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const proc = this.proc;
    if (!proc || proc.exitCode !== null) return;
    const exited = new Promise((r) => proc.once('exit', r));
    proc.kill(signal);
    await exited;
    this.proc = null;
  }
}

/** The crash suite against one partner (by type: `ServiceNow`, `SCSM` …). */
export function crashSafetySuite(type: string): void {
  const partner: SandboxedPartner | undefined = deliveryPartners.find((p) => p.type === type);
  if (!partner) throw new Error(`no partner ${type} with a client and a sandbox`);
  describe(`crash safety of the delivery engine (SIGKILL during a flood): ${partner.displayName}`, () => {
    let sandbox: RunningSandbox;
    let child: Child;
    let dataDir: string;
    let base: string;

    before(async () => {
      sandbox = await partner.sandbox.start({ port: 0, size: 'small', days: 10 });
      // A little partner latency widens the window between a create and its commit, where kills hurt most.
      await sandbox.faults.delay(8);
      dataDir = tempDir();
      const port = await freePort();
      base = `http://127.0.0.1:${port}`;
      child = new Child({
        PORT: String(port),
        ITSMC_HOST: '127.0.0.1',
        ITSMC_DATA_DIR: dataDir,
        ITSMC_SANDBOX: '0',
        ITSMC_SYNC: '0',
        ITSMC_ADMIN_TOKEN: TOKEN,
        ITSMC_MASTER_KEY: 'crash-test-master-key-crash-test-master-key',
        ITSMC_ALLOWED_PARTNER_HOSTS: new URL(sandbox.url).host,
        ITSMC_LOG_LEVEL: 'fatal',
        ITSMC_DELIVERY_LEASE_MS: '1500',
        ITSMC_DELIVERY_POLL_MS: '20',
        ITSMC_DELIVERY_BACKOFF_BASE_MS: '20',
        ITSMC_DELIVERY_BACKOFF_MAX_MS: '300',
        ITSMC_DELIVERY_MAX_ATTEMPTS: '100',
        ITSMC_DELIVERY_BREAKER_OPEN_MS: '100',
        ITSMC_PARTNER_TIMEOUT_MS: '3000',
        ITSMC_DATABASE_URL: '',
      });
      await child.start();
    });

    after(async () => {
      await child?.kill('SIGTERM');
      await sandbox?.close();
      if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
    });

    it('loses no accepted alert and creates no duplicate work item across repeated SIGKILLs', async (t) => {
      const since = new Date(Date.now() - 60_000).toISOString();
      const conn = await api(base, TOKEN, 'PUT', '/api/v1/workspaces/default/connections/crash', sandboxConnectionInput(partner, sandbox.url));
      assert.equal(conn.status, 201, JSON.stringify(conn.body));
      const group = await api(base, TOKEN, 'PUT', '/api/v1/workspaces/default/actionGroups/crash', {
        itsmReceivers: [{ name: 'inc', connectionName: 'crash', ticketConfiguration: { WorkItemType: 'Incident', noteCoalesceSeconds: 0 } }],
      });
      assert.equal(group.status, 201);
      const hook: string = group.body.webhookUrl;

      // 300 rules fire once (300 incidents); every third fires a second time (a work note, no new incident).
      const RULES = 300;
      const alerts: { rule: string; body: unknown }[] = [];
      for (let i = 0; i < RULES; i++) alerts.push({ rule: `crash-${i}`, body: metricAlert({ rule: `crash-${i}`, alertId: `c-${i}`, cis: [] }) });
      for (let i = 0; i < RULES; i += 3) alerts.push({ rule: `crash-${i}`, body: metricAlert({ rule: `crash-${i}`, alertId: `c-${i}-again`, cis: [] }) });
      const accepted = new Set<number>();
      const queue = alerts.map((_, i) => i);
      let stopSending = false;

      const sender = async () => {
        while (!stopSending) {
          const i = queue.shift();
          if (i === undefined) {
            if (accepted.size === alerts.length) return;
            await new Promise((r) => setTimeout(r, 20));
            continue;
          }
          try {
            const res = await fetch(hook, {
              method: 'POST',
              headers: { 'content-type': 'application/json' },
              body: JSON.stringify(alerts[i].body),
              signal: AbortSignal.timeout(5000),
            });
            await res.text();
            if (res.status === 202) accepted.add(i);
            else queue.push(i); // 5xx while shutting down: resend later
          } catch {
            queue.push(i); // connection refused or reset by the kill: resend, as Azure Monitor retries
            await new Promise((r) => setTimeout(r, 30));
          }
          await new Promise((r) => setTimeout(r, 2));
        }
      };

      const killer = async () => {
        for (let k = 0; k < 4; k++) {
          await new Promise((r) => setTimeout(r, 250 + Math.random() * 900));
          await child.kill('SIGKILL');
          await child.start();
        }
      };

      const senders = Promise.all(Array.from({ length: 12 }, sender));
      await killer();
      const deadline = Date.now() + 60_000;
      while (accepted.size < alerts.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      stopSending = true;
      await senders;
      assert.equal(accepted.size, alerts.length, 'every alert was eventually accepted');
      assert.equal(child.starts, 5, 'killed four times, started five times');

      // Drain: wait until the queue is empty (jobs of killed workers come back after their lease).
      const drainDeadline = Date.now() + 60_000;
      for (;;) {
        const q = await api(base, TOKEN, 'GET', '/api/v1/workspaces/default/deliveryQueue');
        if (q.status === 200 && q.body.pending === 0 && q.body.running === 0) {
          assert.equal(q.body.dead, 0, 'nothing dead-lettered');
          break;
        }
        assert.ok(Date.now() < drainDeadline, `queue not drained: ${JSON.stringify(q.body)}`);
        await new Promise((r) => setTimeout(r, 100));
      }

      const incidents = (await partnerIncidents(partner, sandbox, since)).filter((i) => /\] crash-\d+\b/.test(i.title));
      const dup = [...countByTitle(incidents).entries()].filter(([, n]) => n > 1);
      assert.deepEqual(dup, [], 'no rule has two incidents');
      const rules = new Set(incidents.map((i) => /\] (crash-\d+)\b/.exec(i.title)![1]));
      assert.equal(rules.size, RULES, 'every rule has its incident');
      assert.equal(incidents.length, RULES, 'exactly one incident per rule');

      // How often a kill fell between a create and its commit (the retry found the work item instead of creating it).
      const db = new Database(path.join(dataDir, 'itsmc.sqlite'), { readonly: true });
      try {
        const found = db.prepare(`SELECT count(*) AS n FROM ws_itsmactionoutcome_cl WHERE "Message" LIKE 'found by correlation key%'`).get() as { n: number };
        t.diagnostic(`${found.n} work item(s) found by correlation key after a kill instead of being created again`);
      } finally {
        db.close();
      }
    });
  });
}
