/**
 * Workspace tables: the declared KQL schemas and their physical storage layout.
 *
 * Declared schemas
 * ----------------
 * Every workspace has the same three tables (`ServiceDesk_CL`, `ServiceDeskLog_CL`,
 * `ItsmActionOutcome_CL`). Column names follow ITSMC / Log Analytics custom-log naming (`_s` string,
 * `_t` datetime, `_b` bool, `_d` real); `TimeGenerated`, `Computer`, `Message`, `SourceSystem` and
 * `Type` (the table name, filled in automatically) are the standard Log Analytics columns.
 *
 * Physical storage (both SQLite and PostgreSQL)
 * ---------------------------------------------
 * - One SQL table per workspace table: `ws_` + lower-case table name (`ws_servicedesk_cl`, …).
 * - First column `workspace` (text, not null): every compiled query filters on it with a bound
 *   parameter, which is what isolates workspaces from each other.
 * - Then one column per declared column, named exactly like the KQL column and always quoted
 *   (`"TimeGenerated"`, `"ServiceDeskId_s"`).
 * - Types: string → TEXT NOT NULL DEFAULT '' (Kusto strings are never null: a missing string is stored
 *   as ''), datetime → BIGINT epoch milliseconds UTC (INTEGER in SQLite), bool → INTEGER 0/1 (SQLite) /
 *   BOOLEAN (PostgreSQL), int → INTEGER, long → BIGINT, real → REAL / DOUBLE PRECISION, dynamic → JSON
 *   text. Non-string columns are nullable (null = Kusto null).
 * - No primary key: the tables are append-only logs (a changed record is a new row; queries take the
 *   latest with `arg_max(TimeGenerated, *) by ServiceDeskId_s`).
 * - Indexes: (workspace, TimeGenerated) on every table, plus the access paths the dashboard and SPEC
 *   queries use (see `workspaceTables[*].indexes`); (workspace, IncidentState_s) makes
 *   `summarize count() by IncidentState_s` a covering-index scan (P5: 90 ms instead of 600 ms at 1M rows).
 * - PostgreSQL also gets one helper function, `kql_todatetime(text)`, a string→epoch-ms parse that
 *   returns null instead of raising (used by the KQL compiler for `todatetime(string)`). SQLite needs
 *   its helper functions registered on each connection instead: `registerSqliteFunctions(db)` in
 *   `./kql/sqlite-functions.ts`.
 *
 * Writers use `toStorageRow()` + `insertRowSql()`; readers (the KQL engine) use `fromStorageValue()`.
 */

export type KqlColumnType = 'string' | 'datetime' | 'bool' | 'int' | 'long' | 'real' | 'dynamic';
export type SqlDialect = 'sqlite' | 'postgres';

export interface ColumnSchema {
  name: string;
  type: KqlColumnType;
  description?: string;
}

export interface TableSchema {
  name: WorkspaceTableName;
  /** Physical SQL table name. */
  sqlName: string;
  columns: readonly ColumnSchema[];
  /** Secondary indexes: each is a list of column names, always prefixed by `workspace`. */
  indexes: readonly (readonly string[])[];
}

export type WorkspaceTableName = 'ServiceDesk_CL' | 'ServiceDeskLog_CL' | 'ItsmActionOutcome_CL';

const s = <N extends string>(name: N, description?: string) => ({ name, type: 'string' as const, description });
const t = <N extends string>(name: N, description?: string) => ({ name, type: 'datetime' as const, description });

const serviceDesk = {
  name: 'ServiceDesk_CL',
  sqlName: 'ws_servicedesk_cl',
  columns: [
    t('TimeGenerated', 'When this version of the record was written to the workspace'),
    s('ServiceDeskConnectionName_s', 'Connection the record was synced from'),
    s('ServiceDeskWorkItemType_s', 'Incident or ChangeRequest'),
    s('ServiceDeskId_s', 'Partner record number, e.g. INC0010001'),
    s('IncidentState_s'),
    s('CRState_s'),
    s('Urgency_s'),
    s('Impact_s'),
    s('Priority_s'),
    s('Escalation_s'),
    s('CreatedBy_s'),
    s('ResolvedBy_s'),
    s('ClosedBy_s'),
    s('Source_s'),
    s('AssignedTo_s'),
    s('Category_s'),
    s('Title_s'),
    s('Description_s'),
    t('CreatedDate_t'),
    t('ClosedDate_t'),
    t('ResolvedDate_t'),
    t('LastModifiedDate_t'),
    s('Type_s', 'Change request type'),
    s('Risk_s'),
    s('ConflictStatus_s'),
    t('RequestedDate_t'),
    t('PlannedStartDate_t'),
    t('PlannedEndDate_t'),
    t('WorkStartDate_t'),
    t('WorkEndDate_t'),
    s('Computer', 'Configuration item'),
    s('SourceSystem'),
    s('Type', 'Table name (ServiceDesk_CL)'),
  ],
  // No index on ServiceDeskId_s: SQLite would use it for `summarize arg_max(…) by ServiceDeskId_s`
  // to avoid a sort and then fetch every row at random (4× slower than scan + sort at 1M rows).
  indexes: [['TimeGenerated'], ['IncidentState_s'], ['Computer']],
} as const satisfies TableSchema;

const serviceDeskLog = {
  name: 'ServiceDeskLog_CL',
  sqlName: 'ws_servicedesklog_cl',
  columns: [
    t('TimeGenerated'),
    s('ServiceDeskConnectionName_s'),
    s('LogType_s', 'ERROR, WARNING, INFO'),
    s('Message'),
    s('ExceptionMessage_s'),
    { name: 'Status_b', type: 'bool' as const, description: 'true = success' },
    t('StatusLogTime_t'),
    { name: 'ActionStatus_d', type: 'real' as const },
    s('ConnectionState_s', 'Extension: connection state after the event (e.g. Connected, Error)'),
    s('PartnerType_s', 'Extension: the partner type of the connection'),
    s('Computer'),
    s('SourceSystem'),
    s('Type', 'Table name (ServiceDeskLog_CL)'),
  ],
  indexes: [['TimeGenerated'], ['ServiceDeskConnectionName_s', 'TimeGenerated']],
} as const satisfies TableSchema;

const actionOutcome = {
  name: 'ItsmActionOutcome_CL',
  sqlName: 'ws_itsmactionoutcome_cl',
  columns: [
    t('TimeGenerated'),
    s('AlertId_s'),
    s('AlertRule_s'),
    s('ActionGroup_s'),
    s('Action_s'),
    s('ServiceDeskConnectionName_s'),
    s('WorkItemType_s', 'Incident, Event or Alert'),
    s('WorkItemId_s', 'Partner id (sys_id, GUID, RecID)'),
    s('WorkItemNumber_s', 'Display number (INC0010001)'),
    s('Operation_s', 'Created, Updated, Resolved, Reopened or Failed'),
    s('Computer'),
    s('Message'),
    s('Type', 'Table name (ItsmActionOutcome_CL)'),
  ],
  indexes: [['TimeGenerated'], ['AlertId_s'], ['ServiceDeskConnectionName_s', 'TimeGenerated']],
} as const satisfies TableSchema;

/** A value of a column as callers hand it over: datetimes as epoch ms or ISO text. */
type ColumnValue<T extends KqlColumnType> = T extends 'string'
  ? string
  : T extends 'datetime'
    ? string | number
    : T extends 'bool'
      ? boolean
      : T extends 'int' | 'long' | 'real'
        ? number
        : unknown;

/** The row type of a table, derived from its declaration: an unknown column is a type error. */
export type RowOf<S extends { columns: readonly { name: string; type: KqlColumnType }[] }> = {
  [C in S['columns'][number] as C['name']]?: ColumnValue<C['type']> | null;
};

export type ServiceDeskRow = RowOf<typeof serviceDesk>;
export type ServiceDeskLogRow = RowOf<typeof serviceDeskLog>;
export type ItsmActionOutcomeRow = RowOf<typeof actionOutcome>;
export interface WorkspaceRowTypes {
  ServiceDesk_CL: ServiceDeskRow;
  ServiceDeskLog_CL: ServiceDeskLogRow;
  ItsmActionOutcome_CL: ItsmActionOutcomeRow;
}

export const workspaceTables: Readonly<Record<WorkspaceTableName, TableSchema>> = {
  ServiceDesk_CL: serviceDesk,
  ServiceDeskLog_CL: serviceDeskLog,
  ItsmActionOutcome_CL: actionOutcome,
};

export const workspaceTableNames = Object.keys(workspaceTables) as WorkspaceTableName[];

export function isWorkspaceTableName(name: string): name is WorkspaceTableName {
  return Object.prototype.hasOwnProperty.call(workspaceTables, name);
}

/** Quote an identifier for SQL (same syntax in SQLite and PostgreSQL). */
export function quoteIdent(name: string): string {
  if (/[\u0000-\u001f]/.test(name)) throw new Error('identifier contains control characters');
  return '"' + name.replace(/"/g, '""') + '"';
}

function sqlType(type: KqlColumnType, dialect: SqlDialect): string {
  switch (type) {
    case 'string':
      return "TEXT NOT NULL DEFAULT ''";
    case 'datetime':
    case 'long':
      return dialect === 'sqlite' ? 'INTEGER' : 'BIGINT';
    case 'int':
      return 'INTEGER';
    case 'bool':
      return dialect === 'sqlite' ? 'INTEGER' : 'BOOLEAN';
    case 'real':
      return dialect === 'sqlite' ? 'REAL' : 'DOUBLE PRECISION';
    case 'dynamic':
      return 'TEXT';
  }
}

/** PostgreSQL helper: string → epoch ms, null when unparsable (Kusto `todatetime` semantics). */
const PG_TODATETIME_FN = `CREATE OR REPLACE FUNCTION kql_todatetime(s text) RETURNS bigint
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $fn$
BEGIN
  IF s IS NULL OR s !~ '^\\s*\\d{4}-\\d{1,2}-\\d{1,2}([T ]\\d{1,2}:\\d{2}(:\\d{2}(\\.\\d{1,9})?)?)?\\s*(Z|z|[+-]\\d{2}(:?\\d{2})?)?\\s*$' THEN
    RETURN NULL;
  END IF;
  IF s ~ '(Z|z|[+-]\\d{2}(:?\\d{2})?)\\s*$' AND s ~ '[T ]\\d' THEN
    RETURN floor(extract(epoch FROM s::timestamptz) * 1000)::bigint;
  END IF;
  RETURN floor(extract(epoch FROM (regexp_replace(s, '\\s*(Z|z)\\s*$', '')::timestamp AT TIME ZONE 'UTC')) * 1000)::bigint;
EXCEPTION WHEN others THEN
  RETURN NULL;
END
$fn$`;

/** PostgreSQL helper: Kusto `parse_json` — the JSON value when the text is JSON, else the text as a JSON string. */
const PG_PARSE_JSON_FN = `CREATE OR REPLACE FUNCTION kql_parse_json(s text) RETURNS text
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $fn$
BEGIN
  IF s IS NULL THEN RETURN NULL; END IF;
  RETURN (s::jsonb)::text;
EXCEPTION WHEN others THEN
  RETURN to_jsonb(s)::text;
END
$fn$`;

/** SQL functions of the KQL engine that PostgreSQL needs beside the tables (none on SQLite). */
export function kqlHelperFunctionsSql(dialect: SqlDialect): string[] {
  return dialect === 'postgres' ? [PG_TODATETIME_FN, PG_PARSE_JSON_FN] : [];
}

// Unsigned 64-bit arithmetic for xxHash64 in numeric (bigint would overflow): values in [0, 2^64).
const PG_U64_FNS = [
  `CREATE OR REPLACE FUNCTION kql_u64_xor(a numeric, b numeric) RETURNS numeric
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $fn$
  SELECT CASE WHEN r < 0 THEN r + 18446744073709551616 ELSE r END FROM (SELECT (
    (CASE WHEN a >= 9223372036854775808 THEN a - 18446744073709551616 ELSE a END)::bigint #
    (CASE WHEN b >= 9223372036854775808 THEN b - 18446744073709551616 ELSE b END)::bigint)::numeric AS r) AS s
$fn$`,
  `CREATE OR REPLACE FUNCTION kql_u64_rotl(x numeric, r int) RETURNS numeric
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $fn$
  SELECT mod(x * (1::bigint << r)::numeric, 18446744073709551616) + div(x, (1::bigint << (63 - r))::numeric * 2)
$fn$`,
  `CREATE OR REPLACE FUNCTION kql_u64_round(acc numeric, input numeric) RETURNS numeric
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $fn$
  SELECT mod(kql_u64_rotl(mod(acc + input * 14029467366897019727, 18446744073709551616), 31) * 11400714785074694791, 18446744073709551616)
$fn$`,
  `CREATE OR REPLACE FUNCTION kql_u64_word(data bytea, p int, n int) RETURNS numeric
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $fn$
DECLARE r numeric := 0;
BEGIN
  FOR i IN REVERSE n - 1..0 LOOP r := r * 256 + get_byte(data, p + i); END LOOP;
  RETURN r;
END
$fn$`,
];

/** PostgreSQL helper: Kusto `hash()` — xxHash64 (seed 0) of the bytes; with `modulo`, the unsigned hash's remainder. */
const PG_XXHASH64_FN = `CREATE OR REPLACE FUNCTION kql_xxhash64(data bytea, modulo bigint) RETURNS bigint
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $fn$
DECLARE
  m CONSTANT numeric := 18446744073709551616;
  p1 CONSTANT numeric := 11400714785074694791;
  p2 CONSTANT numeric := 14029467366897019727;
  p3 CONSTANT numeric := 1609587929392839161;
  p4 CONSTANT numeric := 9650029242287828579;
  p5 CONSTANT numeric := 2870177450012600261;
  len int;
  p int := 0;
  h numeric;
  v numeric[];
BEGIN
  IF data IS NULL THEN RETURN NULL; END IF;
  len := length(data);
  IF len >= 32 THEN
    v := ARRAY[mod(p1 + p2, m), p2, 0, m - p1];
    WHILE p <= len - 32 LOOP
      FOR j IN 1..4 LOOP v[j] := kql_u64_round(v[j], kql_u64_word(data, p + (j - 1) * 8, 8)); END LOOP;
      p := p + 32;
    END LOOP;
    h := mod(kql_u64_rotl(v[1], 1) + kql_u64_rotl(v[2], 7) + kql_u64_rotl(v[3], 12) + kql_u64_rotl(v[4], 18), m);
    FOR j IN 1..4 LOOP h := mod(mod(kql_u64_xor(h, kql_u64_round(0, v[j])) * p1, m) + p4, m); END LOOP;
  ELSE
    h := p5;
  END IF;
  h := mod(h + len, m);
  WHILE p + 8 <= len LOOP
    h := mod(mod(kql_u64_rotl(kql_u64_xor(h, kql_u64_round(0, kql_u64_word(data, p, 8))), 27) * p1, m) + p4, m);
    p := p + 8;
  END LOOP;
  IF p + 4 <= len THEN
    h := mod(mod(kql_u64_rotl(kql_u64_xor(h, mod(kql_u64_word(data, p, 4) * p1, m)), 23) * p2, m) + p3, m);
    p := p + 4;
  END IF;
  WHILE p < len LOOP
    h := mod(kql_u64_rotl(kql_u64_xor(h, mod(get_byte(data, p) * p5, m)), 11) * p1, m);
    p := p + 1;
  END LOOP;
  h := mod(kql_u64_xor(h, div(h, 8589934592)) * p2, m);
  h := mod(kql_u64_xor(h, div(h, 536870912)) * p3, m);
  h := kql_u64_xor(h, div(h, 4294967296));
  IF modulo IS NOT NULL THEN
    RETURN CASE WHEN modulo > 0 THEN mod(h, modulo)::bigint END;
  END IF;
  RETURN (CASE WHEN h >= 9223372036854775808 THEN h - m ELSE h END)::bigint;
END
$fn$`;

/** PostgreSQL helper: the 8 little-endian bytes of a datetime's ticks (100 ns since 0001-01-01), what Kusto hashes. */
const PG_TICKS_BYTES_FN = `CREATE OR REPLACE FUNCTION kql_ticks_bytes(ms bigint) RETURNS bytea
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $fn$
DECLARE
  be bytea := decode(lpad(to_hex(ms * 10000 + 621355968000000000), 16, '0'), 'hex');
  le bytea := '\\x0000000000000000'::bytea;
BEGIN
  FOR i IN 0..7 LOOP le := set_byte(le, i, get_byte(be, 7 - i)); END LOOP;
  RETURN le;
END
$fn$`;

/** PostgreSQL helper: Kusto `series_stats_dynamic` (the rules of kql/series.ts `seriesStats`). */
const PG_SERIES_STATS_FN = `CREATE OR REPLACE FUNCTION kql_series_stats(arr text) RETURNS text
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $fn$
DECLARE
  j jsonb;
  e record;
  v double precision;
  n int := 0;
  total double precision := 0;
  mean double precision := 0;
  m2 double precision := 0;
  delta double precision;
  mn double precision; mni int; mx double precision; mxi int; var double precision;
BEGIN
  IF arr IS NULL THEN RETURN NULL; END IF;
  BEGIN j := arr::jsonb; EXCEPTION WHEN others THEN RETURN NULL; END;
  IF jsonb_typeof(j) <> 'array' THEN RETURN NULL; END IF;
  FOR e IN SELECT value, ordinality - 1 AS idx FROM jsonb_array_elements(j) WITH ORDINALITY ORDER BY ordinality LOOP
    CONTINUE WHEN jsonb_typeof(e.value) <> 'number';
    v := (e.value #>> '{}')::double precision;
    IF mn IS NULL OR v < mn THEN mn := v; mni := e.idx; END IF;
    IF mx IS NULL OR v > mx THEN mx := v; mxi := e.idx; END IF;
    n := n + 1;
    total := total + v;
    delta := v - mean;
    mean := mean + delta / n;
    m2 := m2 + delta * (v - mean);
  END LOOP;
  IF n > 0 THEN var := CASE WHEN n = 1 THEN 0 ELSE m2 / (n - 1) END; END IF;
  RETURN json_build_object('min', mn, 'min_idx', mni, 'max', mx, 'max_idx', mxi, 'avg', total / nullif(n, 0), 'stdev', sqrt(var), 'variance', var)::text;
END
$fn$`;

/** PostgreSQL helper: Kusto `series_fill_linear` (the rules of kql/series.ts `seriesFillLinear`). */
const PG_SERIES_FILL_LINEAR_FN = `CREATE OR REPLACE FUNCTION kql_series_fill_linear(arr text, missing text, fill_edges boolean, constant double precision) RETURNS text
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $fn$
DECLARE
  j jsonb;
  miss jsonb := coalesce(missing, 'null')::jsonb;
  ints boolean := arr !~ '\\d\\.\\d|\\d[eE]';
  els jsonb[];
  out jsonb[];
  a int := 0;
  first int := 0;
  va double precision;
  vb double precision;
  x double precision;
BEGIN
  IF arr IS NULL THEN RETURN NULL; END IF;
  BEGIN j := arr::jsonb; EXCEPTION WHEN others THEN RETURN NULL; END;
  IF jsonb_typeof(j) <> 'array' THEN RETURN NULL; END IF;
  els := ARRAY(SELECT value FROM jsonb_array_elements(j) WITH ORDINALITY ORDER BY ordinality);
  out := els;
  FOR i IN 1..coalesce(array_length(els, 1), 0) LOOP
    CONTINUE WHEN els[i] = miss OR jsonb_typeof(els[i]) <> 'number';
    IF first = 0 THEN first := i; END IF;
    IF a > 0 THEN
      va := (els[a] #>> '{}')::double precision;
      vb := (els[i] #>> '{}')::double precision;
      FOR k IN a + 1..i - 1 LOOP
        x := va + (vb - va) * (k - a) / (i - a);
        out[k] := CASE WHEN ints THEN to_jsonb(trunc(x)::bigint) ELSE to_jsonb(x) END;
      END LOOP;
    END IF;
    a := i;
  END LOOP;
  IF first = 0 THEN
    IF constant IS NULL THEN RETURN j::text; END IF;
    RETURN coalesce((SELECT jsonb_agg(to_jsonb(constant)) FROM unnest(els)), '[]'::jsonb)::text;
  END IF;
  IF fill_edges THEN
    FOR k IN 1..first - 1 LOOP out[k] := els[first]; END LOOP;
    FOR k IN a + 1..array_length(els, 1) LOOP out[k] := els[a]; END LOOP;
  END IF;
  RETURN to_jsonb(out)::text;
END
$fn$`;

/** KQL helpers added with migration 7 (hash, series_stats, series_fill_linear): PostgreSQL only. */
export function kqlHashAndSeriesFunctionsSql(dialect: SqlDialect): string[] {
  return dialect === 'postgres' ? [...PG_U64_FNS, PG_XXHASH64_FN, PG_TICKS_BYTES_FN, PG_SERIES_STATS_FN, PG_SERIES_FILL_LINEAR_FN] : [];
}

/**
 * DDL for all workspace tables: idempotent (`IF NOT EXISTS` / `OR REPLACE`), one statement per
 * array element, in order. Run at startup / in a migration (on PostgreSQL under a lock when several
 * processes start together, since concurrent `CREATE OR REPLACE FUNCTION` can conflict).
 */
export function createWorkspaceTablesSql(dialect: SqlDialect): string[] {
  const out: string[] = [];
  for (const table of Object.values(workspaceTables)) {
    const cols = [`workspace TEXT NOT NULL`, ...table.columns.map((c) => `${quoteIdent(c.name)} ${sqlType(c.type, dialect)}`)];
    out.push(`CREATE TABLE IF NOT EXISTS ${quoteIdent(table.sqlName)} (\n  ${cols.join(',\n  ')}\n)`);
    for (const ix of table.indexes) {
      const ixName = `ix_${table.sqlName}_${ix.map((c) => c.toLowerCase().replace(/[^a-z0-9]/g, '')).join('_')}`;
      out.push(`CREATE INDEX IF NOT EXISTS ${quoteIdent(ixName)} ON ${quoteIdent(table.sqlName)} (workspace, ${ix.map(quoteIdent).join(', ')})`);
    }
  }
  out.push(...kqlHelperFunctionsSql(dialect), ...kqlHashAndSeriesFunctionsSql(dialect));
  return out;
}

/** `INSERT INTO ws_x (workspace, "c1", …) VALUES (…)` with one placeholder per column (workspace first). */
export function insertRowSql(table: WorkspaceTableName, dialect: SqlDialect): string {
  const schema = workspaceTables[table];
  const names = ['workspace', ...schema.columns.map((c) => quoteIdent(c.name))];
  const ph = names.map((_, i) => (dialect === 'sqlite' ? '?' : `$${i + 1}`));
  return `INSERT INTO ${quoteIdent(schema.sqlName)} (${names.join(', ')}) VALUES (${ph.join(', ')})`;
}

export class StorageRowError extends Error {
  override name = 'StorageRowError';
}

/** Parse an ISO 8601 / RFC 3339 string, Date or epoch-ms number into epoch ms (UTC). */
export function toEpochMs(v: unknown): number | null {
  if (v === null || v === undefined || v === '') return null;
  if (v instanceof Date) {
    const ms = v.getTime();
    if (Number.isNaN(ms)) throw new StorageRowError('invalid Date');
    return ms;
  }
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new StorageRowError(`invalid epoch milliseconds: ${v}`);
    return Math.trunc(v);
  }
  if (typeof v === 'string') {
    const m = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?\s*(Z|[+-]\d{2}:?\d{2})?$/i.exec(v.trim());
    if (!m) throw new StorageRowError(`not an ISO 8601 datetime: ${JSON.stringify(v.slice(0, 64))}`);
    const [, y, mo, d, h = '0', mi = '0', sec = '0', frac = '', tz] = m;
    let ms = Date.UTC(+y, +mo - 1, +d, +h, +mi, +sec, Math.floor(Number((frac + '000').slice(0, 3))));
    const check = new Date(ms);
    if (check.getUTCDate() !== +d || check.getUTCMonth() !== +mo - 1 || +h > 23 || +mi > 59 || +sec > 59)
      throw new StorageRowError(`invalid datetime: ${JSON.stringify(v.slice(0, 64))}`);
    if (tz && tz.toUpperCase() !== 'Z') {
      const sign = tz[0] === '-' ? -1 : 1;
      const digits = tz.slice(1).replace(':', '');
      ms -= sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2, 4))) * 60000;
    }
    if (y.length === 4 && +y >= 0) return ms;
  }
  throw new StorageRowError(`cannot convert ${typeof v} to datetime`);
}

function storeValue(col: ColumnSchema, v: unknown, dialect: SqlDialect): unknown {
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
      return dialect === 'sqlite' ? (b ? 1 : 0) : b;
    }
    case 'int':
    case 'long': {
      if (v === null || v === undefined || v === '') return null;
      const n = typeof v === 'string' && /^\s*[+-]?\d+\s*$/.test(v) ? Number(v) : v;
      if (typeof n === 'bigint') return dialect === 'sqlite' ? n : n.toString();
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
export function toStorageRow(table: WorkspaceTableName, row: Record<string, unknown>, dialect: SqlDialect = 'sqlite'): unknown[] {
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

/** Types a query result column can have (Log Analytics names). */
export type KqlResultType = KqlColumnType | 'timespan';

/** Epoch ms → `2026-01-01T00:00:00Z` (milliseconds only when non-zero), as Log Analytics prints. */
export function formatDatetime(ms: number): string | null {
  if (!Number.isFinite(ms)) return null;
  const d = new Date(Math.round(ms));
  if (Number.isNaN(d.getTime())) return null;
  const iso = d.toISOString();
  return iso.endsWith('.000Z') ? iso.slice(0, -5) + 'Z' : iso;
}

/** Milliseconds → Kusto timespan text `[-][d.]hh:mm:ss[.fffffff]`. */
export function formatTimespan(ms: number): string {
  const neg = ms < 0;
  let rest = Math.abs(Math.round(ms));
  const days = Math.floor(rest / 86400000);
  rest -= days * 86400000;
  const h = Math.floor(rest / 3600000);
  rest -= h * 3600000;
  const m = Math.floor(rest / 60000);
  rest -= m * 60000;
  const sec = Math.floor(rest / 1000);
  const frac = rest - sec * 1000;
  const p2 = (n: number) => String(n).padStart(2, '0');
  return (neg ? '-' : '') + (days ? `${days}.` : '') + `${p2(h)}:${p2(m)}:${p2(sec)}` + (frac ? '.' + String(frac).padStart(3, '0') + '0000' : '');
}

function toNumber(v: unknown): number | null {
  if (v === null || v === undefined) return null;
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'string') {
    if (v === 'NaN') return NaN;
    if (v === 'Infinity') return Infinity;
    if (v === '-Infinity') return -Infinity;
    const n = Number(v);
    return Number.isNaN(n) ? null : n;
  }
  return null;
}

/** Non-finite reals are not JSON: Log Analytics writes them as the strings "NaN", "Infinity", "-Infinity". */
function jsonNumber(n: number): number | string {
  if (Number.isFinite(n)) return n;
  return Number.isNaN(n) ? 'NaN' : n > 0 ? 'Infinity' : '-Infinity';
}

/**
 * Convert a value read from SQL (either dialect) into the Log Analytics wire value for a column of
 * the given type: datetime → ISO 8601 string ending in Z, bool → boolean, long/int/real → number
 * (PostgreSQL returns bigint/numeric as strings), dynamic → compact JSON text (Log Analytics returns
 * dynamic values as JSON strings), timespan → `d.hh:mm:ss`, string null → "".
 */
export function fromStorageValue(type: KqlResultType, v: unknown): unknown {
  switch (type) {
    case 'string':
      if (v === null || v === undefined) return '';
      return typeof v === 'string' ? v : String(v);
    case 'datetime': {
      const n = toNumber(v);
      return n === null ? null : formatDatetime(n);
    }
    case 'timespan': {
      const n = toNumber(v);
      return n === null || !Number.isFinite(n) ? null : formatTimespan(n);
    }
    case 'bool':
      if (v === null || v === undefined) return null;
      if (typeof v === 'boolean') return v;
      if (typeof v === 'string') return v === 'true' || v === 't' || v === '1';
      return toNumber(v) !== 0;
    case 'int':
    case 'long': {
      const n = toNumber(v);
      return n === null ? null : jsonNumber(Number.isFinite(n) ? Math.trunc(n) : n);
    }
    case 'real': {
      const n = toNumber(v);
      return n === null ? null : jsonNumber(n);
    }
    case 'dynamic': {
      if (v === null || v === undefined) return null;
      if (typeof v === 'string') {
        try {
          return JSON.stringify(JSON.parse(v));
        } catch {
          return JSON.stringify(v);
        }
      }
      return JSON.stringify(v);
    }
  }
}
