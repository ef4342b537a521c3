/**
 * Worker thread of the SQLite KQL query pool (kql-query-pool.ts): its own read-only connection to the
 * store file, with the kql_* SQL functions, running one SELECT at a time. The pool terminates the thread
 * when a query passes its deadline, so a query never holds the main thread (webhooks, delivery).
 */
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { registerSqliteFunctions, setQueryDeadline } from '../workspace/kql/sqlite-functions.ts';

interface QueryMessage {
  id: number;
  sql: string;
  params: unknown[];
  /** Milliseconds left until the deadline. */
  timeoutMs: number;
}

const db = new Database((workerData as { file: string }).file, { readonly: true, fileMustExist: true });
db.pragma('busy_timeout = 5000');
registerSqliteFunctions(db);

parentPort!.on('message', (m: QueryMessage) => {
  setQueryDeadline(performance.now() + m.timeoutMs);
  try {
    const statement = db.prepare(m.sql);
    if (!statement.reader || !statement.readonly) throw new Error('only read-only statements that return rows may run here');
    const rows = statement.raw(true).all(...m.params) as unknown[][];
    parentPort!.postMessage({ id: m.id, ok: true, rows });
  } catch (err) {
    const e = err as { message?: string; code?: string; name?: string };
    parentPort!.postMessage({ id: m.id, ok: false, error: String(e?.message ?? err), code: e?.code, timeout: e?.name === 'QueryTimeoutError' });
  }
});

parentPort!.postMessage({ ready: true });
