/**
 * The SQL side of the workspace tables declared in src/workspace/tables.ts: their DDL, their insert
 * statements and the conversion of a row keyed by KQL column names into storage values, for either database.
 */
import { quoteIdent, StorageRowError, toEpochMs, workspaceTables, type ColumnSchema, type WorkspaceTableName } from '../workspace/tables.ts';
import { kqlHashAndSeriesFunctionsSql, kqlHelperFunctionsSql } from '../workspace/kql/pg-functions.ts';
import { storeDialect, type Dialect, type StoreDialect } from './dialect.ts';

/**
 * DDL for all workspace tables: idempotent (`IF NOT EXISTS` / `OR REPLACE`), one statement per
 * array element, in order. Run at startup / in a migration (on PostgreSQL under a lock when several
 * processes start together, since concurrent `CREATE OR REPLACE FUNCTION` can conflict).
 */
export function createWorkspaceTablesSql(name: Dialect): string[] {
  const dialect = storeDialect(name);
  const out: string[] = [];
  for (const table of Object.values(workspaceTables)) {
    const cols = [`workspace TEXT NOT NULL`, ...table.columns.map((c) => `${quoteIdent(c.name)} ${dialect.columnType(c.type)}`)];
    out.push(`CREATE TABLE IF NOT EXISTS ${quoteIdent(table.sqlName)} (\n  ${cols.join(',\n  ')}\n)`);
    for (const ix of table.indexes) {
      const ixName = `ix_${table.sqlName}_${ix.map((c) => c.toLowerCase().replace(/[^a-z0-9]/g, '')).join('_')}`;
      out.push(`CREATE INDEX IF NOT EXISTS ${quoteIdent(ixName)} ON ${quoteIdent(table.sqlName)} (workspace, ${ix.map(quoteIdent).join(', ')})`);
    }
  }
  out.push(...kqlHelperFunctionsSql(name), ...kqlHashAndSeriesFunctionsSql(name));
  return out;
}

/** `INSERT INTO ws_x (workspace, "c1", …) VALUES (…)` with one placeholder per column (workspace first). */
export function insertRowSql(table: WorkspaceTableName, name: Dialect): string {
  const dialect = storeDialect(name);
  const schema = workspaceTables[table];
  const names = ['workspace', ...schema.columns.map((c) => quoteIdent(c.name))];
  const ph = names.map((_, i) => dialect.placeholder(i + 1));
  return `INSERT INTO ${quoteIdent(schema.sqlName)} (${names.join(', ')}) VALUES (${ph.join(', ')})`;
}

function storeValue(col: ColumnSchema, v: unknown, dialect: StoreDialect): unknown {
  switch (col.type) {
    case 'string':
      if (v === null || v === undefined) return '';
      if (typeof v === 'string') return v;
      if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
      if (v instanceof Date) return v.toISOString();
      throw new StorageRowError(`column ${col.name}: expected a string`);
    case 'datetime':
      return toEpochMs(v);
    case 'bool': {
      if (v === null || v === undefined) return null;
      let b: boolean;
      if (typeof v === 'boolean') b = v;
      else if (v === 1 || v === 0) b = v === 1;
      else if (typeof v === 'string' && /^(true|false)$/i.test(v)) b = v.toLowerCase() === 'true';
      else throw new StorageRowError(`column ${col.name}: expected a boolean`);
      return dialect.bool(b);
    }
    case 'int':
    case 'long': {
      if (v === null || v === undefined || v === '') return null;
      const n = typeof v === 'string' && /^\s*[+-]?\d+\s*$/.test(v) ? Number(v) : v;
      if (typeof n === 'bigint') return dialect.bigint(n);
      if (typeof n !== 'number' || !Number.isInteger(n)) throw new StorageRowError(`column ${col.name}: expected an integer`);
      if (col.type === 'int' && (n > 2147483647 || n < -2147483648)) throw new StorageRowError(`column ${col.name}: int out of range`);
      return n;
    }
    case 'real': {
      if (v === null || v === undefined || v === '') return null;
      const n = typeof v === 'string' ? Number(v) : v;
      if (typeof n !== 'number' || Number.isNaN(n)) throw new StorageRowError(`column ${col.name}: expected a number`);
      return n;
    }
    case 'dynamic':
      if (v === null || v === undefined) return null;
      try {
        const json = JSON.stringify(v);
        if (json === undefined) throw new Error('not serializable');
        return json;
      } catch {
        throw new StorageRowError(`column ${col.name}: value is not JSON-serializable`);
      }
  }
}

/**
 * Convert a row keyed by KQL column names into storage values, in the declared column order (the
 * order `insertRowSql` expects after the leading workspace value). Missing columns become '' (strings)
 * or null; `Type` defaults to the table name. Unknown columns are rejected.
 */
export function toStorageRow(table: WorkspaceTableName, row: Record<string, unknown>, name: Dialect = 'sqlite'): unknown[] {
  const dialect = storeDialect(name);
  const schema = workspaceTables[table];
  if (!schema) throw new StorageRowError(`unknown workspace table: ${String(table)}`);
  const known = columnIndex(table);
  for (const key of Object.keys(row)) {
    if (!known.has(key)) throw new StorageRowError(`unknown column ${JSON.stringify(key)} for table ${table}`);
  }
  return schema.columns.map((c) => {
    const v = c.name === 'Type' && (row.Type === undefined || row.Type === null || row.Type === '') ? table : row[c.name];
    return storeValue(c, v, dialect);
  });
}

const indexCache = new Map<string, Map<string, number>>();
function columnIndex(table: WorkspaceTableName): Map<string, number> {
  let m = indexCache.get(table);
  if (!m) {
    m = new Map(workspaceTables[table].columns.map((c, i) => [c.name, i]));
    indexCache.set(table, m);
  }
  return m;
}
