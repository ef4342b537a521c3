/**
 * KQL queries on SQLite run in a small pool of worker threads, each with its own read-only connection,
 * so a slow query cannot stall ingestion, delivery or `/healthz` on the main thread. A query that passes
 * its deadline is answered with QueryTimeoutError at the deadline and its thread is terminated (a new one
 * starts with the next query). Termination takes effect when SQLite calls back into JavaScript: compiled
 * KQL calls `kql_tick()` per joined row pair and every 4096 generated rows (range, make-series), and the
 * regex/has functions run in JavaScript; a plain table scan finishes its statement first (bounded by the
 * data). A terminated thread holds its slot until it has exited, so runaway queries cannot pile up
 * threads. Queries wait for a free thread, at most their own time limit.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { QueryTimeoutError } from '../workspace/query.ts';

/** The worker module has this module's extension: .ts under tsx, .js in a compiled build. */
const EXTENSION = path.extname(fileURLToPath(import.meta.url));
const WORKER_ENTRY = new URL(`./kql-query-worker${EXTENSION}`, import.meta.url).href;
/** Loader hooks are not inherited by worker threads: under tsx the thread registers them itself. */
const TSX_API = EXTENSION === '.ts' ? import.meta.resolve('tsx/esm/api') : undefined;
const BOOTSTRAP = `
const { workerData } = require('node:worker_threads');
(async () => {
  if (workerData.tsxApi) (await import(workerData.tsxApi)).register();
  await import(workerData.entry);
})().catch((err) => { setImmediate(() => { throw err; }); });
`;

/**
 * A query thread's objects are short-lived (one statement's rows, then the message to the main thread): a small
 * young generation is enough, and each thread's heap counts in the connector's RSS.
 */
const QUERY_THREAD_LIMITS = { maxYoungGenerationSizeMb: 4 };

interface Running {
  resolve: (rows: unknown[][]) => void;
  reject: (err: Error) => void;
}

interface Slot {
  worker: Worker;
  /** Settles when the thread has opened its connection (or failed to start). */
  ready: Promise<void>;
  running?: Running & { id: number };
  /** Terminated (or exited): never reused. */
  gone?: boolean;
}

interface Waiter {
  grant: (slot: Slot) => void;
  refuse: (err: Error) => void;
}

export class SqliteQueryPool {
  private readonly idle: Slot[] = [];
  private busy = 0;
  private readonly waiting: Waiter[] = [];
  private seq = 0;
  private closed = false;

  constructor(
    private readonly file: string,
    private readonly size: number,
  ) {}

  async query(sql: string, params: unknown[], timeoutMs: number): Promise<unknown[][]> {
    if (this.closed) throw new Error('the query pool is closed');
    const slot = await this.acquire(performance.now() + timeoutMs);
    try {
      await slot.ready;
    } catch (err) {
      this.discard(slot);
      throw err;
    }
    // Starting a thread is not the query's time; waiting for one was bounded by the same limit.
    const deadline = performance.now() + timeoutMs;
    const id = ++this.seq;
    return new Promise<unknown[][]>((resolve, reject) => {
      const timer = setTimeout(
        () => {
          slot.running = undefined;
          reject(new QueryTimeoutError('query timeout'));
          this.discard(slot);
        },
        Math.max(0, deadline - performance.now()),
      );
      slot.running = {
        id,
        resolve: (rows) => {
          clearTimeout(timer);
          slot.running = undefined;
          this.release(slot);
          resolve(rows);
        },
        reject: (err) => {
          clearTimeout(timer);
          slot.running = undefined;
          reject(err);
        },
      };
      slot.worker.postMessage({ id, sql, params, timeoutMs: Math.max(0, deadline - performance.now()) });
    });
  }

  /** Start one thread ahead of the first query. */
  warm(): void {
    if (!this.closed && this.idle.length === 0 && this.busy === 0) this.idle.push(this.spawn());
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const w of this.waiting.splice(0)) w.refuse(new Error('the query pool is closed'));
    await Promise.all(this.idle.splice(0).map((s) => s.worker.terminate()));
  }

  private acquire(deadline: number): Promise<Slot> {
    const ready = this.idle.pop();
    if (ready) {
      this.busy++;
      return Promise.resolve(ready);
    }
    if (this.busy < this.size) {
      this.busy++;
      return Promise.resolve(this.spawn());
    }
    return new Promise<Slot>((resolve, reject) => {
      const timer = setTimeout(
        () => {
          const i = this.waiting.indexOf(waiter);
          if (i < 0) return;
          this.waiting.splice(i, 1);
          reject(new QueryTimeoutError('query timeout (waiting for a free query thread)'));
        },
        Math.max(0, deadline - performance.now()),
      );
      const waiter: Waiter = {
        grant: (slot) => {
          clearTimeout(timer);
          resolve(slot);
        },
        refuse: (err) => {
          clearTimeout(timer);
          reject(err);
        },
      };
      this.waiting.push(waiter);
    });
  }

  private spawn(): Slot {
    const worker = new Worker(BOOTSTRAP, {
      eval: true,
      workerData: { file: this.file, entry: WORKER_ENTRY, tsxApi: TSX_API },
      resourceLimits: QUERY_THREAD_LIMITS,
    });
    worker.unref();
    let started!: () => void;
    let failedToStart!: (err: Error) => void;
    const ready = new Promise<void>((resolve, reject) => {
      started = resolve;
      failedToStart = reject;
    });
    ready.catch(() => {}); // observed by the query that takes this slot
    const slot: Slot = { worker, ready };
    worker.on('message', (m: { id: number; ready?: boolean; ok: boolean; rows?: unknown[][]; error?: string; code?: string; timeout?: boolean }) => {
      if (m.ready) return started();
      const r = slot.running;
      if (!r || r.id !== m.id) return;
      if (m.ok) r.resolve(m.rows ?? []);
      else {
        r.reject(m.timeout ? new QueryTimeoutError('query timeout') : Object.assign(new Error(m.error ?? 'query failed'), { code: m.code }));
        this.release(slot);
      }
    });
    const fail = (err: Error) => {
      failedToStart(err);
      slot.running?.reject(err);
      slot.running = undefined;
      this.discard(slot);
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`the query thread exited (${code})`)));
    return slot;
  }

  /** A finished slot goes to the next waiter, or back to the idle list. */
  private release(slot: Slot): void {
    const next = this.waiting.shift();
    if (next) next.grant(slot);
    else {
      this.busy--;
      this.idle.push(slot);
    }
  }

  /** Stop a slot's thread; its place is free once the thread has exited. */
  private discard(slot: Slot): void {
    const i = this.idle.indexOf(slot);
    if (i >= 0) this.idle.splice(i, 1);
    if (slot.gone) return;
    slot.gone = true;
    const done = () => {
      if (i >= 0) return; // was idle: it never counted as busy
      const next = this.waiting.shift();
      if (next && !this.closed) next.grant(this.spawn());
      else this.busy--;
    };
    slot.worker.terminate().then(done, done);
  }
}
