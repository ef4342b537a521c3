/**
 * Table API value encoding (partner-apis.md §1.2): every value a string, empty as "", references as
 * `{link, value}` (or a plain sys_id with sysparm_exclude_reference_link=true), display values from
 * sys_choice labels and the referenced record's display field, `all` as `{display_value, value[, link]}`.
 */
import type { FieldDef, TableMeta } from './schema.ts';
import { isVirtual } from './schema.ts';
import type { Rec, SnStore } from './store.ts';

export type DisplayMode = 'false' | 'true' | 'all';

export interface FormatOptions {
  display: DisplayMode;
  excludeRefLink: boolean;
  /** `https://host:port` the client called (links are absolute). */
  baseUrl: string;
  /** sysparm_fields (null = all fields of the table). */
  fields: string[] | null;
}

interface Step {
  meta: TableMeta;
  fd: FieldDef;
}

interface OutField {
  key: string;
  fd: FieldDef;
  meta: TableMeta;
  /** Column index in the selected row, for stored fields of the base table. */
  col: number;
  /** Dot-walk path (first step is a reference on the base table). */
  path?: Step[];
  virtual?: boolean;
}

const JOURNAL_LABEL: Record<string, string> = { comments: 'Additional comments', work_notes: 'Work notes' };

export function parseDisplayMode(v: unknown): DisplayMode {
  const s = String(v ?? 'false').toLowerCase();
  return s === 'true' ? 'true' : s === 'all' ? 'all' : 'false';
}

export class RecordFormatter {
  /** Stored columns to select (sys_id first). */
  readonly columns: string[] = ['sys_id'];
  private readonly out: OutField[] = [];
  private readonly linkPrefix: string;

  constructor(
    private readonly store: SnStore,
    private readonly meta: TableMeta,
    private readonly opts: FormatOptions,
  ) {
    this.linkPrefix = `${opts.baseUrl}/api/now/v2/table/`;
    const names = opts.fields ?? meta.fields.map((f) => f.name);
    const seen = new Set<string>();
    for (const raw of names) {
      const name = raw.trim();
      if (!name || seen.has(name)) continue;
      seen.add(name);
      const fd = meta.fieldMap.get(name);
      if (fd) {
        if (isVirtual(fd, meta)) {
          if (fd.name === 'task_effective_number') this.out.push({ key: name, fd, meta, col: this.col('number'), virtual: true });
          else this.out.push({ key: name, fd, meta, col: -1, virtual: true });
        } else this.out.push({ key: name, fd, meta, col: this.col(name) });
        continue;
      }
      if (name.includes('.')) {
        const path = this.resolvePath(name);
        if (path) this.out.push({ key: name, fd: path[path.length - 1].fd, meta, col: this.col(path[0].fd.name), path });
      }
    }
  }

  private col(name: string): number {
    let i = this.columns.indexOf(name);
    if (i < 0) {
      this.columns.push(name);
      i = this.columns.length - 1;
    }
    return i;
  }

  private resolvePath(name: string): Step[] | null {
    const parts = name.split('.');
    const steps: Step[] = [];
    let cur: TableMeta | undefined = this.meta;
    for (let i = 0; i < parts.length; i++) {
      if (!cur) return null;
      const fd = cur.fieldMap.get(parts[i]);
      if (!fd || isVirtual(fd, cur)) return null;
      steps.push({ meta: cur, fd });
      if (i < parts.length - 1) {
        if (fd.type !== 'reference' || !fd.ref) return null;
        cur = this.store.metas.get(fd.ref);
      }
    }
    return steps;
  }

  /** Formats rows selected with `this.columns`. */
  format(rows: unknown[][]): Rec[] {
    const display = this.opts.display;
    // Dot-walked values, resolved page-wise.
    const dotValues = new Map<OutField, unknown[]>();
    for (const o of this.out) {
      if (!o.path) continue;
      let values: unknown[] = rows.map((r) => r[o.col]);
      for (let i = 1; i < o.path.length; i++) {
        const step = o.path[i];
        const map = this.store.columnValues(
          step.meta,
          step.fd.name,
          values.filter((v): v is string => typeof v === 'string' && v !== ''),
        );
        values = values.map((v) => (typeof v === 'string' && v !== '' ? (map.get(v) ?? null) : null));
      }
      dotValues.set(o, values);
    }
    const valueOf = (o: OutField, row: unknown[], i: number): unknown => (o.path ? dotValues.get(o)![i] : o.col >= 0 ? row[o.col] : null);

    // Display values of references and journal history, page-wise.
    const refDisplays = new Map<string, Map<string, string>>();
    let journal: Map<string, { element: string; value: string; on: string; by: string }[]> | undefined;
    const userNames = new Map<string, string>();
    if (display !== 'false') {
      for (const [t, m] of this.loadRefDisplays(rows, valueOf)) refDisplays.set(t, m);
      if (this.store.rules.journalDisplayHistory && this.out.some((o) => !o.path && (o.fd.type === 'journal' || o.fd.type === 'journal_list'))) {
        journal = this.store.journal(
          this.meta.name,
          rows.map((r) => String(r[0])),
        );
        for (const list of journal.values()) {
          for (const e of list) {
            if (!userNames.has(e.by)) userNames.set(e.by, String(this.store.findUser(e.by)?.name ?? e.by));
          }
        }
      }
    }

    const result: Rec[] = new Array(rows.length);
    for (let i = 0; i < rows.length; i++) {
      const row = rows[i];
      const obj: Rec = {};
      for (const o of this.out) {
        const fd = o.fd;
        if (o.virtual && !o.path) {
          let v = '';
          let label: string | undefined;
          if (fd.name === 'sys_class_name') {
            v = o.meta.name;
            label = o.meta.def.label;
          } else if (fd.name === 'task_effective_number') v = row[o.col] == null ? '' : String(row[o.col]);
          else if ((fd.type === 'journal' || fd.type === 'journal_list') && journal) {
            const entries = journal.get(String(row[0])) ?? [];
            v = entries
              .filter((e) => (fd.type === 'journal_list' ? true : e.element === fd.name))
              .map((e) => `${e.on} - ${userNames.get(e.by) ?? e.by} (${JOURNAL_LABEL[e.element] ?? e.element})\n${e.value}\n\n`)
              .join('');
          }
          const dv = label ?? v;
          if (display === 'false') obj[o.key] = v;
          else obj[o.key] = display === 'all' ? { display_value: dv, value: fd.type.startsWith('journal') ? '' : v } : dv;
          continue;
        }
        const v = valueOf(o, row, i);
        const value = rawString(fd, v);
        if (fd.type === 'reference') {
          const link = value === '' || this.opts.excludeRefLink ? undefined : this.linkPrefix + fd.ref + '/' + value;
          if (display === 'false') obj[o.key] = link ? { link, value } : value;
          else {
            const dv = value === '' ? '' : (refDisplays.get(fd.ref!)?.get(value) ?? '');
            if (display === 'true') obj[o.key] = link ? { display_value: dv, link } : dv;
            else obj[o.key] = link ? { display_value: dv, link, value } : { display_value: dv, value };
          }
          continue;
        }
        if (display === 'false') {
          obj[o.key] = value;
          continue;
        }
        let dv = value;
        if (fd.name === 'sys_class_name') dv = this.store.metas.get(value)?.def.label ?? value;
        if (fd.type === 'choice' && value !== '') {
          dv = this.store.choices(o.path ? o.path[o.path.length - 1].meta : o.meta, fd.name)?.byValue.get(value) ?? value;
        }
        obj[o.key] = display === 'true' ? dv : { display_value: dv, value };
      }
      result[i] = obj;
    }
    return result;
  }

  /**
   * The `result` array as JSON text. With display_value=false (what a sync reads) values are written
   * straight into the text, which is several times faster than building objects and stringifying them.
   */
  json(rows: unknown[][]): string {
    const display = this.opts.display;
    if (this.out.some((o) => o.path)) return JSON.stringify(this.format(rows));
    if (display !== 'false') {
      if (this.store.rules.journalDisplayHistory && this.out.some((o) => o.fd.type === 'journal' || o.fd.type === 'journal_list')) {
        return JSON.stringify(this.format(rows));
      }
      this.refDisplays = this.loadRefDisplays(rows, (o, row) => row[o.col]);
    }
    const writers = this.writers ?? (this.writers = this.out.map((o, i) => (display === 'false' ? this.writer(o, i === 0) : this.displayWriter(o, i === 0))));
    let s = '[';
    for (let r = 0; r < rows.length; r++) {
      const row = rows[r];
      s += r === 0 ? '{' : ',{';
      for (let w = 0; w < writers.length; w++) s += writers[w](row);
      s += '}';
    }
    return s + ']';
  }

  /** Display values of the references on this page, per target table. */
  private refDisplays: Map<string, Map<string, string>> | undefined;

  private loadRefDisplays(rows: unknown[][], valueOf: (o: OutField, row: unknown[], i: number) => unknown): Map<string, Map<string, string>> {
    const idsByTable = new Map<string, Set<string>>();
    for (const o of this.out) {
      if (o.fd.type !== 'reference' || !o.fd.ref) continue;
      const set = idsByTable.get(o.fd.ref) ?? new Set<string>();
      rows.forEach((r, i) => {
        const v = valueOf(o, r, i);
        if (typeof v === 'string' && v) set.add(v);
      });
      idsByTable.set(o.fd.ref, set);
    }
    const out = new Map<string, Map<string, string>>();
    for (const [t, ids] of idsByTable) out.set(t, this.store.displayValues(t, ids));
    return out;
  }

  /** Writer for display_value=true/all (journal fields are handled by format()). */
  private displayWriter(o: OutField, first: boolean): (row: unknown[]) => string {
    const key = (first ? '' : ',') + JSON.stringify(o.key) + ':';
    const fd = o.fd;
    const col = o.col;
    const all = this.opts.display === 'all';
    const emit = (value: string, dv: string, link?: string): string => {
      if (!all) return link ? key + '{"display_value":' + jsonString(dv) + ',"link":' + jsonString(link) + '}' : key + jsonString(dv);
      return key + '{"display_value":' + jsonString(dv) + (link ? ',"link":' + jsonString(link) : '') + ',"value":' + jsonString(value) + '}';
    };
    if (o.virtual) {
      if (fd.name === 'sys_class_name') {
        const text = emit(o.meta.name, o.meta.def.label);
        return () => text;
      }
      if (fd.name === 'task_effective_number') {
        return (row) => {
          const v = row[col] == null ? '' : String(row[col]);
          return emit(v, v);
        };
      }
      const text = emit('', '');
      return () => text;
    }
    switch (fd.type) {
      case 'reference': {
        const ref = fd.ref!;
        const prefix = this.linkPrefix + ref + '/';
        const exclude = this.opts.excludeRefLink;
        const memo = new Map<string, string>();
        return (row) => {
          const v = rawString(fd, row[col]);
          if (v === '') return emit('', '');
          const dv = this.refDisplays?.get(ref)?.get(v) ?? '';
          const k = v + '\u0000' + dv;
          let text = memo.get(k);
          if (text === undefined) {
            if (memo.size > 20000) memo.clear();
            text = emit(v, dv, exclude ? undefined : prefix + v);
            memo.set(k, text);
          }
          return text;
        };
      }
      case 'choice':
      case 'boolean': {
        const labels = fd.type === 'choice' ? this.store.choices(o.meta, fd.name)?.byValue : undefined;
        const memo = new Map<unknown, string>();
        return (row) => {
          const raw = row[col];
          let text = memo.get(raw);
          if (text === undefined) {
            const v = rawString(fd, raw);
            text = emit(v, v === '' ? '' : (labels?.get(v) ?? v));
            if (memo.size > 1000) memo.clear();
            memo.set(raw, text);
          }
          return text;
        };
      }
      default:
        if (fd.name === 'sys_class_name') {
          return (row) => {
            const v = rawString(fd, row[col]);
            return emit(v, this.store.metas.get(v)?.def.label ?? v);
          };
        }
        return (row) => {
          const v = rawString(fd, row[col]);
          return emit(v, v);
        };
    }
  }

  private writers: ((row: unknown[]) => string)[] | undefined;

  private writer(o: OutField, first: boolean): (row: unknown[]) => string {
    const key = (first ? '' : ',') + JSON.stringify(o.key) + ':';
    const fd = o.fd;
    const col = o.col;
    if (o.virtual) {
      if (fd.name === 'sys_class_name') {
        const text = key + JSON.stringify(o.meta.name);
        return () => text;
      }
      if (fd.name === 'task_effective_number') return (row) => key + jsonString(row[col] == null ? '' : String(row[col]));
      const text = key + '""';
      return () => text;
    }
    const empty = key + '""';
    switch (fd.type) {
      case 'reference': {
        if (this.opts.excludeRefLink) return (row) => (row[col] == null || row[col] === '' ? empty : key + jsonString(String(row[col])));
        const prefix = key + '{"link":' + JSON.stringify(this.linkPrefix + fd.ref + '/').slice(0, -1);
        return (row) => {
          const v = row[col];
          if (v == null || v === '') return empty;
          const id = String(v);
          const safe = SAFE.test(id) ? id : JSON.stringify(id).slice(1, -1);
          return prefix + safe + '","value":"' + safe + '"}';
        };
      }
      case 'boolean': {
        const t = key + '"true"';
        const f = key + '"false"';
        return (row) => {
          const v = row[col];
          if (v == null) return empty;
          return v === 1 || v === '1' || v === 'true' ? t : f;
        };
      }
      case 'password':
      case 'password2':
        return () => empty;
      default:
        return (row) => {
          const v = row[col];
          if (v == null) return empty;
          if (typeof v === 'number') return key + '"' + v + '"';
          return key + jsonString(typeof v === 'string' ? v : String(v));
        };
    }
  }

  /** Formats one record read as an object (`SELECT *`). */
  formatRecord(rec: Rec): Rec {
    return this.format([this.columns.map((c) => rec[c])])[0];
  }
}

export function rawString(fd: FieldDef, v: unknown): string {
  if (v === null || v === undefined) return '';
  switch (fd.type) {
    case 'boolean':
      return v === 1 || v === '1' || v === true || v === 'true' ? 'true' : 'false';
    case 'password':
    case 'password2':
      return '';
    default:
      return typeof v === 'string' ? v : String(v);
  }
}

const SAFE = /^[^"\\\u0000-\u001f\ud800-\udfff]*$/;

function jsonString(s: string): string {
  return SAFE.test(s) ? '"' + s + '"' : JSON.stringify(s);
}
