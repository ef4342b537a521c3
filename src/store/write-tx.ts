import fs from 'node:fs/promises';
import { sql, type Kysely } from 'kysely';
import type { Database } from './schema.ts';
import { storeDialect, type Dialect } from './dialect.ts';

/**
 * A read-write transaction. On SQLite it starts with BEGIN IMMEDIATE: the write lock is taken up front
 * (waiting through busy_timeout), so a transaction that reads before it writes can never fail with
 * SQLITE_BUSY when another connection — the ingest writer thread — committed in between, as a deferred
 * transaction would. On PostgreSQL it is an ordinary transaction.
 */
export async function writeTransaction<T>(db: Kysely<Database>, dialect: Dialect, fn: (trx: Kysely<Database>) => Promise<T>, lock?: AsyncMutex): Promise<T> {
  if (!storeDialect(dialect).serialisesWrites) return db.transaction().execute((trx) => fn(trx));
  if (lock) return lock.runDurably(() => sqliteImmediate(db, fn));
  return sqliteImmediate(db, fn);
}

function sqliteImmediate<T>(db: Kysely<Database>, fn: (trx: Kysely<Database>) => Promise<T>): Promise<T> {
  return db.connection().execute(async (conn) => {
    await sql`BEGIN IMMEDIATE`.execute(conn);
    try {
      const result = await fn(conn);
      await sql`COMMIT`.execute(conn);
      return result;
    } catch (err) {
      await sql`ROLLBACK`.execute(conn).catch(() => {});
      throw err;
    }
  });
}

/**
 * SQLite has one writer at a time, and better-sqlite3 waits for a busy lock by sleeping synchronously — on
 * the main thread that freezes the event loop (the busy handler sleeps in growing steps up to 100 ms). The
 * ingest writer thread and the main thread's write transactions therefore take turns through this
 * promise-based lock instead: the main thread waits for its turn without blocking.
 */
export class AsyncMutex {
  private tail: Promise<unknown> = Promise.resolve();
  /**
   * Makes what the main thread committed durable (SQLite: the WAL synced on a libuv thread, see WalSync); unset,
   * commits are durable when they return.
   */
  durable: (() => Promise<void>) | null = null;

  run<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.tail.then(fn, fn);
    this.tail = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  }

  /** `run`, then waits until the write is durable; the next writer does not wait for that sync. */
  async runDurably<T>(fn: () => Promise<T>): Promise<T> {
    const result = await this.run(fn);
    if (this.durable) await this.durable();
    return result;
  }
}

/**
 * The main thread's SQLite connection commits with synchronous=NORMAL: its commits write their WAL frames but
 * do not fsync, which with FULL would block the event loop for milliseconds per commit (measured: 4.9 ms a
 * commit beside the ingest writer, 23% of the connector's CPU profile under load). Before a write is reported
 * done, the WAL file is fdatasync'ed on a libuv thread instead: the same durability as FULL (the WAL is one
 * append-only file, so syncing it makes every frame written so far durable), off the event loop. Writers
 * waiting at the same time share one sync.
 */
export class WalSync {
  private running: Promise<void> | null = null;
  private next: Promise<void> | null = null;

  constructor(private readonly walFile: string) {}

  sync(): Promise<void> {
    if (!this.running) {
      this.running = this.flush().finally(() => (this.running = null));
      return this.running;
    }
    // The sync in progress may have started before this write: wait for the one after it.
    this.next ??= this.running.then(() => {
      this.next = null;
      return this.sync();
    });
    return this.next;
  }

  protected async flush(): Promise<void> {
    // Opened per sync: SQLite may delete and recreate the WAL file when the last connection closes.
    let file: fs.FileHandle;
    try {
      file = await fs.open(this.walFile, 'r+');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return; // no WAL: everything is in the database file
      throw err;
    }
    try {
      await file.datasync();
    } finally {
      await file.close();
    }
  }
}

/**
 * How a repository runs a write outside a transaction of its own: on SQLite in its turn on the store's
 * write lock (so it never meets the ingest writer thread mid-transaction and busy-waits on the event
 * loop); on PostgreSQL directly. Repositories built without a store (none today) run writes directly.
 */
export type WriteGate = <T>(fn: () => Promise<T>) => Promise<T>;

export const ungated: WriteGate = (fn) => fn();

export function writeGate(dialect: Dialect, lock: AsyncMutex): WriteGate {
  return storeDialect(dialect).serialisesWrites ? (fn) => lock.runDurably(fn) : ungated;
}

/** Takes its turn like `writeGate` but returns without waiting for durability: for writes that can be redone. */
export function turnGate(dialect: Dialect, lock: AsyncMutex): WriteGate {
  return storeDialect(dialect).serialisesWrites ? (fn) => lock.run(fn) : ungated;
}
