/**
 * Bulk writes into the workspace tables (ServiceDesk_CL, ServiceDeskLog_CL, …), on the raw driver:
 * SQLite runs prepared statements in one IMMEDIATE transaction (under Kysely's connection lock, so no
 * Kysely transaction interleaves; sync pages on a writer thread of their own, see SYNC_WRITER_BODY);
 * PostgreSQL inserts a whole page with one `INSERT … SELECT FROM unnest(…)` per table.
 *
 * `commitSyncPage` is the sync engine's unit of durability: in one transaction it checks the sync lease
 * (fence), appends a row for each record whose content changed since the last stored version (a content
 * hash per (connection, scope, record id) in `sync_records`), updates those hashes and moves the sync
 * position (`sync_state`). A crash before the commit loses the whole page and nothing else; a crash after
 * it loses nothing.
 */
import { hash } from 'node:crypto';
import { sql, type Kysely, type Transaction } from 'kysely';
import type BetterSqlite3 from 'better-sqlite3';
import type pg from 'pg';
import type { Database } from './schema.ts';
import type { RawHandle } from './open.ts';
import { upsertSyncStateSql } from './sync-state.ts';
import { ungated, type WriteGate } from './write-tx.ts';
import { LeaseLostError } from './lease-lost.ts';
import { SqliteWriterThread } from './writer-thread.ts';
import type { Dialect } from './dialect.ts';
import { quoteIdent, StorageRowError, toEpochMs, workspaceTables, type KqlColumnType, type WorkspaceTableName } from '../workspace/tables.ts';
import { insertRowSql, toStorageRow } from './workspace-tables-sql.ts';

export type WorkspaceRow = Record<string, unknown>;

export interface SyncPageRecord {
  /** Partner record id (ServiceNow sys_id). */
  id: string;
  /** Last-modified time (ISO). */
  updatedAt: string;
  /** ServiceDesk_CL columns from the partner mapping (without TimeGenerated and connection name). */
  row: WorkspaceRow;
}

export interface SyncPageCommit {
  connectionId: string;
  workspace: string;
  connectionName: string;
  scope: string;
  records: SyncPageRecord[];
  /** TimeGenerated of the rows this page appends (epoch ms). */
  timeGenerated: number;
  /** The sync position after this page. */
  state: { watermark: string | null; cursor: string | null; backfillDone: boolean; runAt: number };
  /** The lease the writer must still hold; renewed inside the transaction. */
  lease?: { name: string; holder: string; ttlMs: number };
  /**
   * The commit of the page before this one, still running: this page is converted at once but commits only
   * after that one succeeded (and not at all when it failed), so the position never skips a page.
   */
  after?: Promise<unknown>;
}

export interface SyncPageResult {
  appended: number;
  unchanged: number;
}

/** SourceSystem of every row the connector writes (Log Analytics' value for rows sent through its REST API). */
export const SOURCE_SYSTEM = 'RestAPI';
export { LeaseLostError };
const SYNC_LEASE_LOST = 'the sync lease was taken over by another process; this run stops without committing';
const TABLE = 'ServiceDesk_CL' satisfies WorkspaceTableName;
const knownColumns = new Map<WorkspaceTableName, Set<string>>(
  (Object.keys(workspaceTables) as WorkspaceTableName[]).map((t) => [t, new Set(workspaceTables[t].columns.map((c) => c.name))]),
);

/**
 * Content hash of a record in storage form (declared column order, before TimeGenerated and the
 * connection name are set): 128 bits of SHA-1, one hash call per record.
 */
export function contentHash(values: readonly unknown[]): string {
  let text = '';
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    text += v === null || v === undefined ? '\u0000\u0001' : typeof v === 'string' ? v + '\u0001' : `${String(v)}\u0001`;
  }
  // The one-shot hash: no Hash object per record. The text and digest are those stored hashes were made with.
  return hash('sha1', text, 'base64url').slice(0, 22);
}

const serviceDeskColumns = workspaceTables.ServiceDesk_CL.columns;
const TIME_AT = serviceDeskColumns.findIndex((c) => c.name === 'TimeGenerated');
const CONNECTION_AT = serviceDeskColumns.findIndex((c) => c.name === 'ServiceDeskConnectionName_s');
const SOURCE_AT = serviceDeskColumns.findIndex((c) => c.name === 'SourceSystem');
const TYPE_AT = serviceDeskColumns.findIndex((c) => c.name === 'Type');

function digits(v: string, from: number, len: number): number {
  let x = 0;
  for (let i = from; i < from + len; i++) {
    const d = v.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return NaN;
    x = x * 10 + d;
  }
  return x;
}

/** `yyyy-MM-ddTHH:mm:ssZ` (what partner mappings emit) → epoch ms without a regex; anything else → undefined. */
function fastIso(v: string): number | undefined {
  if (v.length !== 20 || v[4] !== '-' || v[7] !== '-' || v[10] !== 'T' || v[13] !== ':' || v[16] !== ':' || v[19] !== 'Z') return undefined;
  const y = digits(v, 0, 4);
  const mo = digits(v, 5, 2);
  const d = digits(v, 8, 2);
  const h = digits(v, 11, 2);
  const mi = digits(v, 14, 2);
  const sec = digits(v, 17, 2);
  if (!(mo >= 1 && mo <= 12 && d >= 1 && d <= 31 && h <= 23 && mi <= 59 && sec <= 59)) return undefined;
  const ms = Date.UTC(y, mo - 1, d, h, mi, sec);
  return new Date(ms).getUTCDate() === d ? ms : undefined;
}

/**
 * A ServiceDesk_CL row in storage form (declared column order) with toStorageRow's semantics (strings
 * never null, `Type` = table name), without its per-row key check and regexes — a quarter of the commit's
 * CPU at sync volumes. An unknown key is an error (a mapping never loses a value); TimeGenerated, the connection name and SourceSystem are
 * left empty for the caller (they are not content). Anything but strings, ISO datetimes and epoch numbers
 * goes through toStorageRow for its conversion and errors.
 */
export function serviceDeskStorage(row: WorkspaceRow, dialect: Dialect): unknown[] {
  const out = new Array<unknown>(serviceDeskColumns.length);
  let declared = 0;
  for (let i = 0; i < serviceDeskColumns.length; i++) {
    const c = serviceDeskColumns[i];
    if (row[c.name] !== undefined) declared++;
    const v = i === TIME_AT || i === CONNECTION_AT || i === SOURCE_AT ? null : row[c.name];
    if (v === null || v === undefined) out[i] = c.type === 'string' ? '' : null;
    else if (c.type === 'string' && typeof v === 'string') out[i] = v;
    else if (c.type === 'datetime' && typeof v === 'string') out[i] = fastIso(v) ?? toEpochMs(v);
    else if (c.type === 'datetime' && typeof v === 'number') out[i] = toEpochMs(v);
    else return toStorageRow(TABLE, { ...requireKnown(TABLE, row), TimeGenerated: null, ServiceDeskConnectionName_s: '', SourceSystem: '' }, dialect);
  }
  let keys = 0;
  for (const key in row) if (row[key] !== undefined) keys++;
  if (keys !== declared) requireKnown(TABLE, row);
  if (out[TYPE_AT] === '') out[TYPE_AT] = TABLE;
  return out;
}

/** The row itself when every key is a declared column; an unknown column is an error, never a dropped value. */
function requireKnown(table: WorkspaceTableName, row: WorkspaceRow): WorkspaceRow {
  const known = knownColumns.get(table)!;
  for (const key in row) {
    if (!known.has(key) && row[key] !== undefined) throw new StorageRowError(`${table} has no column ${key}`);
  }
  return row;
}

function pgArrayType(type: KqlColumnType): string {
  switch (type) {
    case 'datetime':
    case 'long':
      return 'bigint[]';
    case 'int':
      return 'integer[]';
    case 'bool':
      return 'boolean[]';
    case 'real':
      return 'double precision[]';
    default:
      return 'text[]';
  }
}

const sqliteSql = (text: string) => text.replace(/\$\d+/g, '?');

/** Rows per multi-row INSERT on SQLite (35 parameters a ServiceDesk_CL row: far below SQLite's limit). */
const ROWS_PER_STATEMENT = 32;
/** WAL size (pages) at which a sync page commit checkpoints (64 MB at 4 KB pages; SQLite's default is 1,000). */
const SYNC_CHECKPOINT_PAGES = 16_384;
const PUT_HASH_SQL = 'INSERT INTO sync_records (connection_id, scope, record_id, content_hash, updated_at) VALUES (?, ?, ?, ?, ?)';
const PUT_HASH_CONFLICT = 'ON CONFLICT (connection_id, scope, record_id) DO UPDATE SET content_hash = excluded.content_hash, updated_at = excluded.updated_at';

/** `INSERT … VALUES (?, …)` → the same with ROWS_PER_STATEMENT value groups, then `tail`. */
function manyRows(insert: string, tail: string): string {
  const group = insert.slice(insert.lastIndexOf('VALUES ') + 'VALUES '.length);
  return `${insert}${`, ${group}`.repeat(ROWS_PER_STATEMENT - 1)} ${tail}`;
}

/** What the sync page writer thread commits: the page in storage form, converted on the main thread. */
interface SyncPageRequest {
  connectionId: string;
  scope: string;
  records: { id: string; updatedAt: string; hash: string; values: unknown[] }[];
  stateParams: unknown[];
  lease: { expiresAt: number; name: string; holder: string } | null;
}

const LEASE_LOST_CODE = 'ITSMC_SYNC_LEASE_LOST';

/** The SQL of the sync page writer, prepared once in its thread. */
function syncWriterData(): Record<string, unknown> {
  return {
    rowsPerStatement: ROWS_PER_STATEMENT,
    checkpointPages: SYNC_CHECKPOINT_PAGES,
    leaseLostCode: LEASE_LOST_CODE,
    sql: {
      insertOne: insertRowSql(TABLE, 'sqlite'),
      insertMany: manyRows(insertRowSql(TABLE, 'sqlite'), ''),
      getHashes: 'SELECT record_id, content_hash FROM sync_records WHERE connection_id = ? AND scope = ? AND record_id IN (SELECT value FROM json_each(?))',
      putHash: `${PUT_HASH_SQL} ${PUT_HASH_CONFLICT}`,
      putHashes: manyRows(PUT_HASH_SQL, PUT_HASH_CONFLICT),
      fence: 'UPDATE leases SET expires_at = ? WHERE name = ? AND holder = ?',
      state: sqliteSql(upsertSyncStateSql),
    },
  };
}

/**
 * The sync page commit on SQLite, in a writer thread of its own (writer-thread.ts): thousands of B-tree inserts
 * a page, which held the event loop for tens of milliseconds, now overlap the parsing of the next page. Synced
 * rows can be read again from the partner: a power loss may roll back the last pages (rows and sync position
 * together, WAL keeps them consistent), so these commits skip the WAL fsync (synchronous=NORMAL, and the caller
 * does not wait for the main connection's WAL sync either: `writeSyncPage`). They also
 * checkpoint less often: each page rewrites pages all over the record-hash and index B-trees (record ids are
 * random), and a checkpoint after every page wrote those pages to the database again each time. Multi-row
 * statements (ROWS_PER_STATEMENT rows) for full batches, one-row statements for the rest.
 */
const SYNC_WRITER_BODY = `
db.pragma('synchronous = NORMAL');
db.pragma('foreign_keys = ON');
db.pragma('wal_autocheckpoint = ' + workerData.checkpointPages);
const sql = workerData.sql;
const n = workerData.rowsPerStatement;
const st = {};
for (const k of Object.keys(sql)) st[k] = db.prepare(sql[k]);
st.getHashes.raw();
function runBatched(many, one, items, params) {
  let i = 0;
  const batch = [];
  for (; i + n <= items.length; i += n) {
    batch.length = 0;
    for (let j = i; j < i + n; j++) for (const v of params(items[j])) batch.push(v);
    many.run(batch);
  }
  for (; i < items.length; i++) one.run(params(items[i]));
}
const commit = db.transaction((p) => {
  if (p.lease && st.fence.run(p.lease.expiresAt, p.lease.name, p.lease.holder).changes !== 1)
    throw Object.assign(new Error('sync lease lost'), { code: workerData.leaseLostCode });
  const known = new Map(st.getHashes.all(p.connectionId, p.scope, JSON.stringify(p.records.map((r) => r.id))));
  const changed = p.records.filter((r) => known.get(r.id) !== r.hash);
  runBatched(st.insertMany, st.insertOne, changed, (r) => r.values);
  runBatched(st.putHashes, st.putHash, changed, (r) => [p.connectionId, p.scope, r.id, r.hash, r.updatedAt]);
  st.state.run(...p.stateParams, changed.length);
  return { appended: changed.length, unchanged: p.records.length - changed.length };
});
function handle(p) { return commit.immediate(p); }
`;

interface SqliteStatements {
  insert: Map<WorkspaceTableName, BetterSqlite3.Statement>;
}

export class WorkspaceRows {
  private statements?: SqliteStatements;
  private syncWriter?: SqliteWriterThread<SyncPageRequest, SyncPageResult>;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly raw: RawHandle,
    private readonly write: WriteGate = ungated,
    /** Sync pages take their turn with the other writers but do not wait for a WAL sync (see SYNC_WRITER_BODY). */
    private readonly writeSyncPage: WriteGate = ungated,
  ) {}

  /** Appends rows (keyed by KQL column names) to a workspace table; returns the number written. */
  async append(table: WorkspaceTableName, workspace: string, rows: WorkspaceRow[]): Promise<number> {
    if (rows.length === 0) return 0;
    const values = rows.map((r) => [workspace, ...toStorageRow(table, requireKnown(table, r), this.raw.dialect)]);
    if (this.raw.dialect === 'sqlite') {
      const sqlite = this.raw.sqlite;
      const st = this.sqliteStatements();
      await this.write(() =>
        this.db.connection().execute(async () => {
          sqlite
            .transaction(() => {
              for (const v of values) st.insert.get(table)!.run(...(v as unknown[]));
            })
            .immediate();
        }),
      );
      return rows.length;
    }
    const client = await this.raw.pool.connect();
    try {
      await pgInsertRows(client, table, values);
    } finally {
      client.release();
    }
    return rows.length;
  }

  /** Commits one page of synced records (see the module comment). */
  async commitSyncPage(page: SyncPageCommit): Promise<SyncPageResult> {
    // The last version of a record wins when a page carries it twice.
    const byId = new Map<string, SyncPageRecord>();
    for (const r of page.records) byId.set(r.id, r);
    // Convert before the transaction: a bad value fails the page without holding the write lock.
    const records = [...byId.values()].map((r) => {
      const values = serviceDeskStorage(r.row, this.raw.dialect);
      const hash = contentHash(values);
      values[TIME_AT] = page.timeGenerated;
      values[CONNECTION_AT] = page.connectionName;
      values[SOURCE_AT] = SOURCE_SYSTEM;
      values.unshift(page.workspace);
      return { id: r.id, updatedAt: r.updatedAt, hash, values };
    });
    const stateParams = [page.connectionId, page.scope, page.state.watermark, page.state.cursor, page.state.backfillDone ? 1 : 0, page.state.runAt];
    if (page.after) await page.after;
    const now = Date.now();

    if (this.raw.dialect === 'sqlite') {
      const writer = (this.syncWriter ??= new SqliteWriterThread(this.raw.sqlite.name, 'the sync page writer', SYNC_WRITER_BODY, syncWriterData()));
      const request: SyncPageRequest = {
        connectionId: page.connectionId,
        scope: page.scope,
        records,
        stateParams,
        lease: page.lease ? { expiresAt: now + page.lease.ttlMs, name: page.lease.name, holder: page.lease.holder } : null,
      };
      try {
        return await this.writeSyncPage(() => writer.call(request));
      } catch (err) {
        if ((err as { code?: string }).code === LEASE_LOST_CODE) throw new LeaseLostError(SYNC_LEASE_LOST);
        throw err;
      }
    }

    const client = await this.raw.pool.connect();
    try {
      // As on SQLite: a server crash may roll back the last pages (rows and position together); no WAL flush wait.
      await client.query('BEGIN; SET LOCAL synchronous_commit = off');
      if (page.lease) {
        const fenced = await client.query('UPDATE leases SET expires_at = $1 WHERE name = $2 AND holder = $3', [
          now + page.lease.ttlMs,
          page.lease.name,
          page.lease.holder,
        ]);
        if (fenced.rowCount !== 1) throw new LeaseLostError(SYNC_LEASE_LOST);
      }
      // Two statements a page, both without a plan to choose (see pgSyncPageSql), whatever the statistics say.
      let appended = 0;
      if (records.length > 0) {
        const sqlText = pgSyncPageSql();
        const res = await client.query<{ record_id: string }>(sqlText.hashes, [
          page.connectionId,
          page.scope,
          jsonText(records.map((r) => [r.id, r.hash, r.updatedAt])),
        ]);
        const changedIds = new Set(res.rows.map((r) => r.record_id));
        const changed = changedIds.size === records.length ? records : records.filter((r) => changedIds.has(r.id));
        if (changed.length > 0) await client.query(sqlText.rows, [jsonText(changed.map((r) => r.values))]);
        appended = changed.length;
      }
      await client.query(upsertSyncStateSql, [...stateParams, appended]);
      await client.query('COMMIT');
      return { appended, unchanged: records.length - appended };
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
  }

  /** Stops the sync page writer thread (Store.close). */
  async close(): Promise<void> {
    await this.syncWriter?.close();
    this.syncWriter = undefined;
  }

  private sqliteStatements(): SqliteStatements {
    if (this.statements) return this.statements;
    if (this.raw.dialect !== 'sqlite') throw new Error('SQLite statements on a PostgreSQL store');
    const db = this.raw.sqlite;
    const insert = new Map<WorkspaceTableName, BetterSqlite3.Statement>();
    for (const t of Object.keys(workspaceTables) as WorkspaceTableName[]) insert.set(t, db.prepare(insertRowSql(t, 'sqlite')));
    this.statements = { insert };
    return this.statements;
  }
}

let syncPageSql: { hashes: string; rows: string } | undefined;

/**
 * PostgreSQL: one page of synced records in two statements. `hashes` upserts the content hashes
 * ($3: JSON `[[record id, content hash, updated at], …]`) and answers the ids whose hash was new or
 * different; `rows` appends their rows ($1: JSON `[[workspace, …ServiceDesk_CL columns in declared order], …]`).
 * Neither joins: ON CONFLICT finds each record through the primary key. (A lookup joined to the page was
 * planned from sync_records' statistics, which lag far behind during a backfill: a hash join against
 * every hash of the connection, a scan that grows with each page.) JSON rather than one array parameter
 * per column: node-postgres writes array literals in JavaScript, escaping every element (most of the
 * connector's time per page), where JSON.stringify is native.
 */
function pgSyncPageSql(): { hashes: string; rows: string } {
  if (syncPageSql) return syncPageSql;
  const schema = workspaceTables[TABLE];
  const names = ['workspace', ...schema.columns.map((c) => quoteIdent(c.name))];
  const values = ['e->>0', ...schema.columns.map((c, i) => (c.type === 'string' ? `e->>${i + 1}` : `(e->>${i + 1})::${pgArrayType(c.type).slice(0, -2)}`))];
  syncPageSql = {
    hashes: `INSERT INTO sync_records AS s (connection_id, scope, record_id, content_hash, updated_at)
  SELECT $1, $2, e->>0, e->>1, e->>2 FROM jsonb_array_elements($3::jsonb) AS e
  ${PUT_HASH_CONFLICT} WHERE s.content_hash IS DISTINCT FROM excluded.content_hash
  RETURNING record_id`,
    rows: `INSERT INTO ${quoteIdent(schema.sqlName)} (${names.join(', ')}) SELECT ${values.join(', ')} FROM jsonb_array_elements($1::jsonb) AS e`,
  };
  return syncPageSql;
}

/**
 * JSON text PostgreSQL accepts: JSON.stringify writes a lone UTF-16 surrogate as a `\ud800`-style escape,
 * which jsonb refuses; it becomes U+FFFD, as it would in any UTF-8 parameter.
 */
export function jsonText(value: unknown): string {
  const text = JSON.stringify(value);
  // An escape `\uDxxx` preceded by an even number of backslashes (an odd number means an escaped backslash and text).
  return text.includes('\\ud') ? text.replace(/(?<=(?:^|[^\\])(?:\\\\)*)\\ud[89a-f][0-9a-f]{2}/g, '\\ufffd') : text;
}

/** One `INSERT … SELECT FROM unnest($1::text[], $2::bigint[], …)` for a batch of storage rows. */
async function pgInsertRows(client: pg.PoolClient, table: WorkspaceTableName, values: unknown[][]): Promise<void> {
  const schema = workspaceTables[table];
  const types = ['text[]', ...schema.columns.map((c) => pgArrayType(c.type))];
  const names = ['workspace', ...schema.columns.map((c) => quoteIdent(c.name))];
  // Large batches in chunks: one statement per 5,000 rows keeps the parameter arrays moderate.
  for (let start = 0; start < values.length; start += 5000) {
    const chunk = values.slice(start, start + 5000);
    const columns = types.map((_, i) => chunk.map((row) => row[i]));
    const text = `INSERT INTO ${quoteIdent(schema.sqlName)} (${names.join(', ')}) SELECT * FROM unnest(${types.map((t, i) => `$${i + 1}::${t}`).join(', ')})`;
    await client.query(text, columns);
  }
}

/**
 * Appends rows inside the caller's transaction (the delivery engine writes outcome and log rows in the
 * transaction that acknowledges their jobs), 100 rows per INSERT.
 */
export async function appendRowsInTransaction(
  db: Kysely<Database> | Transaction<Database>,
  dialect: Dialect,
  table: WorkspaceTableName,
  rows: { workspace: string; row: Record<string, unknown> }[],
): Promise<void> {
  if (rows.length === 0) return;
  const schema = workspaceTables[table];
  const columns = sql.join([sql.ref('workspace'), ...schema.columns.map((c) => sql.ref(c.name))]);
  for (let i = 0; i < rows.length; i += 100) {
    const values = rows.slice(i, i + 100).map((r) => sql`(${sql.join([r.workspace, ...toStorageRow(table, r.row, dialect)])})`);
    await sql`INSERT INTO ${sql.table(schema.sqlName)} (${columns}) VALUES ${sql.join(values)}`.execute(db);
  }
}
