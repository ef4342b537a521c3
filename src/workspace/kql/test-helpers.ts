/**
 * Test-only SqlRunner implementations (better-sqlite3 and pg) over the workspace storage layout,
 * plus row loading. Each PostgreSQL runner lives in its own randomly named schema, dropped on close,
 * so concurrent test runs never see each other.
 */
import Database from 'better-sqlite3';
import pg from 'pg';
import { randomBytes } from 'node:crypto';
import { workspaceTables, type WorkspaceTableName } from '../tables.ts';
import { createWorkspaceTablesSql, insertRowSql, toStorageRow } from '../../store/workspace-tables-sql.ts';
import { registerSqliteFunctions } from './sqlite-functions.ts';
import { QueryTimeoutError, type SqlRunner } from '../query.ts';

export interface TestRunner extends SqlRunner {
  /** Every SQL text the runner executed through `query` (for assertions). */
  readonly executed: string[];
  insert(table: WorkspaceTableName, workspace: string, rows: Record<string, unknown>[]): Promise<void>;
  /** Run a statement outside the read-only query path (DDL in tests). */
  exec(sql: string): Promise<void>;
  close(): Promise<void>;
}

export const PG_TEST_URL = process.env.ITSMC_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export function createSqliteTestRunner(file = ':memory:'): TestRunner & { db: Database.Database } {
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  registerSqliteFunctions(db);
  for (const s of createWorkspaceTablesSql('sqlite')) db.exec(s);
  const executed: string[] = [];
  return {
    dialect: 'sqlite',
    db,
    executed,
    async query(sql, params, opts) {
      executed.push(sql);
      const stmt = db.prepare(sql); // throws on more than one statement
      if (!stmt.reader || !stmt.readonly) throw new Error('refusing to run a statement that is not a read-only query');
      const deadline = opts?.timeoutMs !== undefined ? Date.now() + opts.timeoutMs : Infinity;
      const rows: unknown[][] = [];
      for (const r of stmt.raw().iterate(...params)) {
        rows.push(r as unknown[]);
        if ((rows.length & 1023) === 0 && Date.now() > deadline) throw new QueryTimeoutError('timeout');
      }
      if (Date.now() > deadline) throw new QueryTimeoutError('timeout');
      return { rows };
    },
    async insert(table, workspace, rows) {
      const stmt = db.prepare(insertRowSql(table, 'sqlite'));
      db.transaction(() => {
        for (const r of rows) stmt.run(workspace, ...toStorageRow(table, r, 'sqlite'));
      })();
    },
    async exec(sql) {
      db.exec(sql);
    },
    async close() {
      db.close();
    },
  };
}

/** Connects and creates a fresh schema; rejects when PostgreSQL is not reachable. */
export async function createPgTestRunner(url = PG_TEST_URL): Promise<TestRunner> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  await client.connect();
  const schema = `kqltest_${randomBytes(6).toString('hex')}`;
  await client.query(`CREATE SCHEMA ${schema}`);
  await client.query(`SET search_path TO ${schema}`);
  for (const s of createWorkspaceTablesSql('postgres')) await client.query(s);
  const executed: string[] = [];
  return {
    dialect: 'postgres',
    executed,
    async query(sql, params, opts) {
      executed.push(sql);
      await client.query('BEGIN READ ONLY');
      try {
        if (opts?.timeoutMs !== undefined) await client.query(`SET LOCAL statement_timeout = ${Math.max(1, Math.floor(opts.timeoutMs))}`);
        const res = await client.query({ text: sql, values: params, rowMode: 'array' });
        await client.query('COMMIT');
        return { rows: res.rows as unknown[][] };
      } catch (e) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw e;
      }
    },
    async insert(table, workspace, rows) {
      const ins = insertRowSql(table, 'postgres');
      const cols = workspaceTables[table].columns.length + 1;
      const BATCH = Math.floor(60000 / cols);
      for (let i = 0; i < rows.length; i += BATCH) {
        const chunk = rows.slice(i, i + BATCH);
        const values: unknown[] = [];
        const tuples = chunk.map((r, j) => {
          values.push(workspace, ...toStorageRow(table, r, 'postgres'));
          return '(' + Array.from({ length: cols }, (_, k) => `$${j * cols + k + 1}`).join(', ') + ')';
        });
        await client.query(ins.replace(/VALUES \(.*\)$/, `VALUES ${tuples.join(', ')}`), values);
      }
    },
    async exec(sql) {
      await client.query(sql);
    },
    async close() {
      try {
        await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      } finally {
        await client.end();
      }
    },
  };
}

/** Resolves a PG runner or a reason string when PostgreSQL is unavailable. */
export async function tryPgTestRunner(): Promise<TestRunner | string> {
  try {
    return await createPgTestRunner();
  } catch (e) {
    return `PostgreSQL not reachable at ${PG_TEST_URL.replace(/\/\/[^@]*@/, '//…@')}: ${(e as Error).message}`;
  }
}
