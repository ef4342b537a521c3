/**
 * The SQLite side of durable ingest: alert rows and their jobs are written by a worker thread with its own
 * connection to the same database file. With synchronous=FULL every commit waits for an fsync (milliseconds
 * on ordinary disks); in the worker that wait no longer blocks the event loop, so the main thread keeps
 * reading requests while a batch commits and the next batch grows meanwhile (group commit).
 */
import { SqliteWriterThread } from './writer-thread.ts';
import type { AlertsTable } from './schema.ts';
import type { NewJob } from './jobs.ts';

/** One accepted alert with the delivery jobs it makes, written together. */
export interface AcceptItem {
  alert: AlertsTable;
  jobs: NewJob[];
}

/** Runs in the writer thread (writer-thread.ts): one transaction per batch, each alert with its jobs. */
const WRITER_BODY = `
db.pragma('synchronous = FULL');
const alert = db.prepare(\`INSERT INTO alerts (id, workspace, action_group, idempotency_key, family, alert_id, monitor_condition, payload, received_at)
  VALUES (@id, @workspace, @action_group, @idempotency_key, @family, @alert_id, @monitor_condition, @payload, @received_at)
  ON CONFLICT (idempotency_key) DO NOTHING\`);
const job = db.prepare(\`INSERT INTO jobs (kind, ordering_key, dedupe_key, connection_id, workspace, payload, state, attempts, max_attempts, run_at, locked_until, locked_by, last_error, created_at, updated_at)
  VALUES (@kind, @ordering_key, @dedupe_key, @connection_id, @workspace, @payload, 'pending', 0, @max_attempts, @run_at, NULL, NULL, NULL, @now, @now)
  ON CONFLICT (dedupe_key) DO NOTHING\`);
const batch = db.transaction((items) => {
  const now = Date.now();
  return items.map((it) => {
    if (alert.run(it.alert).changes === 0) return false;
    for (const j of it.jobs) job.run({ ...j, now });
    return true;
  });
});
function handle(items) { return batch.immediate(items); }
`;

export class SqliteAlertWriter {
  private readonly thread: SqliteWriterThread<AcceptItem[], boolean[]>;

  constructor(file: string) {
    this.thread = new SqliteWriterThread(file, 'the alert writer', WRITER_BODY);
  }

  write(items: AcceptItem[]): Promise<boolean[]> {
    return this.thread.call(items);
  }

  close(): Promise<void> {
    return this.thread.close();
  }
}
