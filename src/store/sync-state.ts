import type { Generated, Kysely } from 'kysely';
import type { Database, SyncStateTable } from './schema.ts';
import { ungated, type WriteGate } from './write-tx.ts';

/** Tables added by migration 3 (data sync); declared here, beside their only users. */
export interface SyncRecordsTable {
  connection_id: string;
  scope: string;
  record_id: string;
  content_hash: string;
  updated_at: string | null;
}

export interface SyncRunsTable {
  id: Generated<number>;
  connection_id: string;
  holder: string;
  started_at: number;
  finished_at: number | null;
  status: string | null;
  fetched: number;
  appended: number;
  error: string | null;
}

export interface SyncDatabase extends Database {
  sync_records: SyncRecordsTable;
  sync_runs: SyncRunsTable;
}

/**
 * Where a connection's data sync stands, per scope. `watermark` is the last-modified time (ISO UTC) up to
 * which every record is committed; `cursor` is set only while a run is under way and holds our own JSON
 * envelope `{since, next, max}` around the partner's opaque paging cursor, so a crashed run resumes at
 * the page after the last committed one. Both are written only in the transaction that commits the rows
 * (see workspace-rows.ts), never ahead of them.
 */
export interface SyncCursor {
  /** The `since` the run started with (ISO). */
  since: string;
  /** Partner cursor of the next page to read. */
  next: string;
  /** Newest last-modified time committed by this run so far (ISO), or null. */
  max: string | null;
  /** True while this run is the initial backfill. */
  backfill: boolean;
}

export interface SyncStateView {
  scope: string;
  watermark: string | null;
  cursor: SyncCursor | null;
  backfillDone: boolean;
  lastRunAt: number | null;
  lastError: string | null;
  recordsSynced: number;
}

export function parseCursor(text: string | null): SyncCursor | null {
  if (!text) return null;
  try {
    const c = JSON.parse(text) as Partial<SyncCursor>;
    if (typeof c.since === 'string' && typeof c.next === 'string')
      return { since: c.since, next: c.next, max: typeof c.max === 'string' ? c.max : null, backfill: c.backfill === true };
  } catch {
    // an unreadable cursor restarts the run from the watermark: rows already committed are not repeated
  }
  return null;
}

function toView(row: SyncStateTable): SyncStateView {
  return {
    scope: row.scope,
    watermark: row.watermark,
    cursor: parseCursor(row.cursor),
    backfillDone: row.backfill_done === 1,
    lastRunAt: row.last_run_at === null ? null : Number(row.last_run_at),
    lastError: row.last_error,
    recordsSynced: Number(row.records_synced),
  };
}

export class SyncStateRepo {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly write: WriteGate = ungated,
  ) {}

  async get(connectionId: string, scope: string): Promise<SyncStateView | null> {
    const row = await this.db.selectFrom('sync_state').selectAll().where('connection_id', '=', connectionId).where('scope', '=', scope).executeTakeFirst();
    return row ? toView(row) : null;
  }

  async list(connectionId: string): Promise<SyncStateView[]> {
    const rows = await this.db.selectFrom('sync_state').selectAll().where('connection_id', '=', connectionId).orderBy('scope').execute();
    return rows.map(toView);
  }

  /** Records a failed run without touching watermark or cursor. */
  async recordError(connectionId: string, scope: string, error: string, now = Date.now()): Promise<void> {
    await this.write(() =>
      this.db
        .insertInto('sync_state')
        .values({ connection_id: connectionId, scope, watermark: null, cursor: null, backfill_done: 0, last_run_at: now, last_error: error, records_synced: 0 })
        .onConflict((oc) => oc.columns(['connection_id', 'scope']).doUpdateSet({ last_run_at: now, last_error: error }))
        .execute(),
    );
  }

  /**
   * Drops the sync bookkeeping (position, record hashes, run history) of deleted connections. The rows
   * they synced stay in the workspace (log semantics). Returns the number of hashes removed.
   */
  async purgeOrphans(): Promise<number> {
    const db = this.db as unknown as Kysely<SyncDatabase>;
    const live = db.selectFrom('connections').select('id');
    return this.write(async () => {
      const hashes = await db.deleteFrom('sync_records').where('connection_id', 'not in', live).executeTakeFirst();
      await db.deleteFrom('sync_state').where('connection_id', 'not in', live).execute();
      await db.deleteFrom('sync_runs').where('connection_id', 'not in', live).execute();
      return Number(hashes.numDeletedRows);
    });
  }

  /** Forgets a connection's sync position (the next run backfills again); rows already synced stay. */
  async reset(connectionId: string): Promise<void> {
    await this.write(() => this.db.deleteFrom('sync_state').where('connection_id', '=', connectionId).execute());
  }
}

/**
 * The upsert that moves the sync position, as raw SQL for the page-commit transaction (the same text
 * runs on SQLite and PostgreSQL; `$n` placeholders are rewritten to `?` for SQLite by the caller).
 * Parameters: connection_id, scope, watermark, cursor, backfill_done, last_run_at, records added.
 */
export const upsertSyncStateSql = `INSERT INTO sync_state (connection_id, scope, watermark, cursor, backfill_done, last_run_at, last_error, records_synced)
VALUES ($1, $2, $3, $4, $5, $6, NULL, $7)
ON CONFLICT (connection_id, scope) DO UPDATE SET watermark = excluded.watermark, cursor = excluded.cursor,
  backfill_done = excluded.backfill_done, last_run_at = excluded.last_run_at, last_error = NULL,
  records_synced = sync_state.records_synced + excluded.records_synced`;

export interface SyncRunView {
  holder: string;
  startedAt: number;
  finishedAt: number | null;
  status: string | null;
  fetched: number;
  appended: number;
  error: string | null;
}

const RUNS_KEPT = 200;

/** History of sync runs per connection (the last 200): status pages, and the proof that runs never overlap. */
export class SyncRunRepo {
  private readonly db: Kysely<SyncDatabase>;
  constructor(
    db: Kysely<Database>,
    private readonly write: WriteGate = ungated,
  ) {
    this.db = db as unknown as Kysely<SyncDatabase>;
  }

  async start(connectionId: string, holder: string, startedAt: number): Promise<number> {
    const row = await this.write(() =>
      this.db
        .insertInto('sync_runs')
        .values({ connection_id: connectionId, holder, started_at: startedAt, finished_at: null, status: 'running', fetched: 0, appended: 0, error: null })
        .returning('id')
        .executeTakeFirstOrThrow(),
    );
    return Number(row.id);
  }

  async finish(id: number, finishedAt: number, status: string, fetched: number, appended: number, error: string | null): Promise<void> {
    await this.write(async () => {
      const run = await this.db
        .updateTable('sync_runs')
        .set({ finished_at: finishedAt, status, fetched, appended, error })
        .where('id', '=', id)
        .returning('connection_id')
        .executeTakeFirst();
      if (run && id % 50 === 0) {
        await this.db
          .deleteFrom('sync_runs')
          .where('connection_id', '=', run.connection_id)
          .where('id', '<=', id - RUNS_KEPT)
          .execute();
      }
    });
  }

  async list(connectionId: string, limit = 20): Promise<SyncRunView[]> {
    const rows = await this.db.selectFrom('sync_runs').selectAll().where('connection_id', '=', connectionId).orderBy('id', 'desc').limit(limit).execute();
    return rows.map((r) => ({
      holder: r.holder,
      startedAt: Number(r.started_at),
      finishedAt: r.finished_at === null ? null : Number(r.finished_at),
      status: r.status,
      fetched: Number(r.fetched),
      appended: Number(r.appended),
      error: r.error,
    }));
  }
}
