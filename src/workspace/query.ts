/**
 * Run a KQL query against a workspace: parse (Kusto.Language) → subset check → compile to one SQL
 * SELECT → execute through a `SqlRunner` → Azure Monitor Logs result format.
 *
 * Runner contract (implemented by the store for production, by `kql/test-helpers.ts` for tests):
 *  - execute exactly the one SELECT statement given, with the bound parameters, and return rows as
 *    arrays in select-list order (better-sqlite3 `.raw()`, pg `rowMode: 'array'`);
 *  - SQLite: call `registerSqliteFunctions(db)` (kql/sqlite-functions.ts) on the connection. There is
 *    no way to interrupt a running better-sqlite3 statement from the same thread, so enforce
 *    `timeoutMs` cooperatively: iterate the statement (`stmt.raw().iterate()`) and throw
 *    `QueryTimeoutError` once the deadline passes between rows (a long aggregate that returns one
 *    row is only stopped after it finishes); prefer running queries on a read-only connection;
 *  - PostgreSQL: `BEGIN READ ONLY; SET LOCAL statement_timeout = <timeoutMs>; <query>; COMMIT` with
 *    the workspace tables' schema on the search_path (it needs `kql_todatetime` from
 *    `createWorkspaceTablesSql('postgres')`); PostgreSQL's cancellation (SQLSTATE 57014) is reported
 *    as QueryTimeout.
 */
import { compileKql, type CompiledQuery } from './kql/compile.ts';
import { KqlError, type KqlErrorCode } from './kql/errors.ts';
import { parseKql } from './kql/parse.ts';
import type { Query } from './kql/ast.ts';
import { checkSubset } from './kql/subset.ts';
import { fromStorageValue, type KqlResultType } from './tables.ts';

export { KqlError } from './kql/errors.ts';
export type { KqlErrorCode, KqlPosition } from './kql/errors.ts';
export { warmUpKql } from './kql/parse.ts';
export { registerSqliteFunctions } from './kql/sqlite-functions.ts';

export interface SqlRunner {
  dialect: 'sqlite' | 'postgres';
  query(sql: string, params: unknown[], opts?: { timeoutMs?: number }): Promise<{ rows: unknown[][] }>;
  /** Start what the first query needs (a query thread) ahead of it. */
  warm?(): void;
}

export interface LogsQueryResult {
  tables: { name: 'PrimaryResult'; columns: { name: string; type: string }[]; rows: unknown[][] }[];
  /** From a trailing `render` operator: a visualization hint, no effect on the data. */
  render?: { visualization: string; properties?: Record<string, string> };
  /** True when more rows matched than `rowCap`; `rows` then holds the first `rowCap`. */
  truncated?: boolean;
  /** The row cap in force for this query. */
  rowCap: number;
  /** Wall-clock milliseconds spent in the database. */
  executionMs: number;
}

export interface RunKqlOptions {
  /** ISO 8601 duration (`P1D`, `PT12H`) or interval (`start/end`, `start/duration`, `duration/end`). */
  timespan?: string;
  rowCap?: number;
  timeoutMs?: number;
  now?: Date;
}

/** Log Analytics returns at most 500,000 rows per query. */
export const DEFAULT_ROW_CAP = 500_000;
export const DEFAULT_TIMEOUT_MS = 60_000;

const WORKSPACE_NAME = /^[a-z0-9-]{1,63}$/;

/** Thrown by runners when the time limit is reached. */
export class QueryTimeoutError extends Error {
  override name = 'QueryTimeoutError';
}

// ---------------------------------------------------------------------------------------------

const DURATION =
  /^(-)?P(?:(\d+(?:[.,]\d+)?)Y)?(?:(\d+(?:[.,]\d+)?)M)?(?:(\d+(?:[.,]\d+)?)W)?(?:(\d+(?:[.,]\d+)?)D)?(?:T(?:(\d+(?:[.,]\d+)?)H)?(?:(\d+(?:[.,]\d+)?)M)?(?:(\d+(?:[.,]\d+)?)S)?)?$/i;

/** ISO 8601 duration → milliseconds (years = 365 days, months = 30 days), or undefined. */
export function parseIsoDuration(text: string): number | undefined {
  const m = DURATION.exec(text.trim());
  if (!m || text.trim().toUpperCase() === 'P' || /T$/i.test(text.trim())) return undefined;
  const n = (i: number) => (m[i] ? Number(m[i].replace(',', '.')) : 0);
  const ms = n(2) * 365 * 86400000 + n(3) * 30 * 86400000 + n(4) * 7 * 86400000 + n(5) * 86400000 + n(6) * 3600000 + n(7) * 60000 + n(8) * 1000;
  if (!Number.isFinite(ms)) return undefined;
  return m[1] ? -ms : ms;
}

function parseIsoInstant(text: string): number | undefined {
  const t = text.trim();
  if (!/^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z|[+-]\d{2}:?\d{2})?$/i.test(t)) return undefined;
  const withZone = /[T ]\d{2}:\d{2}/.test(t) && !/(Z|[+-]\d{2}:?\d{2})$/i.test(t) ? t + 'Z' : t;
  const ms = Date.parse(withZone.replace(' ', 'T'));
  return Number.isNaN(ms) ? undefined : ms;
}

/** The Logs API `timespan` → inclusive [start, end] in epoch ms. */
export function parseTimespanOption(timespan: string, now: Date): { start: number; end: number } {
  const bad = () =>
    new KqlError(
      'BadArgumentError',
      `Invalid timespan ${JSON.stringify(timespan.slice(0, 100))}: expected an ISO 8601 duration (P1D) or interval (start/end)`,
      { innerCode: 'InvalidTimespan' },
    );
  const nowMs = now.getTime();
  const parts = timespan.split('/');
  if (parts.length === 1) {
    const d = parseIsoDuration(parts[0]);
    if (d === undefined || d < 0) throw bad();
    return { start: nowMs - d, end: nowMs };
  }
  if (parts.length !== 2) throw bad();
  const [a, b] = parts;
  const sa = parseIsoInstant(a);
  const sb = parseIsoInstant(b);
  let range: { start: number; end: number } | undefined;
  if (sa !== undefined && sb !== undefined) range = { start: sa, end: sb };
  else if (sa !== undefined) {
    const d = parseIsoDuration(b);
    if (d !== undefined && d >= 0) range = { start: sa, end: sa + d };
  } else if (sb !== undefined) {
    const d = parseIsoDuration(a);
    if (d !== undefined && d >= 0) range = { start: sb - d, end: sb };
  }
  if (!range || range.start > range.end) throw bad();
  return range;
}

// ---------------------------------------------------------------------------------------------

export interface TranslateOptions {
  dialect: 'sqlite' | 'postgres';
  workspace: string;
  now?: Date;
  timespan?: string;
  rowCap?: number;
}

/** Parsed and checked queries by text: dashboards re-run the same tiles, and Kusto's semantic
 * analysis costs 2–10 ms per query (the AST does not depend on workspace, time range or now()). */
const AST_CACHE_SIZE = 256;
const astCache = new Map<string, Query>();

function parseChecked(kql: string): Query {
  const hit = astCache.get(kql);
  if (hit) {
    astCache.delete(kql);
    astCache.set(kql, hit);
    return hit;
  }
  const ast = parseKql(kql);
  checkSubset(ast);
  if (kql.length <= 10_000) {
    if (astCache.size >= AST_CACHE_SIZE) astCache.delete(astCache.keys().next().value as string);
    astCache.set(kql, ast);
  }
  return ast;
}

/** Parse, check and compile without executing (also used by tests and `explain`-style tooling). */
export function translateKql(kql: string, opts: TranslateOptions): CompiledQuery {
  if (typeof opts.workspace !== 'string' || !WORKSPACE_NAME.test(opts.workspace)) {
    throw new KqlError('BadArgumentError', 'Invalid workspace name', { innerCode: 'InvalidWorkspace' });
  }
  const now = opts.now ?? new Date();
  const timeRange = opts.timespan !== undefined && opts.timespan !== '' ? parseTimespanOption(opts.timespan, now) : undefined;
  const ast = parseChecked(kql);
  try {
    return compileKql(ast, { dialect: opts.dialect, workspace: opts.workspace, now, timeRange, rowCap: opts.rowCap });
  } catch (e) {
    if (e instanceof KqlError) throw e;
    throw new KqlError('UnsupportedError', `The query could not be translated (${e instanceof RangeError ? 'too complex' : 'internal error'})`, {
      innerCode: 'UNS0000',
    });
  }
}

function isTimeout(e: unknown): boolean {
  if (e instanceof QueryTimeoutError) return true;
  const err = e as { name?: string; code?: string } | null;
  return !!err && (err.name === 'QueryTimeoutError' || err.code === '57014' || err.code === 'SQLITE_INTERRUPT');
}

export async function runKql(runner: SqlRunner, workspace: string, kql: string, opts: RunKqlOptions = {}): Promise<LogsQueryResult> {
  const rowCap = Math.max(0, Math.floor(opts.rowCap ?? DEFAULT_ROW_CAP));
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const compiled = translateKql(kql, { dialect: runner.dialect, workspace, now: opts.now, timespan: opts.timespan, rowCap });
  const started = performance.now();
  let rows: unknown[][];
  try {
    rows = (await runner.query(compiled.sql, compiled.params, { timeoutMs })).rows;
  } catch (e) {
    if (isTimeout(e)) throw new KqlError('QueryTimeout', `The query did not finish within ${timeoutMs} ms`, { innerCode: 'QueryTimeout' });
    const msg = e instanceof Error ? e.message.split('\n')[0].slice(0, 200) : 'unknown error';
    throw new KqlError('BadArgumentError', `The query failed during execution: ${msg}`, { innerCode: 'QueryExecutionError' });
  }
  const executionMs = performance.now() - started;
  const truncated = rows.length > rowCap;
  if (truncated) rows = rows.slice(0, rowCap);
  const types = compiled.columns.map((c) => c.type as KqlResultType);
  const out = rows.map((r) => types.map((t, i) => fromStorageValue(t, r[i])));
  const result: LogsQueryResult = {
    tables: [{ name: 'PrimaryResult', columns: compiled.columns.map((c) => ({ name: c.name, type: c.type })), rows: out }],
    rowCap,
    executionMs,
  };
  if (truncated) result.truncated = true;
  if (compiled.render) {
    result.render = { visualization: compiled.render.visualization };
    if (Object.keys(compiled.render.properties).length) result.render.properties = compiled.render.properties;
  }
  return result;
}

// ---------------------------------------------------------------------------------------------

export interface LogsErrorBody {
  error: {
    message: string;
    code: string;
    correlationId?: string;
    innererror?: {
      code: string;
      message: string;
      innererror?: { code: string; message: string; line?: number; pos?: number; offset?: number; length?: number };
    };
  };
}

const INNER_SUMMARY: Partial<Record<KqlErrorCode, string>> = {
  SyntaxError: 'A recognition error occurred in the query.',
  SemanticError: 'A semantic error occurred.',
  UnsupportedError: 'The query uses a feature this workspace does not support.',
  BadArgumentError: 'The request had some invalid properties.',
  QueryTimeout: 'The query exceeded the time limit.',
};

/** HTTP status the Logs API should answer with for an error from `runKql`. */
export function logsErrorStatus(e: unknown): number {
  if (!(e instanceof KqlError)) return 500;
  if (e.code === 'QueryTimeout') return 504;
  if (e.code === 'InternalError') return 500;
  return 400;
}

/** An error from `runKql` in Log Analytics' error shape (`{"error":{"code","message",…,"innererror"}}`). */
export function toLogsError(e: unknown, correlationId?: string): LogsErrorBody {
  if (!(e instanceof KqlError)) {
    return { error: { message: 'An internal error occurred', code: 'InternalServerError', ...(correlationId ? { correlationId } : {}) } };
  }
  const top =
    e.code === 'QueryTimeout'
      ? { code: 'GatewayTimeout', message: 'The query timed out' }
      : e.code === 'InternalError'
        ? { code: 'InternalServerError', message: 'An internal error occurred' }
        : { code: 'BadArgumentError', message: 'The request had some invalid properties' };
  const detail: { code: string; message: string; line?: number; pos?: number; offset?: number; length?: number } = {
    code: e.innerCode ?? e.code,
    message: e.message,
  };
  if (e.position) {
    detail.line = e.position.line;
    detail.pos = e.position.column;
    detail.offset = e.position.offset;
    if (e.length !== undefined) detail.length = e.length;
  }
  return {
    error: {
      message: top.message,
      code: top.code,
      ...(correlationId ? { correlationId } : {}),
      innererror: { code: e.code, message: INNER_SUMMARY[e.code] ?? e.message, innererror: detail },
    },
  };
}
