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
  if (lock) return lock.run(() => sqliteImmediate(db, fn));
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

  run<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.tail.then(fn, fn);
    this.tail = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
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
  return storeDialect(dialect).serialisesWrites ? (fn) => lock.run(fn) : ungated;
}
