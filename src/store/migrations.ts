import { sql, type Kysely } from 'kysely';
import type { Database } from './schema.ts';
import { storeDialect, type Dialect } from './dialect.ts';
import { createWorkspaceTablesSql } from './workspace-tables-sql.ts';
import { kqlHashAndSeriesFunctionsSql, kqlHelperFunctionsSql } from '../workspace/kql/pg-functions.ts';

interface Migration {
  version: number;
  name: string;
  statements: (dialect: Dialect) => string[];
}

/** DDL written once for both dialects: `$AUTO` is the auto-increment key, `$BIG` a 64-bit integer. */
function ddl(dialect: Dialect, text: string): string[] {
  const auto = storeDialect(dialect).autoIncrementKey;
  return text
    .replaceAll('$AUTO', auto)
    .replaceAll('$BIG', 'BIGINT')
    .split(';')
    .map((s) => s.trim())
    .filter(Boolean);
}

export const migrations: Migration[] = [
  {
    version: 1,
    name: 'core tables',
    statements: (d) =>
      ddl(
        d,
        `
      CREATE TABLE workspaces (name TEXT PRIMARY KEY, created_at $BIG NOT NULL);
      CREATE TABLE api_keys (
        id TEXT PRIMARY KEY, workspace TEXT NOT NULL REFERENCES workspaces(name) ON DELETE CASCADE,
        name TEXT NOT NULL, role TEXT NOT NULL, token_hash TEXT NOT NULL UNIQUE,
        created_at $BIG NOT NULL, revoked_at $BIG);
      CREATE TABLE connections (
        id TEXT PRIMARY KEY, workspace TEXT NOT NULL REFERENCES workspaces(name) ON DELETE CASCADE,
        name TEXT NOT NULL, partner_type TEXT NOT NULL, server_url TEXT NOT NULL,
        client_id TEXT, client_secret_enc TEXT, tokens_enc TEXT,
        data_sync_scope TEXT NOT NULL, sync_data_days INTEGER NOT NULL, create_new_cis INTEGER NOT NULL,
        sync_interval_seconds INTEGER NOT NULL, status TEXT NOT NULL, last_error TEXT,
        last_sync_at $BIG, last_config_sync_at $BIG, configuration TEXT,
        created_at $BIG NOT NULL, updated_at $BIG NOT NULL, UNIQUE (workspace, name));
      CREATE TABLE action_groups (
        id TEXT PRIMARY KEY, workspace TEXT NOT NULL REFERENCES workspaces(name) ON DELETE CASCADE,
        name TEXT NOT NULL, short_name TEXT NOT NULL, enabled INTEGER NOT NULL, receivers TEXT NOT NULL,
        webhook_secret_hash TEXT NOT NULL UNIQUE, webhook_secret_enc TEXT NOT NULL,
        created_at $BIG NOT NULL, updated_at $BIG NOT NULL, UNIQUE (workspace, name));
      CREATE TABLE alerts (
        id TEXT PRIMARY KEY, workspace TEXT NOT NULL, action_group TEXT NOT NULL,
        idempotency_key TEXT NOT NULL UNIQUE, family TEXT NOT NULL, alert_id TEXT NOT NULL,
        monitor_condition TEXT NOT NULL, payload TEXT NOT NULL, received_at $BIG NOT NULL);
      CREATE TABLE jobs (
        id $AUTO, kind TEXT NOT NULL, ordering_key TEXT NOT NULL, dedupe_key TEXT NOT NULL UNIQUE,
        connection_id TEXT, payload TEXT NOT NULL, state TEXT NOT NULL, attempts INTEGER NOT NULL,
        max_attempts INTEGER NOT NULL, run_at $BIG NOT NULL, locked_until $BIG, locked_by TEXT,
        last_error TEXT, created_at $BIG NOT NULL, updated_at $BIG NOT NULL);
      CREATE INDEX jobs_ready ON jobs (state, run_at);
      CREATE INDEX jobs_ordering ON jobs (ordering_key, state, id);
      CREATE TABLE work_item_links (
        dedup_key TEXT PRIMARY KEY, workspace TEXT NOT NULL, connection_id TEXT NOT NULL,
        work_item_type TEXT NOT NULL, partner_id TEXT, number TEXT, state TEXT,
        closed INTEGER NOT NULL, closed_at $BIG, correlation_key TEXT NOT NULL,
        last_alert_id TEXT, last_condition TEXT, last_note_at $BIG, pending_occurrences INTEGER NOT NULL,
        cis TEXT NOT NULL, created_at $BIG NOT NULL, updated_at $BIG NOT NULL);
      CREATE INDEX work_item_links_correlation ON work_item_links (correlation_key);
      CREATE TABLE sync_state (
        connection_id TEXT NOT NULL, scope TEXT NOT NULL, watermark TEXT, cursor TEXT,
        backfill_done INTEGER NOT NULL, last_run_at $BIG, last_error TEXT, records_synced $BIG NOT NULL,
        PRIMARY KEY (connection_id, scope));
      CREATE TABLE leases (name TEXT PRIMARY KEY, holder TEXT NOT NULL, expires_at $BIG NOT NULL)
      `,
      ),
  },
  {
    version: 2,
    name: 'workspace tables',
    statements: (d) => createWorkspaceTablesSql(d),
  },
  {
    version: 3,
    name: 'data sync: record hashes and run history',
    // sync_records: one content hash per synced record, so a sync appends a row only when the record changed.
    // sync_runs: who ran which sync when (lease holder), for status and for proving mutual exclusion.
    statements: (d) =>
      ddl(
        d,
        `
      CREATE TABLE sync_records (
        connection_id TEXT NOT NULL, scope TEXT NOT NULL, record_id TEXT NOT NULL, content_hash TEXT NOT NULL,
        updated_at TEXT, PRIMARY KEY (connection_id, scope, record_id))${storeDialect(d).clusteredByKey};
      CREATE TABLE sync_runs (
        id $AUTO, connection_id TEXT NOT NULL, holder TEXT NOT NULL, started_at $BIG NOT NULL, finished_at $BIG,
        status TEXT, fetched $BIG NOT NULL, appended $BIG NOT NULL, error TEXT);
      CREATE INDEX sync_runs_connection ON sync_runs (connection_id, id)
      `,
      ),
  },
  {
    version: 4,
    name: 'delivery: job workspace, coalesced occurrence notes',
    // jobs.workspace: dead letters are listed and replayed per workspace.
    // jobs_due replaces jobs_ready (state, run_at): the claim scan reads the ordering key from the index.
    // work_item_links.decision_state: the rest of the grouping LinkState (generation, firing instances, seen events, folded occurrences).
    statements: (d) =>
      ddl(
        d,
        `
      ALTER TABLE jobs ADD COLUMN workspace TEXT;
      DROP INDEX jobs_ready;
      CREATE INDEX jobs_due ON jobs (state, run_at, ordering_key);
      ALTER TABLE work_item_links ADD COLUMN decision_state TEXT;
      ALTER TABLE work_item_links ADD COLUMN action_group TEXT;
      ALTER TABLE work_item_links ADD COLUMN receiver TEXT
      `,
      ),
  },
  {
    version: 5,
    name: 'connections: refresh token lifetime',
    // NULL = the partner's default lifetime.
    statements: (d) => ddl(d, `ALTER TABLE connections ADD COLUMN refresh_token_lifetime_s INTEGER`),
  },
  {
    version: 6,
    name: 'KQL helper functions (PostgreSQL kql_parse_json)',
    statements: (d) => kqlHelperFunctionsSql(d),
  },
  {
    version: 7,
    name: 'KQL helper functions (PostgreSQL hash, series_stats, series_fill_linear)',
    statements: (d) => kqlHashAndSeriesFunctionsSql(d),
  },
];

/**
 * Applies pending migrations, each in its own transaction. On PostgreSQL an advisory lock keeps two
 * processes starting at once from racing; SQLite has one writer anyway.
 */
export async function migrate(db: Kysely<Database>, dialect: Dialect): Promise<number[]> {
  await sql`CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)`.execute(db);
  const applied: number[] = [];
  for (const migration of migrations) {
    const done = await db.transaction().execute(async (trx) => {
      const lock = storeDialect(dialect).migrationLock;
      if (lock) await sql.raw(lock).execute(trx);
      const exists = await trx.selectFrom('schema_migrations').select('version').where('version', '=', migration.version).executeTakeFirst();
      if (exists) return false;
      for (const statement of migration.statements(dialect)) await sql.raw(statement).execute(trx);
      await trx.insertInto('schema_migrations').values({ version: migration.version, name: migration.name, applied_at: Date.now() }).execute();
      return true;
    });
    if (done) applied.push(migration.version);
  }
  return applied;
}

export function latestMigrationVersion(): number {
  return Math.max(...migrations.map((m) => m.version));
}
