import fs from 'node:fs';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import pg from 'pg';
import { Kysely, PostgresDialect, SqliteDialect, sql, type SqliteDatabase } from 'kysely';
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

/** Creates (or tightens) a directory only its owner may enter: 0700. */
export function makePrivateDir(dir: string): void {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  fs.chmodSync(dir, 0o700);
}

/**
 * Opens a SQLite file readable by its owner only. The file is created 0600 before SQLite opens it, and
 * SQLite gives its `-wal` and `-shm` files the database file's mode; files left by an older version are
 * tightened too.
 */
export function openPrivateSqlite(file: string): BetterSqlite3.Database {
  makePrivateDir(path.dirname(file));
  fs.closeSync(fs.openSync(file, 'a', 0o600));
  const sqlite = new BetterSqlite3(file);
  sqlite.pragma('journal_mode = WAL');
  for (const f of [file, `${file}-wal`, `${file}-shm`]) if (fs.existsSync(f)) fs.chmodSync(f, 0o600);
  return sqlite;
}

function openSqlite(file: string): Opened {
  const sqlite = openPrivateSqlite(file);
  // NORMAL on this (main-thread) connection: its writes are made durable by a WAL sync on a libuv thread before
  // they are reported done (WalSync in write-tx.ts), so a commit never waits for the disk on the event loop. The
  // ingest writer thread commits with FULL: an acknowledged alert survives power loss, not only a process crash.
  sqlite.pragma('synchronous = NORMAL');
  sqlite.pragma('busy_timeout = 5000');
  sqlite.pragma('foreign_keys = ON');
  // WAL checkpoints are left to the ingest writer thread (1,000 pages, SQLite's default): a checkpoint run by a
  // commit on this connection would copy the WAL and fsync the database on the event loop. This one steps in
  // only when the WAL grows far past that (no ingest for a long time while sync or delivery write).
  sqlite.pragma('wal_autocheckpoint = 16000');
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: withStatementCache(sqlite) }) });
  return { db, raw: { dialect: 'sqlite', sqlite }, dialect: 'sqlite' };
}

/**
 * Kysely prepares every statement again on every execution; with better-sqlite3 that preparation costs about
 * as much as running a small query. Statements are kept by SQL text (least recently used out first): Kysely
 * binds values as parameters, so the same query shape reuses one statement.
 */
function withStatementCache(sqlite: BetterSqlite3.Database, max = 512): SqliteDatabase {
  const cache = new Map<string, BetterSqlite3.Statement>();
  return {
    close: () => sqlite.close(),
    prepare(text: string) {
      let stmt = cache.get(text);
      if (stmt) cache.delete(text);
      else {
        stmt = sqlite.prepare(text);
        if (cache.size >= max) cache.delete(cache.keys().next().value!);
      }
      cache.set(text, stmt);
      return stmt;
    },
  };
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
