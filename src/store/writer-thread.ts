/**
 * A worker thread with its own better-sqlite3 connection to the store file, for writes that would otherwise
 * hold the event loop: the ingest group commit (its fsync) and sync page commits (thousands of B-tree
 * inserts). The caller keeps the store's write lock around each call, so the main connection never waits
 * in SQLite's busy handler for the thread.
 *
 * The thread runs plain CommonJS (eval), so it needs neither a TypeScript loader nor a build step: `body` is
 * JavaScript that sees `db` (the open connection, WAL mode) and `workerData`, and defines `handle(request)`,
 * whose return value is structured-cloned back. An error it throws rejects the call with its message and
 * `code`.
 */
import { Worker } from 'node:worker_threads';
import { createRequire } from 'node:module';

const PRELUDE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.file);
db.pragma('journal_mode = WAL');
db.pragma('busy_timeout = 10000');
`;

const LOOP = `
parentPort.on('message', (m) => {
  if (m.close) { db.close(); parentPort.close(); return; }
  try {
    parentPort.postMessage({ id: m.id, ok: true, result: handle(m.request) });
  } catch (err) {
    parentPort.postMessage({ id: m.id, ok: false, error: String(err && err.message || err), code: err && err.code });
  }
});
`;

interface Reply<Res> {
  id: number;
  ok: boolean;
  result?: Res;
  error?: string;
  code?: string;
}

export class SqliteWriterThread<Req, Res> {
  private worker: Worker | null = null;
  private seq = 0;
  private readonly pending = new Map<number, { resolve: (r: Res) => void; reject: (e: Error) => void }>();

  /**
   * @param what names the thread in errors ("the alert writer")
   * @param body the JavaScript described in the module comment
   * @param data more `workerData` for `body` (structured-cloneable)
   */
  constructor(
    private readonly file: string,
    private readonly what: string,
    private readonly body: string,
    private readonly data: Record<string, unknown> = {},
  ) {}

  call(request: Req): Promise<Res> {
    const worker = this.ensure();
    const id = ++this.seq;
    return new Promise<Res>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      worker.postMessage({ id, request });
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
    const w = new Worker(PRELUDE + this.body + LOOP, { eval: true, workerData: { ...this.data, file: this.file, driver } });
    w.unref();
    w.on('message', (m: Reply<Res>) => {
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if (m.ok) p.resolve(m.result!);
      else p.reject(Object.assign(new Error(m.error ?? `${this.what} failed`), { code: m.code }));
    });
    const fail = (err: Error) => {
      for (const p of this.pending.values()) p.reject(err);
      this.pending.clear();
      if (this.worker === w) this.worker = null;
    };
    w.on('error', fail);
    w.on('exit', (code) => fail(new Error(`${this.what} thread exited (${code})`)));
    this.worker = w;
    return w;
  }
}
