import type { RawHandle } from './open.ts';

/** Runs one compiled read-only statement with bound parameters and returns rows as arrays. */
export interface SqlRunner {
  dialect: 'sqlite' | 'postgres';
  query(text: string, params: unknown[], opts?: { timeoutMs?: number }): Promise<{ rows: unknown[][] }>;
}

export function createSqlRunner(raw: RawHandle): SqlRunner {
  if (raw.dialect === 'sqlite') {
    const db = raw.sqlite;
    return {
      dialect: 'sqlite',
      // better-sqlite3 is synchronous and cannot be interrupted; the KQL layer caps rows instead.
      async query(text, params) {
        const statement = db.prepare(text);
        if (!statement.reader) throw new Error('only statements that return rows may run here');
        return { rows: statement.raw(true).all(...(params as any[])) as unknown[][] };
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
