/**
 * The Provance sandbox's own SQLite store: one table per entity (columns named as the attributes),
 * intersect tables for N:N relationships, and internal `sb_*` tables (directory users, app registrations,
 * refresh tokens, counters, metadata). Never the connector's database.
 */
import { SandboxSqlite } from '../common/store.ts';
import type { SqlPart } from './odata.ts';
import { keysetAfter, quote, type OrderKey } from './odata.ts';
import type { AttrDef, EntityMeta, ManyToMany } from './schema.ts';
import { buildEntities } from './schema.ts';

export type Row = Record<string, unknown>;

function sqlType(a: AttrDef): string {
  switch (a.type) {
    case 'Integer':
    case 'Picklist':
    case 'State':
    case 'Status':
    case 'Boolean':
      return 'INTEGER';
    default:
      return 'TEXT';
  }
}

export class ProvanceStore extends SandboxSqlite {
  readonly bySet: Map<string, EntityMeta>;
  readonly byLogical: Map<string, EntityMeta>;

  constructor(dataDir?: string) {
    super(dataDir, 'provance.sqlite', 'sb_meta');
    ({ bySet: this.bySet, byLogical: this.byLogical } = buildEntities());
  }

  override createTables(): void {
    const intersects = new Map<string, ManyToMany & { owner: string }>();
    for (const m of this.byLogical.values()) {
      const cols = m.attrs.map((a) => {
        const base = `${quote(a.name)} ${sqlType(a)}${a.name === m.primaryId ? ' PRIMARY KEY' : ''}`;
        return a.type === 'Lookup' && a.targets!.length > 1 ? `${base}, ${quote(a.name + '_type')} TEXT` : base;
      });
      cols.push('"versionnumber" INTEGER NOT NULL DEFAULT 0');
      this.db.exec(`CREATE TABLE IF NOT EXISTS ${quote(m.logical)} (${cols.join(', ')})`);
      for (const r of m.manyToMany) if (!intersects.has(r.table)) intersects.set(r.table, { ...r, owner: m.logical });
    }
    for (const r of intersects.values()) {
      this.db.exec(
        `CREATE TABLE IF NOT EXISTS ${quote(r.table)} (${quote(r.owner + 'id')} TEXT NOT NULL, ${quote(r.target + 'id')} TEXT NOT NULL, PRIMARY KEY (${quote(r.owner + 'id')}, ${quote(r.target + 'id')}))`,
      );
    }
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS sb_meta (key TEXT PRIMARY KEY, value TEXT);
      CREATE TABLE IF NOT EXISTS sb_counter (name TEXT PRIMARY KEY, next INTEGER NOT NULL);
      CREATE TABLE IF NOT EXISTS sb_aad_user (
        upn TEXT PRIMARY KEY COLLATE NOCASE, object_id TEXT NOT NULL, systemuserid TEXT NOT NULL, password_hash TEXT NOT NULL,
        enabled INTEGER NOT NULL DEFAULT 1, password_expired INTEGER NOT NULL DEFAULT 0, mfa_required INTEGER NOT NULL DEFAULT 0,
        failed_logins INTEGER NOT NULL DEFAULT 0);
      CREATE TABLE IF NOT EXISTS sb_aad_app (
        client_id TEXT PRIMARY KEY, name TEXT NOT NULL, public_client INTEGER NOT NULL, consented INTEGER NOT NULL DEFAULT 1);
      CREATE TABLE IF NOT EXISTS sb_refresh_token (
        token_hash TEXT PRIMARY KEY, upn TEXT NOT NULL, client_id TEXT NOT NULL, resource TEXT NOT NULL,
        expires_at INTEGER NOT NULL, revoked INTEGER NOT NULL DEFAULT 0);
    `);
  }

  override createIndexes(): void {
    for (const m of this.byLogical.values()) {
      this.db.exec(`CREATE INDEX IF NOT EXISTS ${quote(m.logical + '_mod')} ON ${quote(m.logical)} ("modifiedon", ${quote(m.primaryId)})`);
      if (m.autonumber) this.db.exec(`CREATE INDEX IF NOT EXISTS ${quote(m.logical + '_num')} ON ${quote(m.logical)} (${quote(m.autonumber.column)})`);
    }
    this.db.exec('CREATE INDEX IF NOT EXISTS incident_corr ON "incident" ("prov_correlationkey")');
    this.db.exec('ANALYZE');
  }

  /** Next value of a named counter (autonumbers, row versions). */
  nextCounter(name: string, start: number): number {
    const row = this.stmt('UPDATE sb_counter SET next = next + 1 WHERE name = ? RETURNING next - 1 AS v').get(name) as { v: number } | undefined;
    if (row) return row.v;
    this.stmt('INSERT INTO sb_counter (name, next) VALUES (?, ?)').run(name, start + 1);
    return start;
  }

  // ---------------------------------------------------------------- rows

  get(meta: EntityMeta, id: string): Row | undefined {
    return this.stmt(`SELECT * FROM ${quote(meta.logical)} WHERE ${quote(meta.primaryId)} = ?`).get(id) as Row | undefined;
  }

  insert(meta: EntityMeta, row: Row): void {
    const cols = Object.keys(row);
    this.stmt(`INSERT INTO ${quote(meta.logical)} (${cols.map(quote).join(', ')}) VALUES (${cols.map(() => '?').join(', ')})`).run(...cols.map((c) => row[c]));
  }

  update(meta: EntityMeta, id: string, changes: Row): void {
    const cols = Object.keys(changes);
    if (cols.length === 0) return;
    this.stmt(`UPDATE ${quote(meta.logical)} SET ${cols.map((c) => `${quote(c)} = ?`).join(', ')} WHERE ${quote(meta.primaryId)} = ?`).run(
      ...cols.map((c) => changes[c]),
      id,
    );
  }

  delete(meta: EntityMeta, id: string): void {
    this.stmt(`DELETE FROM ${quote(meta.logical)} WHERE ${quote(meta.primaryId)} = ?`).run(id);
  }

  /** One page in keyset order: rows after `after` (the last row's order values), at most `limit`. */
  list(meta: EntityMeta, where: SqlPart, order: OrderKey[], limit: number, after?: unknown[]): Row[] {
    const parts = [where.sql];
    const params = [...where.params];
    if (after) {
      const k = keysetAfter(order, after);
      parts.push(k.sql);
      params.push(...k.params);
    }
    const orderSql = order.map((k) => `${quote(k.column)} ${k.desc ? 'DESC' : 'ASC'}`).join(', ');
    return this.db
      .prepare(`SELECT * FROM ${quote(meta.logical)} WHERE ${parts.map((p) => `(${p})`).join(' AND ')} ORDER BY ${orderSql} LIMIT ?`)
      .all(...params, limit) as Row[];
  }

  count(meta: EntityMeta, where: SqlPart): number {
    return (this.db.prepare(`SELECT COUNT(*) AS n FROM ${quote(meta.logical)} WHERE ${where.sql}`).get(...where.params) as { n: number }).n;
  }

  // ---------------------------------------------------------------- N:N

  /** Both sides of an intersect table name their column `<entity>id`, so either side can use it. */
  private intersect(meta: EntityMeta, rel: ManyToMany): { table: string; mine: string; theirs: string } {
    return { table: rel.table, mine: meta.logical + 'id', theirs: rel.target + 'id' };
  }

  associate(meta: EntityMeta, rel: ManyToMany, id: string, relatedId: string): boolean {
    const x = this.intersect(meta, rel);
    const r = this.stmt(`INSERT OR IGNORE INTO ${quote(x.table)} (${quote(x.mine)}, ${quote(x.theirs)}) VALUES (?, ?)`).run(id, relatedId);
    return r.changes > 0;
  }

  disassociate(meta: EntityMeta, rel: ManyToMany, id: string, relatedId: string): boolean {
    const x = this.intersect(meta, rel);
    return this.stmt(`DELETE FROM ${quote(x.table)} WHERE ${quote(x.mine)} = ? AND ${quote(x.theirs)} = ?`).run(id, relatedId).changes > 0;
  }

  related(meta: EntityMeta, rel: ManyToMany, id: string): Row[] {
    const x = this.intersect(meta, rel);
    const target = this.byLogical.get(rel.target)!;
    return this.stmt(
      `SELECT t.* FROM ${quote(x.table)} r JOIN ${quote(target.logical)} t ON t.${quote(target.primaryId)} = r.${quote(x.theirs)} WHERE r.${quote(x.mine)} = ? ORDER BY t.${quote(target.primaryId)}`,
    ).all(id) as Row[];
  }
}
