import type { RawHandle } from './open.ts';
import { registerSqliteFunctions } from '../workspace/kql/sqlite-functions.ts';
import { QueryTimeoutError, type SqlRunner } from '../workspace/query.ts';
import { SqliteQueryPool } from './kql-query-pool.ts';

export type { SqlRunner };

/** The KQL runner of the store; `close` stops its query threads. */
export interface StoreSqlRunner extends SqlRunner {
  close(): Promise<void>;
}

export interface SqlRunnerOptions {
  /** SQLite: worker threads running queries (each with its own read-only connection). */
  queryThreads?: number;
}

const NO_TIMEOUT_MS = 24 * 3600 * 1000;

export function createSqlRunner(raw: RawHandle, options: SqlRunnerOptions = {}): StoreSqlRunner {
  if (raw.dialect === 'sqlite') {
    const file = raw.sqlite.name;
    if (file && file !== ':memory:' && !raw.sqlite.memory) {
      const pool = new SqliteQueryPool(file, Math.max(1, options.queryThreads ?? 2));
      return {
        dialect: 'sqlite',
        query: async (text, params, opts) => ({ rows: await pool.query(text, params, opts?.timeoutMs ?? NO_TIMEOUT_MS) }),
        warm: () => pool.warm(),
        close: () => pool.close(),
      };
    }
    return inThreadSqliteRunner(raw.sqlite);
  }
  const pool = raw.pool;
  return {
    dialect: 'postgres',
    async query(text, params, opts) {
      const client = await pool.connect();
      try {
        await client.query('BEGIN READ ONLY');
        if (opts?.timeoutMs) await client.query(`SET LOCAL statement_timeout = ${Math.max(1, Math.floor(opts.timeoutMs))}`);
        const result = await client.query({ text, values: params, rowMode: 'array' });
        await client.query('COMMIT');
        return { rows: result.rows as unknown[][] };
      } catch (err) {
        await client.query('ROLLBACK').catch(() => {});
        throw err;
      } finally {
        client.release();
      }
    },
    close: async () => {},
  };
}

/**
 * An in-memory database cannot be opened by another thread: its queries run here, with the deadline
 * checked between returned rows only.
 */
function inThreadSqliteRunner(db: Extract<RawHandle, { dialect: 'sqlite' }>['sqlite']): StoreSqlRunner {
  registerSqliteFunctions(db);
  return {
    dialect: 'sqlite',
    async query(text, params, opts) {
      const statement = db.prepare(text);
      if (!statement.reader) throw new Error('only statements that return rows may run here');
      const deadline = opts?.timeoutMs ? performance.now() + opts.timeoutMs : Infinity;
      const rows: unknown[][] = [];
      for (const row of statement.raw(true).iterate(...(params as unknown[]))) {
        rows.push(row as unknown[]);
        if ((rows.length & 1023) === 0 && performance.now() > deadline) throw new QueryTimeoutError('query timeout');
      }
      return { rows };
    },
    close: async () => {},
  };
}
