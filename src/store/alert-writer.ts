/**
 * The SQLite side of durable ingest: alert rows and their jobs are written by a worker thread with its own
 * connection to the same database file. With synchronous=FULL every commit waits for an fsync (milliseconds
 * on ordinary disks); in the worker that wait no longer blocks the event loop, so the main thread keeps
 * reading requests while a batch commits and the next batch grows meanwhile (group commit).
 *
 * The worker runs plain CommonJS (eval), so it needs neither a TypeScript loader nor a build step.
 */
import { Worker } from 'node:worker_threads';
import { createRequire } from 'node:module';
import type { AlertsTable } from './schema.ts';
import type { NewJob } from './jobs.ts';

/** One accepted alert with the delivery jobs it makes, written together. */
export interface AcceptItem {
  alert: AlertsTable;
  jobs: NewJob[];
}

const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.file);
db.pragma('journal_mode = WAL');
db.pragma('synchronous = FULL');
db.pragma('busy_timeout = 10000');
const alert = db.prepare(\`INSERT INTO alerts (id, workspace, action_group, idempotency_key, family, alert_id, monitor_condition, payload, received_at)
  VALUES (@id, @workspace, @action_group, @idempotency_key, @family, @alert_id, @monitor_condition, @payload, @received_at)
  ON CONFLICT (idempotency_key) DO NOTHING\`);
const job = db.prepare(\`INSERT INTO jobs (kind, ordering_key, dedupe_key, connection_id, workspace, payload, state, attempts, max_attempts, run_at, locked_until, locked_by, last_error, created_at, updated_at)
  VALUES (@kind, @ordering_key, @dedupe_key, @connection_id, @workspace, @payload, 'pending', 0, @max_attempts, @run_at, NULL, NULL, NULL, @now, @now)
  ON CONFLICT (dedupe_key) DO NOTHING\`);
const batch = db.transaction((items) => {
  const now = Date.now();
  return items.map((it) => {
    if (alert.run(it.alert).changes === 0) return false;
    for (const j of it.jobs) job.run({ ...j, now });
    return true;
  });
});
parentPort.on('message', (m) => {
  if (m.close) { db.close(); parentPort.close(); return; }
  try {
    parentPort.postMessage({ id: m.id, ok: true, result: batch.immediate(m.items) });
  } catch (err) {
    parentPort.postMessage({ id: m.id, ok: false, error: String(err && err.message || err), code: err && err.code });
  }
});
`;

export class SqliteAlertWriter {
  private worker: Worker | null = null;
  private seq = 0;
  private readonly pending = new Map<number, { resolve: (r: boolean[]) => void; reject: (e: Error) => void }>();

  constructor(private readonly file: string) {}

  write(items: AcceptItem[]): Promise<boolean[]> {
    const worker = this.ensure();
    const id = ++this.seq;
    return new Promise<boolean[]>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      worker.postMessage({ id, items });
    });
  }

  async close(): Promise<void> {
    const w = this.worker;
    if (!w) return;
    this.worker = null;
    w.ref(); // keep the process alive until the thread has closed its connection
    let timer: NodeJS.Timeout | undefined;
    const exited = new Promise<void>((resolve) => {
      w.once('exit', () => resolve());
      timer = setTimeout(resolve, 2000);
    });
    w.postMessage({ close: true });
    await exited;
    clearTimeout(timer);
    await w.terminate();
  }

  private ensure(): Worker {
    if (this.worker) return this.worker;
    const driver = createRequire(import.meta.url).resolve('better-sqlite3');
    const w = new Worker(WORKER_SOURCE, { eval: true, workerData: { file: this.file, driver } });
    w.unref();
    w.on('message', (m: { id: number; ok: boolean; result?: boolean[]; error?: string; code?: string }) => {
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if (m.ok) p.resolve(m.result!);
      else p.reject(Object.assign(new Error(m.error ?? 'alert write failed'), { code: m.code }));
    });
    const fail = (err: Error) => {
      for (const p of this.pending.values()) p.reject(err);
      this.pending.clear();
      if (this.worker === w) this.worker = null;
    };
    w.on('error', fail);
    w.on('exit', (code) => fail(new Error(`the alert writer thread exited (${code})`)));
    this.worker = w;
    return w;
  }
}
