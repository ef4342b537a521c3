import type { Kysely } from 'kysely';
import type BetterSqlite3 from 'better-sqlite3';
import type { AlertsTable, Database } from './schema.ts';
import type { RawHandle } from './open.ts';
import { SqliteAlertWriter, type AcceptItem } from './alert-writer.ts';
import type { AsyncMutex } from './write-tx.ts';

/** One accepted alert and the jobs it creates, committed together (the transactional outbox). */
export type { AcceptItem };

export class AlertRepo {
  private statements?: { alert: BetterSqlite3.Statement; job: BetterSqlite3.Statement; batch: (items: AcceptItem[]) => boolean[] };
  private writer?: SqliteAlertWriter;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly raw: RawHandle,
    private readonly writeLock?: AsyncMutex,
  ) {}

  get(id: string): Promise<AlertsTable | undefined> {
    return this.db.selectFrom('alerts').selectAll().where('id', '=', id).executeTakeFirst();
  }

  getMany(ids: string[]): Promise<AlertsTable[]> {
    if (ids.length === 0) return Promise.resolve([]);
    return this.db.selectFrom('alerts').selectAll().where('id', 'in', ids).execute();
  }

  async count(actionGroupId?: string): Promise<number> {
    let q = this.db.selectFrom('alerts').select((eb) => eb.fn.countAll<number>().as('n'));
    if (actionGroupId) q = q.where('action_group', '=', actionGroupId);
    return Number((await q.executeTakeFirst())?.n ?? 0);
  }

  /**
   * Stores alerts and their jobs in ONE transaction. An alert whose idempotency key is already stored
   * (a redelivery) is skipped with its jobs. Returns, per item, true when it was new. Several HTTP
   * requests share one call (group commit), so one fsync covers them all.
   */
  async acceptBatch(items: AcceptItem[]): Promise<boolean[]> {
    if (items.length === 0) return [];
    if (this.raw.dialect === 'sqlite') {
      // A file database: a writer thread commits, so the fsync never blocks the event loop.
      const file = this.raw.sqlite.name;
      if (file && file !== ':memory:' && !this.raw.sqlite.memory) {
        this.writer ??= new SqliteAlertWriter(file);
        const writer = this.writer;
        return this.writeLock ? this.writeLock.run(() => writer.write(items)) : writer.write(items);
      }
      const statements = this.prepare(this.raw.sqlite);
      // Hold Kysely's single SQLite connection so no Kysely transaction is open around our own.
      return this.db.connection().execute(async () => statements.batch(items));
    }
    return this.db.transaction().execute(async (trx) => {
      const accepted = new Set<string>();
      for (let i = 0; i < items.length; i += 200) {
        const rows = await trx
          .insertInto('alerts')
          .values(items.slice(i, i + 200).map((it) => it.alert))
          .onConflict((oc) => oc.column('idempotency_key').doNothing())
          .returning('idempotency_key')
          .execute();
        for (const r of rows) accepted.add(r.idempotency_key);
      }
      const now = Date.now();
      const jobs = items.filter((it) => accepted.has(it.alert.idempotency_key)).flatMap((it) => it.jobs);
      for (let i = 0; i < jobs.length; i += 200) {
        await trx
          .insertInto('jobs')
          .values(
            jobs.slice(i, i + 200).map((j) => ({
              ...j,
              state: 'pending' as const,
              attempts: 0,
              locked_until: null,
              locked_by: null,
              last_error: null,
              created_at: now,
              updated_at: now,
            })),
          )
          .onConflict((oc) => oc.column('dedupe_key').doNothing())
          .execute();
      }
      // Two copies of one alert in the same batch: the first wins, as in separate transactions.
      const seen = new Set<string>();
      return items.map((it) => {
        const key = it.alert.idempotency_key;
        if (!accepted.has(key) || seen.has(key)) return false;
        seen.add(key);
        return true;
      });
    });
  }

  /** Stops the writer thread (Store.close). */
  async close(): Promise<void> {
    await this.writer?.close();
    this.writer = undefined;
  }

  private prepare(sqlite: BetterSqlite3.Database) {
    if (this.statements) return this.statements;
    const alert = sqlite.prepare(
      `INSERT INTO alerts (id, workspace, action_group, idempotency_key, family, alert_id, monitor_condition, payload, received_at)
       VALUES (@id, @workspace, @action_group, @idempotency_key, @family, @alert_id, @monitor_condition, @payload, @received_at)
       ON CONFLICT (idempotency_key) DO NOTHING`,
    );
    const job = sqlite.prepare(
      `INSERT INTO jobs (kind, ordering_key, dedupe_key, connection_id, workspace, payload, state, attempts, max_attempts, run_at, locked_until, locked_by, last_error, created_at, updated_at)
       VALUES (@kind, @ordering_key, @dedupe_key, @connection_id, @workspace, @payload, 'pending', 0, @max_attempts, @run_at, NULL, NULL, NULL, @now, @now)
       ON CONFLICT (dedupe_key) DO NOTHING`,
    );
    const batch = sqlite.transaction((items: AcceptItem[]) => {
      const now = Date.now();
      return items.map((it) => {
        if (alert.run(it.alert).changes === 0) return false;
        for (const j of it.jobs) job.run({ ...j, now });
        return true;
      });
    });
    this.statements = { alert, job, batch: (items) => batch.immediate(items) };
    return this.statements;
  }
}
