/**
 * The sandbox's own SQLite store (better-sqlite3): one table per class hierarchy root, typed columns,
 * plus a few internal `sb_*` tables (counters, tokens, metadata). Never the connector's database.
 */
import { randomBytes } from 'node:crypto';
import { SandboxSqlite } from '../common/store.ts';
import type { SandboxRules } from './config.ts';
import { DEFAULT_RULES } from './config.ts';
import { hashPassword } from '../common/passwords.ts';
import type { CompiledQuery } from './query.ts';
import { classFilter, quoteIdent } from './query.ts';
import type { FieldDef, TableMeta } from './schema.ts';
import { buildMetas, isVirtual, physicalColumns, sqlType } from './schema.ts';
import { parseSnDate, parseSnDateTime, snDateTime } from './time.ts';

export type Rec = Record<string, unknown>;

/** An error answered with the ServiceNow envelope `{"error":{"message","detail"},"status":"failure"}`. */
/** Business rules run on every write (see business.ts): they may change `rec` or refuse the write. */
export type BusinessRules = (
  store: SnStore,
  meta: TableMeta,
  old: Rec | undefined,
  rec: Rec,
  input: Set<string>,
  journal: JournalEntry[],
  ctx: WriteCtx,
) => void;

export class SnError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly detail: string | null,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

export interface UserCtx {
  sysId: string;
  userName: string;
  name: string;
  roles: Set<string>;
}

export interface WriteCtx {
  user: UserCtx;
  nowMs: number;
  inputDisplay: boolean;
}

export function hasRole(user: UserCtx, roles: string[]): boolean {
  if (user.roles.has('admin')) return true;
  if (roles.length === 0) return true;
  return roles.some((r) => user.roles.has(r));
}

const SYS_ID = /^[0-9a-f]{32}$/;
const READ_ONLY = new Set(['sys_created_on', 'sys_created_by', 'sys_updated_on', 'sys_updated_by', 'sys_mod_count', 'sys_tags', 'sys_class_name']);

interface ChoiceList {
  byValue: Map<string, string>;
  byLabel: Map<string, string>;
}

export interface JournalEntry {
  element: string;
  value: string;
}

export function newSysId(): string {
  return randomBytes(16).toString('hex');
}

export class SnStore extends SandboxSqlite {
  readonly metas: Map<string, TableMeta>;
  readonly columns = new Map<string, FieldDef[]>();
  rules: SandboxRules = { ...DEFAULT_RULES };
  /** Bumped whenever users, roles or OAuth clients change (credential caches depend on it). */
  authVersion = 0;
  private readonly versions = new Map<string, number>();
  private readonly countCache = new Map<string, number>();
  private readonly chains = new Map<string, { version: number; keyColumns: string; lastKey: unknown[]; count: number; pageLen: number }>();
  private readonly choiceCache = new Map<string, ChoiceList | null>();

  /**
   * @param businessRules what the instance does on every insert and update (business.ts), injected so the
   *   rules can use the store without the store importing them.
   */
  constructor(
    dataDir: string | undefined,
    private readonly businessRules: BusinessRules,
  ) {
    super(dataDir, 'servicenow.sqlite', 'sb_meta');
    this.db.pragma('cache_size = -262144');
    this.db.pragma('temp_store = MEMORY');
    this.db.pragma('threads = 2');
    this.metas = buildMetas();
    for (const m of this.metas.values()) {
      if (!this.columns.has(m.physical)) this.columns.set(m.physical, physicalColumns(this.metas, m.physical));
    }
  }

  // ---------------------------------------------------------------- schema

  override createTables(): void {
    for (const [physical, cols] of this.columns) {
      const defs = cols.map((fd) => {
        let d = `${quoteIdent(fd.name)} ${sqlType(fd)}`;
        if (fd.name === 'sys_id') d += ' NOT NULL';
        const dv = fd.default !== undefined ? sqlDefault(fd) : undefined;
        if (dv !== undefined) d += ` DEFAULT ${dv}`;
        return d;
      });
      this.db.exec(`CREATE TABLE IF NOT EXISTS ${quoteIdent(physical)} (${defs.join(', ')})`);
    }
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS sb_meta (key TEXT PRIMARY KEY, value TEXT);
      CREATE TABLE IF NOT EXISTS sb_counter (name TEXT PRIMARY KEY, next INTEGER NOT NULL);
      CREATE TABLE IF NOT EXISTS sb_token (
        token TEXT PRIMARY KEY, kind TEXT NOT NULL, user_sys_id TEXT NOT NULL, client_id TEXT NOT NULL,
        refresh_token TEXT, expires_at INTEGER NOT NULL, revoked INTEGER NOT NULL DEFAULT 0, created_at INTEGER NOT NULL);
      CREATE INDEX IF NOT EXISTS sb_token_owner ON sb_token (user_sys_id, client_id, kind);
    `);
  }

  override createIndexes(): void {
    const idx: [string, string, string[], boolean?][] = [];
    for (const physical of this.columns.keys()) {
      idx.push([physical, 'sys_id', ['sys_id'], true]);
      idx.push([physical, 'upd', ['sys_updated_on', 'sys_id']]);
    }
    for (const t of ['incident', 'change_request']) {
      idx.push([t, 'number', ['number']]);
      idx.push([t, 'corr', ['correlation_id']]);
    }
    idx.push(['em_alert', 'number', ['number']]);
    idx.push(['em_alert', 'mkey', ['message_key']]);
    idx.push(['em_event', 'mkey', ['message_key']]);
    idx.push(['cmdb_ci', 'name', ['name']]);
    idx.push(['cmdb_ci', 'class', ['sys_class_name']]);
    idx.push(['cmdb_rel_ci', 'parent', ['parent']]);
    idx.push(['cmdb_rel_ci', 'child', ['child']]);
    idx.push(['sys_user', 'uname', ['user_name']]);
    idx.push(['sys_user_has_role', 'user', ['user']]);
    idx.push(['sys_user_grmember', 'user', ['user']]);
    idx.push(['sys_user_grmember', 'grp', ['group']]);
    idx.push(['sys_choice', 'elem', ['name', 'element']]);
    idx.push(['sys_dictionary', 'name', ['name']]);
    idx.push(['sys_journal_field', 'elem', ['element_id']]);
    idx.push(['oauth_entity', 'client', ['client_id']]);
    idx.push(['sys_template', 'tbl', ['table']]);
    for (const [t, n, cols, unique] of idx) {
      this.db.exec(`CREATE ${unique ? 'UNIQUE ' : ''}INDEX IF NOT EXISTS ${quoteIdent(`${t}_${n}`)} ON ${quoteIdent(t)} (${cols.map(quoteIdent).join(', ')})`);
    }
    this.db.pragma('analysis_limit = 1000');
    this.db.exec('ANALYZE');
  }

  // ---------------------------------------------------------------- caches

  /** Marks a physical table changed (count cache, choice and credential caches). */
  touched(physical: string): void {
    this.versions.set(physical, (this.versions.get(physical) ?? 0) + 1);
    if (physical === 'sys_choice') this.choiceCache.clear();
    if (physical === 'sys_user' || physical === 'sys_user_has_role' || physical === 'sys_user_role' || physical === 'oauth_entity') {
      this.authVersion++;
    }
  }

  resetCaches(): void {
    this.countCache.clear();
    this.chains.clear();
    this.choiceCache.clear();
    this.stmts.clear();
    this.authVersion++;
  }

  // ---------------------------------------------------------------- reads

  table(name: string): TableMeta | undefined {
    return this.metas.get(name);
  }

  get(meta: TableMeta, sysId: string): Rec | undefined {
    const cf = classFilter(meta, this.metas);
    const sql = `SELECT * FROM ${quoteIdent(meta.physical)} WHERE "sys_id" = ?${cf ? ` AND ${cf}` : ''}`;
    return this.stmt(sql).get(sysId) as Rec | undefined;
  }

  count(meta: TableMeta, q: CompiledQuery): number {
    if (q.noRows) return 0;
    const version = this.versions.get(meta.physical) ?? 0;
    if (q.keyset && q.keyset.columns.length > 0) {
      // Keyset walk: this page's matches are the previous page's matches minus the rows it returned.
      const c = this.chains.get(q.keyset.family);
      if (
        c &&
        c.version === version &&
        c.keyColumns === q.keyset.columns.join(',') &&
        c.lastKey.length === q.keyset.values.length &&
        c.lastKey.every((v, i) => v === q.keyset!.values[i])
      ) {
        return c.count - c.pageLen;
      }
    }
    const sql = `SELECT count(*) FROM ${quoteIdent(meta.physical)} WHERE ${q.where}`;
    const key = `${version}\u0000${sql}\u0000${JSON.stringify(q.params)}`;
    const hit = this.countCache.get(key);
    if (hit !== undefined) return hit;
    const n = this.stmt(sql)
      .pluck()
      .get(...q.params) as number;
    if (this.countCache.size > 500) this.countCache.clear();
    this.countCache.set(key, n);
    return n;
  }

  /**
   * Remembers a keyset page (first page at offset 0 included) so the next page's count can be derived.
   * Only exact when the ORDER BY ends in the unique sys_id; `lastKey` holds the last row's ORDER BY values.
   */
  recordPage(meta: TableMeta, q: CompiledQuery, total: number, pageLen: number, lastKey: unknown[]): void {
    if (!q.keyset || q.orderColumns[q.orderColumns.length - 1] !== 'sys_id') return;
    if (this.chains.size > 200) this.chains.clear();
    this.chains.set(q.keyset.family, {
      version: this.versions.get(meta.physical) ?? 0,
      keyColumns: q.orderColumns.join(','),
      lastKey,
      count: total,
      pageLen,
    });
  }

  /** Raw rows (arrays in `cols` order). */
  list(meta: TableMeta, q: CompiledQuery, cols: string[], limit: number, offset: number): unknown[][] {
    if (q.noRows) return [];
    const sql = `SELECT ${cols.map(quoteIdent).join(', ')} FROM ${quoteIdent(meta.physical)} WHERE ${q.where} ${q.orderBy} LIMIT ? OFFSET ?`;
    return this.stmt(sql)
      .raw(true)
      .all(...q.params, limit, offset) as unknown[][];
  }

  choices(meta: TableMeta | undefined, element: string): ChoiceList | null {
    if (!meta) return null;
    for (const t of meta.lineage) {
      const key = `${t}.${element}`;
      let c = this.choiceCache.get(key);
      if (c === undefined) {
        const rows = this.stmt(
          'SELECT "value", "label" FROM sys_choice WHERE "name" = ? AND "element" = ? AND ("inactive" IS NULL OR "inactive" = 0) ORDER BY "sequence"',
        ).all(t, element) as { value: string | null; label: string | null }[];
        if (rows.length === 0) c = null;
        else {
          c = { byValue: new Map(), byLabel: new Map() };
          for (const r of rows) {
            const v = r.value ?? '';
            if (!c.byValue.has(v)) c.byValue.set(v, r.label ?? v);
            const l = (r.label ?? '').toLowerCase();
            if (!c.byLabel.has(l)) c.byLabel.set(l, v);
          }
        }
        this.choiceCache.set(key, c);
      }
      if (c) return c;
    }
    return null;
  }

  /** Display values of records of `table` (its display field), by sys_id. */
  displayValues(table: string, ids: Iterable<string>): Map<string, string> {
    const out = new Map<string, string>();
    const list = [...new Set(ids)].filter((x) => x);
    if (list.length === 0) return out;
    const targets = table === 'task' ? ['incident', 'change_request'] : [table];
    for (const t of targets) {
      const meta = this.metas.get(t);
      if (!meta) continue;
      const fd = meta.fieldMap.get(meta.def.display);
      for (let i = 0; i < list.length; i += 500) {
        const chunk = list.slice(i, i + 500);
        const rows = this.stmt(
          `SELECT "sys_id", ${quoteIdent(meta.def.display)} FROM ${quoteIdent(meta.physical)} WHERE "sys_id" IN (${chunk.map(() => '?').join(',')})`,
        )
          .raw(true)
          .all(...chunk) as [string, unknown][];
        for (const [id, v] of rows) {
          let text = v == null ? '' : String(v);
          if (fd?.type === 'reference' && text) text = this.displayValues(fd.ref!, [text]).get(text) ?? text;
          out.set(id, text);
        }
      }
    }
    if (table === 'sys_user_group') for (const id of list) if (id === 'global' && !out.has(id)) out.set(id, 'global');
    return out;
  }

  /** Values of one column of `table` for the given sys_ids (dot-walking). */
  columnValues(meta: TableMeta, column: string, ids: Iterable<string>): Map<string, unknown> {
    const out = new Map<string, unknown>();
    const list = [...new Set(ids)].filter((x) => x);
    for (let i = 0; i < list.length; i += 500) {
      const chunk = list.slice(i, i + 500);
      const rows = this.stmt(`SELECT "sys_id", ${quoteIdent(column)} FROM ${quoteIdent(meta.physical)} WHERE "sys_id" IN (${chunk.map(() => '?').join(',')})`)
        .raw(true)
        .all(...chunk) as [string, unknown][];
      for (const [id, v] of rows) out.set(id, v);
    }
    return out;
  }

  journal(table: string, ids: string[]): Map<string, { element: string; value: string; on: string; by: string }[]> {
    const out = new Map<string, { element: string; value: string; on: string; by: string }[]>();
    for (let i = 0; i < ids.length; i += 500) {
      const chunk = ids.slice(i, i + 500);
      const rows = this.stmt(
        `SELECT "element_id", "element", "value", "sys_created_on", "sys_created_by" FROM sys_journal_field
         WHERE "name" = ? AND "element_id" IN (${chunk.map(() => '?').join(',')}) ORDER BY "sys_created_on" DESC, rowid DESC`,
      )
        .raw(true)
        .all(table, ...chunk) as [string, string, string, string, string][];
      for (const [id, element, value, on, by] of rows) {
        const list = out.get(id) ?? [];
        list.push({ element, value: value ?? '', on: on ?? '', by: by ?? '' });
        out.set(id, list);
      }
    }
    return out;
  }

  findUser(userName: string): Rec | undefined {
    return this.stmt('SELECT * FROM sys_user WHERE "user_name" = ?').get(userName) as Rec | undefined;
  }

  userById(sysId: string): Rec | undefined {
    return this.stmt('SELECT * FROM sys_user WHERE "sys_id" = ?').get(sysId) as Rec | undefined;
  }

  rolesOf(userSysId: string): Set<string> {
    const rows = this.stmt(
      `SELECT r."name" FROM sys_user_has_role h JOIN sys_user_role r ON r."sys_id" = h."role"
       WHERE h."user" = ? AND (h."state" IS NULL OR h."state" = 'active')`,
    )
      .pluck()
      .all(userSysId) as string[];
    return new Set(rows.filter(Boolean));
  }

  userCtx(row: Rec): UserCtx {
    return {
      sysId: String(row.sys_id),
      userName: String(row.user_name ?? ''),
      name: String(row.name ?? row.user_name ?? ''),
      roles: this.rolesOf(String(row.sys_id)),
    };
  }

  findClient(clientId: string): Rec | undefined {
    return this.stmt('SELECT * FROM oauth_entity WHERE "client_id" = ?').get(clientId) as Rec | undefined;
  }

  /** Resolves a reference input: an existing sys_id, else a record whose display value (or user_name) matches. */
  resolveReference(table: string, text: string): string | undefined {
    const meta = this.metas.get(table);
    if (!meta) return undefined;
    const phys = quoteIdent(meta.physical);
    if (SYS_ID.test(text) && this.stmt(`SELECT 1 FROM ${phys} WHERE "sys_id" = ?`).get(text)) return text;
    const cf = classFilter(meta, this.metas);
    const disp = meta.def.display;
    const fd = meta.fieldMap.get(disp);
    if (fd && fd.type !== 'reference' && !isVirtual(fd, meta)) {
      const id = this.stmt(`SELECT "sys_id" FROM ${phys} WHERE ${quoteIdent(disp)} = ?${cf ? ` AND ${cf}` : ''} LIMIT 1`)
        .pluck()
        .get(text) as string | undefined;
      if (id) return id;
    }
    if (table === 'sys_user') return this.findUser(text)?.sys_id as string | undefined;
    return undefined;
  }

  // ---------------------------------------------------------------- writes

  private nextNumber(meta: TableMeta): string {
    const key = meta.root;
    const row = this.stmt('SELECT next FROM sb_counter WHERE name = ?').get(key) as { next: number } | undefined;
    const n = row?.next ?? meta.numberStart ?? 1;
    this.stmt('INSERT INTO sb_counter (name, next) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET next = excluded.next').run(key, n + 1);
    return meta.numberPrefix + String(n).padStart(7, '0');
  }

  setCounter(root: string, next: number): void {
    this.stmt('INSERT INTO sb_counter (name, next) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET next = excluded.next').run(root, next);
  }

  /** Converts a Table API body into stored column values (and journal entries). */
  normalizeInput(meta: TableMeta, body: Rec, inputDisplay: boolean, isInsert: boolean): { values: Rec; journal: JournalEntry[] } {
    const values: Rec = {};
    const journal: JournalEntry[] = [];
    for (const [key, raw] of Object.entries(body)) {
      const fd = meta.fieldMap.get(key);
      if (!fd) continue;
      if (READ_ONLY.has(key)) continue;
      if (key === 'sys_id') {
        if (isInsert && typeof raw === 'string' && SYS_ID.test(raw)) values.sys_id = raw;
        continue;
      }
      let v: unknown = raw;
      if (v && typeof v === 'object' && !Array.isArray(v)) {
        const o = v as Rec;
        v = o.value ?? o.sys_id ?? o.display_value ?? '';
      }
      if (Array.isArray(v)) v = v.map((x) => String(x)).join(',');
      if (fd.type === 'journal') {
        if (v !== null && v !== undefined && String(v) !== '') journal.push({ element: fd.name, value: String(v) });
        continue;
      }
      if (fd.type === 'journal_list' || isVirtual(fd, meta)) continue;
      values[key] = this.normalizeValue(meta, fd, v, inputDisplay);
    }
    return { values, journal };
  }

  normalizeValue(meta: TableMeta, fd: FieldDef, v: unknown, inputDisplay: boolean): unknown {
    if (v === null || v === undefined) return null;
    if (typeof v === 'boolean' && fd.type !== 'boolean') v = String(v);
    const s = typeof v === 'string' ? v : String(v);
    if (s === '') return null;
    switch (fd.type) {
      case 'boolean':
        return v === true || s === 'true' || s === '1' ? 1 : 0;
      case 'integer':
        if (/^-?\d+$/.test(s.trim())) return Number(s.trim());
        return s;
      case 'decimal':
        return s.trim() !== '' && !Number.isNaN(Number(s)) ? Number(s) : s;
      case 'datetime':
        return parseSnDateTime(s);
      case 'date':
        return parseSnDate(s);
      case 'choice': {
        if (fd.intChoice && /^-?\d+$/.test(s.trim())) return Number(s.trim());
        const list = this.choices(meta, fd.name);
        if (list && !list.byValue.has(s)) {
          const byLabel = list.byLabel.get(s.toLowerCase());
          if (byLabel !== undefined && (inputDisplay || fd.intChoice)) {
            return fd.intChoice && /^-?\d+$/.test(byLabel) ? Number(byLabel) : byLabel;
          }
        }
        return s;
      }
      case 'reference': {
        if (!fd.ref) return s;
        return this.resolveReference(fd.ref, s) ?? s;
      }
      case 'password':
        return inputDisplay ? hashPassword(s) : s;
      default:
        return s;
    }
  }

  private insertRow(meta: TableMeta, rec: Rec): void {
    const cols = Object.keys(rec).filter((k) => rec[k] !== undefined);
    const sql = `INSERT INTO ${quoteIdent(meta.physical)} (${cols.map(quoteIdent).join(', ')}) VALUES (${cols.map(() => '?').join(', ')})`;
    this.stmt(sql).run(...cols.map((c) => rec[c]));
  }

  addJournal(table: string, sysId: string, entries: JournalEntry[], user: UserCtx, nowMs: number): void {
    if (entries.length === 0) return;
    const meta = this.metas.get('sys_journal_field')!;
    const on = snDateTime(nowMs);
    for (const e of entries) {
      this.insertRow(meta, {
        sys_id: newSysId(),
        sys_created_on: on,
        sys_created_by: user.userName,
        sys_updated_on: on,
        sys_updated_by: user.userName,
        sys_mod_count: 0,
        name: table,
        element: e.element,
        element_id: sysId,
        value: e.value,
      });
    }
    this.touched('sys_journal_field');
  }

  insert(meta: TableMeta, body: Rec, ctx: WriteCtx): string {
    const { values, journal } = this.normalizeInput(meta, body, ctx.inputDisplay, true);
    const rec: Rec = {};
    for (const fd of meta.fields) {
      if (isVirtual(fd, meta)) continue;
      if (fd.default !== undefined) rec[fd.name] = storedDefault(fd);
    }
    Object.assign(rec, values);
    let sysId = values.sys_id as string | undefined;
    if (sysId && this.stmt(`SELECT 1 FROM ${quoteIdent(meta.physical)} WHERE "sys_id" = ?`).get(sysId)) {
      throw new SnError(403, 'Operation Failed', `Error during insert of ${meta.name} (a record with sys_id ${sysId} exists)`);
    }
    sysId ??= newSysId();
    const on = snDateTime(ctx.nowMs);
    rec.sys_id = sysId;
    rec.sys_created_on = on;
    rec.sys_created_by = ctx.user.userName;
    rec.sys_updated_on = on;
    rec.sys_updated_by = ctx.user.userName;
    rec.sys_mod_count = 0;
    if (meta.hierarchical) rec.sys_class_name = meta.name;
    if (meta.numberPrefix && (rec.number === null || rec.number === undefined)) rec.number = this.nextNumber(meta);
    this.businessRules(this, meta, undefined, rec, new Set(Object.keys(values)), journal, ctx);
    const tx = this.db.transaction(() => {
      this.insertRow(meta, rec);
      this.addJournal(meta.name, sysId, journal, ctx.user, ctx.nowMs);
    });
    tx();
    this.touched(meta.physical);
    return sysId;
  }

  update(meta: TableMeta, sysId: string, body: Rec, ctx: WriteCtx): boolean {
    const old = this.get(meta, sysId);
    if (!old) return false;
    const { values, journal } = this.normalizeInput(meta, body, ctx.inputDisplay, false);
    const rec: Rec = { ...old, ...values };
    this.businessRules(this, meta, old, rec, new Set(Object.keys(values)), journal, ctx);
    const changed = Object.keys(rec).filter((k) => !sameValue(rec[k], old[k]));
    if (changed.length === 0 && journal.length === 0) return true;
    rec.sys_updated_on = snDateTime(ctx.nowMs);
    rec.sys_updated_by = ctx.user.userName;
    rec.sys_mod_count = Number(old.sys_mod_count ?? 0) + 1;
    const cols = [...new Set([...changed, 'sys_updated_on', 'sys_updated_by', 'sys_mod_count'])];
    const tx = this.db.transaction(() => {
      this.stmt(`UPDATE ${quoteIdent(meta.physical)} SET ${cols.map((c) => `${quoteIdent(c)} = ?`).join(', ')} WHERE "sys_id" = ?`).run(
        ...cols.map((c) => rec[c] ?? null),
        sysId,
      );
      this.addJournal(meta.name, sysId, journal, ctx.user, ctx.nowMs);
    });
    tx();
    this.touched(meta.physical);
    return true;
  }

  delete(meta: TableMeta, sysId: string): boolean {
    if (!this.get(meta, sysId)) return false;
    this.stmt(`DELETE FROM ${quoteIdent(meta.physical)} WHERE "sys_id" = ?`).run(sysId);
    this.touched(meta.physical);
    return true;
  }
}

function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if ((a === null || a === undefined) && (b === null || b === undefined)) return true;
  if (a === null || a === undefined || b === null || b === undefined) return false;
  return String(a) === String(b);
}

export function storedDefault(fd: FieldDef): unknown {
  const d = fd.default;
  if (d === undefined || d === '') return undefined;
  if (fd.type === 'boolean') return d === 'true' ? 1 : 0;
  if (fd.type === 'integer' || fd.intChoice) return Number(d);
  return d;
}

function sqlDefault(fd: FieldDef): string | undefined {
  const v = storedDefault(fd);
  if (v === undefined) return undefined;
  if (typeof v === 'number') return String(v);
  return `'${String(v).replace(/'/g, "''")}'`;
}
