/**
 * The Cherwell sandbox's own SQLite store: business object records (one table, field values as JSON,
 * date/times as epoch ms), users, REST API clients, login sessions (= licences) and tokens.
 */
import { randomBytes } from 'node:crypto';
import { SandboxSqlite } from '../common/store.ts';
import type { BusObDef, FieldDef } from './schema.ts';

export type Values = Record<string, string | number | null>;

export interface StoredRecord {
  recId: string;
  busObId: string;
  publicId: string;
  values: Values;
}

export function newRecId(): string {
  return randomBytes(16).toString('hex');
}

/** A JSON path into the record's values for one field (names are [A-Za-z0-9]). */
export function fieldPath(f: FieldDef): string {
  return `json_extract(data, '$.${f.name}')`;
}

export class CwStore extends SandboxSqlite {
  constructor(dataDir?: string) {
    super(dataDir, 'cherwell.sqlite', 'cw_meta');
  }

  override createTables(): void {
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS cw_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS cw_record (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        rec_id TEXT NOT NULL UNIQUE,
        bus_ob_id TEXT NOT NULL,
        public_id TEXT NOT NULL,
        data TEXT NOT NULL
      );
      CREATE INDEX IF NOT EXISTS cw_record_public ON cw_record (bus_ob_id, public_id);
      CREATE TABLE IF NOT EXISTS cw_counter (bus_ob_id TEXT PRIMARY KEY, next INTEGER NOT NULL);
      CREATE TABLE IF NOT EXISTS cw_user (login TEXT PRIMARY KEY COLLATE NOCASE, password_hash TEXT NOT NULL, full_name TEXT NOT NULL, admin INTEGER NOT NULL DEFAULT 0);
      CREATE TABLE IF NOT EXISTS cw_client (
        client_id TEXT PRIMARY KEY, name TEXT NOT NULL,
        access_minutes INTEGER NOT NULL, refresh_minutes INTEGER NOT NULL, enabled INTEGER NOT NULL DEFAULT 1
      );
      CREATE TABLE IF NOT EXISTS cw_session (
        session_id TEXT PRIMARY KEY, login TEXT NOT NULL, client_id TEXT NOT NULL,
        created_ms INTEGER NOT NULL, ends_ms INTEGER NOT NULL, ended INTEGER NOT NULL DEFAULT 0
      );
      CREATE TABLE IF NOT EXISTS cw_token (
        token TEXT PRIMARY KEY, kind TEXT NOT NULL, session_id TEXT NOT NULL, expires_ms INTEGER NOT NULL, revoked INTEGER NOT NULL DEFAULT 0
      );
    `);
  }

  /** Indexes on the values searched most (status and last-modified), after the bulk seed. */
  override createIndexes(): void {
    this.db.exec(`
      CREATE INDEX IF NOT EXISTS cw_record_modified ON cw_record (bus_ob_id, json_extract(data, '$.LastModifiedDateTime'));
      CREATE INDEX IF NOT EXISTS cw_record_correlation ON cw_record (bus_ob_id, json_extract(data, '$.CorrelationKey'));
      CREATE INDEX IF NOT EXISTS cw_record_parent ON cw_record (bus_ob_id, json_extract(data, '$.ParentRecID'));
    `);
  }

  nextPublicId(bo: BusObDef): string {
    const row = this.stmt('SELECT next FROM cw_counter WHERE bus_ob_id = ?').get(bo.busObId) as { next: number } | undefined;
    const n = row?.next ?? bo.firstPublicId ?? 1;
    this.stmt('INSERT INTO cw_counter (bus_ob_id, next) VALUES (?, ?) ON CONFLICT(bus_ob_id) DO UPDATE SET next = excluded.next').run(bo.busObId, n + 1);
    return String(n);
  }

  insert(bo: BusObDef, recId: string, publicId: string, values: Values): void {
    this.stmt('INSERT INTO cw_record (rec_id, bus_ob_id, public_id, data) VALUES (?, ?, ?, ?)').run(recId, bo.busObId, publicId, JSON.stringify(values));
  }

  update(recId: string, values: Values): void {
    this.stmt('UPDATE cw_record SET data = ? WHERE rec_id = ?').run(JSON.stringify(values), recId);
  }

  delete(recId: string): boolean {
    return this.stmt('DELETE FROM cw_record WHERE rec_id = ?').run(recId).changes > 0;
  }

  private row(r: { rec_id: string; bus_ob_id: string; public_id: string; data: string } | undefined): StoredRecord | undefined {
    return r ? { recId: r.rec_id, busObId: r.bus_ob_id, publicId: r.public_id, values: JSON.parse(r.data) as Values } : undefined;
  }

  byRecId(bo: BusObDef, recId: string): StoredRecord | undefined {
    return this.row(this.stmt('SELECT * FROM cw_record WHERE bus_ob_id = ? AND rec_id = ?').get(bo.busObId, recId.toLowerCase()) as never);
  }

  byPublicId(bo: BusObDef, publicId: string): StoredRecord | undefined {
    return this.row(this.stmt('SELECT * FROM cw_record WHERE bus_ob_id = ? AND public_id = ? COLLATE NOCASE').get(bo.busObId, publicId) as never);
  }

  /** Rows of one business object matching a compiled WHERE (`data` columns), in the given order. */
  search(bo: BusObDef, where: string, params: unknown[], orderBy: string, limit: number, offset: number): { total: number; rows: StoredRecord[] } {
    const cond = where ? `bus_ob_id = ? AND (${where})` : 'bus_ob_id = ?';
    const total = (this.db.prepare(`SELECT count(*) AS n FROM cw_record WHERE ${cond}`).get(bo.busObId, ...params) as { n: number }).n;
    const rows = this.db
      .prepare(`SELECT * FROM cw_record WHERE ${cond} ORDER BY ${orderBy} LIMIT ? OFFSET ?`)
      .all(bo.busObId, ...params, limit, offset) as never[];
    return { total, rows: rows.map((r) => this.row(r)!) };
  }
}
