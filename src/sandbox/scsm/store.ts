/**
 * The SCSM sandbox's own SQLite store: one table per class (typed property columns), the action log,
 * affected-CI relationships, templates, the Azure AD app registrations and a little metadata.
 * Work item ids come from one counter for every class, as in Service Manager (IR7, CR8, IR9 …).
 * Enum values are stored by name, dates as epoch milliseconds, booleans as 0/1.
 */
import { SandboxSqlite } from '../common/store.ts';
import type { CompiledCriteria } from './criteria.ts';
import type { ClassDef, PropertyDef } from './model.ts';
import { CLASSES } from './model.ts';

export type Row = Record<string, unknown>;

export interface Comment {
  id: string;
  workItem: string;
  comment: string;
  enteredBy: string;
  enteredDate: number;
  isPrivate: boolean;
}

export interface Template {
  id: string;
  name: string;
  className: string;
  projectionType: string;
  /** Property → value (enum values by name). */
  values: Record<string, string | number | boolean>;
}

export interface AadApp {
  clientId: string;
  clientSecret: string;
  displayName: string;
}

const quote = (name: string): string => `"${name.replace(/"/g, '""')}"`;

function sqlType(p: PropertyDef): string {
  return p.type === 'datetime' || p.type === 'int' || p.type === 'bool' ? 'INTEGER' : 'TEXT';
}

export class ScsmStore extends SandboxSqlite {
  constructor(dataDir?: string) {
    super(dataDir, 'scsm.sqlite', 'meta');
  }

  override createTables(): void {
    for (const cls of CLASSES.values()) {
      const cols = cls.properties.map((p) => `${quote(p.name)} ${sqlType(p)}`);
      this.db.exec(
        `CREATE TABLE IF NOT EXISTS ${quote(cls.table)} (seq INTEGER PRIMARY KEY, bme_id TEXT NOT NULL UNIQUE, time_added INTEGER NOT NULL, ${cols.join(', ')})`,
      );
    }
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS action_log (id TEXT PRIMARY KEY, work_item TEXT NOT NULL, comment TEXT NOT NULL,
        entered_by TEXT NOT NULL, entered_date INTEGER NOT NULL, is_private INTEGER NOT NULL DEFAULT 0);
      CREATE TABLE IF NOT EXISTS affected_ci (work_item TEXT NOT NULL, ci TEXT NOT NULL, added INTEGER NOT NULL, PRIMARY KEY (work_item, ci));
      CREATE TABLE IF NOT EXISTS template (id TEXT PRIMARY KEY, name TEXT NOT NULL, class TEXT NOT NULL, projection_type TEXT NOT NULL, "values" TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS aad_app (client_id TEXT PRIMARY KEY, client_secret TEXT NOT NULL, display_name TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    `);
  }

  override createIndexes(): void {
    this.db.exec(`
      CREATE INDEX IF NOT EXISTS incident_modified ON incident ("LastModified", seq);
      CREATE INDEX IF NOT EXISTS incident_id ON incident ("Id");
      CREATE INDEX IF NOT EXISTS incident_contact ON incident ("ContactMethod");
      CREATE INDEX IF NOT EXISTS change_request_modified ON change_request ("LastModified", seq);
      CREATE INDEX IF NOT EXISTS change_request_id ON change_request ("Id");
      CREATE INDEX IF NOT EXISTS computer_principal ON computer ("PrincipalName" COLLATE NOCASE);
      CREATE INDEX IF NOT EXISTS action_log_item ON action_log (work_item, entered_date);
      CREATE INDEX IF NOT EXISTS affected_ci_ci ON affected_ci (ci);
    `);
    this.db.exec('ANALYZE');
  }

  /** Next work item number (shared by every work item class). */
  nextWorkItemNumber(): number {
    const n = Number(this.getMeta('next_work_item') ?? '1');
    this.setMeta('next_work_item', String(n + 1));
    return n;
  }

  // ---------------------------------------------------------------- objects

  insert(cls: ClassDef, bmeId: string, timeAdded: number, values: Row): void {
    const names = Object.keys(values);
    const sql = `INSERT INTO ${quote(cls.table)} (bme_id, time_added${names.map((n) => `, ${quote(n)}`).join('')}) VALUES (?, ?${names.map(() => ', ?').join('')})`;
    this.stmt(sql).run(bmeId, timeAdded, ...names.map((n) => values[n]));
  }

  update(cls: ClassDef, bmeId: string, values: Row): void {
    const names = Object.keys(values);
    if (names.length === 0) return;
    this.stmt(`UPDATE ${quote(cls.table)} SET ${names.map((n) => `${quote(n)} = ?`).join(', ')} WHERE bme_id = ?`).run(...names.map((n) => values[n]), bmeId);
  }

  get(cls: ClassDef, bmeId: string): Row | undefined {
    return this.stmt(`SELECT * FROM ${quote(cls.table)} WHERE bme_id = ?`).get(bmeId) as Row | undefined;
  }

  /** Which class a work item or CI belongs to. */
  classOf(bmeId: string): ClassDef | undefined {
    for (const cls of CLASSES.values()) if (this.stmt(`SELECT 1 FROM ${quote(cls.table)} WHERE bme_id = ?`).get(bmeId)) return cls;
    return undefined;
  }

  /** bme_ids matching the criteria, in the requested order (the page cache keeps this list). */
  match(cls: ClassDef, criteria: CompiledCriteria, order: 'asc' | 'desc' | null): string[] {
    const by = order ? `"LastModified" ${order.toUpperCase()}, seq ${order.toUpperCase()}` : 'seq';
    return this.stmt(`SELECT bme_id FROM ${quote(cls.table)} WHERE ${criteria.where} ORDER BY ${by}`)
      .pluck()
      .all(...criteria.params) as string[];
  }

  rows(cls: ClassDef, bmeIds: string[]): Row[] {
    if (bmeIds.length === 0) return [];
    const found = this.db.prepare(`SELECT * FROM ${quote(cls.table)} WHERE bme_id IN (${bmeIds.map(() => '?').join(',')})`).all(...bmeIds) as Row[];
    const byId = new Map(found.map((r) => [r.bme_id as string, r]));
    return bmeIds.map((id) => byId.get(id)).filter((r): r is Row => !!r);
  }

  count(cls: ClassDef, criteria: CompiledCriteria): number {
    return this.stmt(`SELECT count(*) FROM ${quote(cls.table)} WHERE ${criteria.where}`)
      .pluck()
      .get(...criteria.params) as number;
  }

  computerByPrincipalName(name: string): Row | undefined {
    return this.stmt(`SELECT * FROM computer WHERE "PrincipalName" = ? COLLATE NOCASE`).get(name) as Row | undefined;
  }

  // ---------------------------------------------------------------- relationships

  addComment(c: Comment): void {
    this.stmt('INSERT INTO action_log (id, work_item, comment, entered_by, entered_date, is_private) VALUES (?, ?, ?, ?, ?, ?)').run(
      c.id,
      c.workItem,
      c.comment,
      c.enteredBy,
      c.enteredDate,
      c.isPrivate ? 1 : 0,
    );
  }

  comments(workItem: string): Comment[] {
    const rows = this.stmt('SELECT * FROM action_log WHERE work_item = ? ORDER BY entered_date DESC, rowid DESC').all(workItem) as Row[];
    return rows.map((r) => ({
      id: r.id as string,
      workItem: r.work_item as string,
      comment: r.comment as string,
      enteredBy: r.entered_by as string,
      enteredDate: r.entered_date as number,
      isPrivate: r.is_private === 1,
    }));
  }

  /** Adds the affected-CI relationship; false when it already existed. */
  attach(workItem: string, ci: string, nowMs: number): boolean {
    return this.stmt('INSERT OR IGNORE INTO affected_ci (work_item, ci, added) VALUES (?, ?, ?)').run(workItem, ci, nowMs).changes > 0;
  }

  /** Computers related to a work item (System.WorkItemAboutConfigItem). */
  affectedComputers(workItem: string): Row[] {
    return this.stmt('SELECT c.* FROM affected_ci a JOIN computer c ON c.bme_id = a.ci WHERE a.work_item = ? ORDER BY a.added, c."PrincipalName"').all(
      workItem,
    ) as Row[];
  }

  // ---------------------------------------------------------------- templates and apps

  insertTemplate(t: Template): void {
    this.stmt('INSERT INTO template (id, name, class, projection_type, "values") VALUES (?, ?, ?, ?, ?)').run(
      t.id,
      t.name,
      t.className,
      t.projectionType,
      JSON.stringify(t.values),
    );
  }

  templates(className: string): Template[] {
    return (this.stmt('SELECT * FROM template WHERE class = ? ORDER BY name').all(className) as Row[]).map(toTemplate);
  }

  template(id: string): Template | undefined {
    const r = this.stmt('SELECT * FROM template WHERE id = ?').get(id) as Row | undefined;
    return r ? toTemplate(r) : undefined;
  }

  insertApp(app: AadApp): void {
    this.stmt('INSERT INTO aad_app (client_id, client_secret, display_name) VALUES (?, ?, ?)').run(app.clientId, app.clientSecret, app.displayName);
  }

  app(clientId: string): AadApp | undefined {
    const r = this.stmt('SELECT * FROM aad_app WHERE client_id = ?').get(clientId) as Row | undefined;
    return r ? { clientId: r.client_id as string, clientSecret: r.client_secret as string, displayName: r.display_name as string } : undefined;
  }
}

function toTemplate(r: Row): Template {
  return {
    id: r.id as string,
    name: r.name as string,
    className: r.class as string,
    projectionType: r.projection_type as string,
    values: JSON.parse(r.values as string),
  };
}
