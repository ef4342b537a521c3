import type { RawHandle } from './open.ts';
import { registerSqliteFunctions } from '../workspace/kql/sqlite-functions.ts';
import { QueryTimeoutError, type SqlRunner } from '../workspace/query.ts';

export type { SqlRunner };

export function createSqlRunner(raw: RawHandle): SqlRunner {
  if (raw.dialect === 'sqlite') {
    const db = raw.sqlite;
    // Compiled KQL calls kql_* helpers (regex, split, percentile …) that SQLite lacks.
    registerSqliteFunctions(db);
    return {
      dialect: 'sqlite',
      // better-sqlite3 cannot interrupt a statement: the timeout is checked between returned rows, so an
      // aggregate that returns few rows answers when it ends.
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
    };
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
  };
}
