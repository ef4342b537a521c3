import fs from 'node:fs';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import pg from 'pg';
import { Kysely, PostgresDialect, SqliteDialect, sql } from 'kysely';
import type { Database } from './schema.ts';
import type { Dialect } from './dialect.ts';

/** The raw driver beside Kysely: the KQL runner and bulk loads use it directly. */
export type RawHandle = { dialect: 'sqlite'; sqlite: BetterSqlite3.Database } | { dialect: 'postgres'; pool: pg.Pool };

export interface OpenOptions {
  dataDir: string;
  databaseUrl?: string;
  /** PostgreSQL schema to use (tests give each run its own); created when missing. */
  pgSchema?: string;
}

export interface Opened {
  db: Kysely<Database>;
  raw: RawHandle;
  dialect: Dialect;
}

// One bigint policy for the whole project: int8 and numeric counts come back as JS numbers.
// Epoch milliseconds and row counts stay far below 2^53.
pg.types.setTypeParser(20, (v) => Number(v));
pg.types.setTypeParser(1700, (v) => Number(v));

export async function openDatabase(options: OpenOptions): Promise<Opened> {
  if (options.databaseUrl && /^postgres(ql)?:\/\//.test(options.databaseUrl)) return openPostgres(options.databaseUrl, options.pgSchema);
  if (options.databaseUrl) throw new Error('ITSMC_DATABASE_URL must be a postgres:// URL (leave it unset for the embedded SQLite store)');
  return openSqlite(path.join(options.dataDir, 'itsmc.sqlite'));
}

function openSqlite(file: string): Opened {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const sqlite = new BetterSqlite3(file);
  sqlite.pragma('journal_mode = WAL');
  // FULL: an acknowledged alert survives power loss, not only a process crash.
  sqlite.pragma('synchronous = FULL');
  sqlite.pragma('busy_timeout = 5000');
  sqlite.pragma('foreign_keys = ON');
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: sqlite }) });
  return { db, raw: { dialect: 'sqlite', sqlite }, dialect: 'sqlite' };
}

async function openPostgres(url: string, schema?: string): Promise<Opened> {
  if (schema && !/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) throw new Error(`invalid PostgreSQL schema name: ${schema}`);
  if (schema) {
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    try {
      await admin.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
    } finally {
      await admin.end();
    }
  }
  const pool = new pg.Pool({ connectionString: url, max: 10, options: schema ? `-c search_path="${schema}"` : undefined });
  pool.on('error', () => {}); // an idle client's error must not crash the process; the next query reports it
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  await sql`SELECT 1`.execute(db);
  return { db, raw: { dialect: 'postgres', pool }, dialect: 'postgres' };
}
