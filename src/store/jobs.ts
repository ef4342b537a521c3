import { sql, type Kysely, type Selectable, type Transaction } from 'kysely';
import type { Database, JobsTable } from './schema.ts';
import { storeDialect, type Dialect } from './dialect.ts';
import { LeaseLostError } from './lease-lost.ts';
import { writeTransaction, type AsyncMutex } from './write-tx.ts';

/**
 * The outbox: every partner call is a job row. Invariants the delivery engine relies on:
 * - Per ordering key, only the oldest unfinished job (pending or running) can be claimed, and never while
 *   another job of that key runs under a live lease: one job at a time per key, in id order.
 * - A claim sets `locked_by` and `locked_until`; every later write about the job (ack, fail, release,
 *   extend) is fenced on `locked_by`, so a worker whose lease was taken over cannot overwrite the new owner.
 * - On PostgreSQL the claim uses `FOR UPDATE SKIP LOCKED`, so several processes share the queue.
 * - Finished jobs are deleted (the alert row and the workspace outcome rows are the history); dead jobs
 *   stay until replayed.
 */
export type JobRow = Selectable<JobsTable>;

export interface NewJob {
  kind: string;
  ordering_key: string;
  dedupe_key: string;
  connection_id: string | null;
  workspace: string | null;
  payload: string;
  max_attempts: number;
  run_at: number;
}

export interface ClaimOptions {
  workerId: string;
  /** Job kinds this worker handles. */
  kinds: string[];
  /** Most ordering keys (groups) to claim. */
  limit: number;
  /** Most jobs of one key to claim together (coalescing). 1 = only the head. */
  maxBatch: number;
  leaseMs: number;
  now?: number;
  /** Connections whose jobs must not be claimed now (circuit open, paused by a 429, no free slot). */
  excludeConnections?: string[];
  /**
   * Kinds whose jobs, while pending and not yet due, do not hold up their key (scheduled housekeeping such
   * as a coalesced-note flush: later alerts of the key pass it; once due it runs in its id order).
   */
  deferrableKinds?: string[];
  /** Ordering keys this worker is busy with (their jobs cannot be heads): skipped cheaply by the scan. */
  skipKeys?: string[];
  /** Free slots per connection; a connection not listed has `defaultSlots`. */
  slots?: Map<string, number>;
  defaultSlots?: number;
  /** Look for jobs whose worker died (lease expired) too (default true); they are rare, so callers may look less often. */
  includeExpired?: boolean;
}

export interface JobCounts {
  pending: number;
  running: number;
  dead: number;
}

export { LeaseLostError };

type Db = Kysely<Database> | Transaction<Database>;
export type { Db as JobsDb };

export class JobRepo {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly dialect: Dialect,
    private readonly writeLock?: AsyncMutex,
  ) {}

  /** A write outside a caller's transaction takes its turn with the other writers (SQLite; see write-tx.ts). */
  private locked<T>(db: Db, fn: () => Promise<T>): Promise<T> {
    return this.writeLock && storeDialect(this.dialect).serialisesWrites && db === this.db ? this.writeLock.runDurably(fn) : fn();
  }

  /** Inserts jobs; a job whose dedupe_key exists is ignored. Returns how many were inserted. */
  async enqueue(jobs: NewJob[], db: Db = this.db): Promise<number> {
    return this.locked(db, async () => {
      if (jobs.length === 0) return 0;
      const now = Date.now();
      let inserted = 0;
      for (let i = 0; i < jobs.length; i += 500) {
        const chunk = jobs.slice(i, i + 500).map((j) => ({
          ...j,
          state: 'pending' as const,
          attempts: 0,
          locked_until: null,
          locked_by: null,
          last_error: null,
          created_at: now,
          updated_at: now,
        }));
        const result = await db
          .insertInto('jobs')
          .values(chunk)
          .onConflict((oc) => oc.column('dedupe_key').doNothing())
          .executeTakeFirst();
        inserted += Number(result.numInsertedOrUpdatedRows ?? 0);
      }
      return inserted;
    });
  }

  /**
   * Claims up to `limit` ordering keys: each key's head job plus up to `maxBatch - 1` jobs queued behind
   * it, all marked running under one lease, attempts + 1. Returns one array per key, in id order.
   * A head that was already claimed `max_attempts` times through lease expiry (a job that kills its
   * worker) goes to the dead letters instead.
   */
  async claim(opts: ClaimOptions): Promise<JobRow[][]> {
    const now = opts.now ?? Date.now();
    if (opts.limit <= 0 || opts.kinds.length === 0) return [];
    return writeTransaction(
      this.db,
      this.dialect,
      async (trx) => {
        const kinds = sql.join(opts.kinds.map((k) => sql`${k}`));
        const exclude = opts.excludeConnections?.length
          ? sql`AND (j.connection_id IS NULL OR j.connection_id NOT IN (${sql.join(opts.excludeConnections.map((c) => sql`${c}`))}))`
          : sql``;
        const lock = sql.raw(storeDialect(this.dialect).forUpdateSkipLocked('j'));
        const deferrable = opts.deferrableKinds?.length ? sql.join(opts.deferrableKinds.map((k) => sql`${k}`)) : null;
        const notBlocking = deferrable ? sql`AND NOT (p.state = 'pending' AND p.run_at > ${now} AND p.kind IN (${deferrable}))` : sql``;
        const notDeferred = deferrable ? sql`AND NOT (state = 'pending' AND run_at > ${now} AND kind IN (${deferrable}))` : sql``;
        const skip = opts.skipKeys?.length ? sql`AND j.ordering_key NOT IN (${sql.join(opts.skipKeys.map((k) => sql`${k}`))})` : sql``;
        const scan = opts.limit * 2 + 8;
        // A head: no live running job of its key, and no unfinished job of its key before it.
        const isHead = sql`
          AND NOT EXISTS (SELECT 1 FROM jobs p WHERE p.ordering_key = j.ordering_key AND p.state = 'running' AND p.locked_until > ${now})
          AND NOT EXISTS (SELECT 1 FROM jobs p WHERE p.ordering_key = j.ordering_key AND p.state IN ('pending', 'running') AND p.id < j.id ${notBlocking})`;
        // Jobs of a worker that died (lease expired) first; they are few. Then due jobs in run_at order,
        // walking the (state, run_at, ordering_key) index so that keys known to be busy cost no row lookups.
        const expired =
          opts.includeExpired === false
            ? { rows: [] as JobRow[] }
            : await sql<JobRow>`
        SELECT j.* FROM jobs j
        WHERE j.state = 'running' AND j.locked_until <= ${now} AND j.kind IN (${kinds}) ${isHead} ${exclude}
        ORDER BY j.id LIMIT ${scan} ${lock}`.execute(trx);
        const due = await sql<JobRow>`
        SELECT j.* FROM jobs j
        WHERE j.state = 'pending' AND j.run_at <= ${now} ${skip} AND j.kind IN (${kinds}) ${isHead} ${exclude}
        ORDER BY j.run_at LIMIT ${scan} ${lock}`.execute(trx);
        const heads = { rows: [...expired.rows, ...due.rows] };

        const slots = new Map(opts.slots);
        const chosen: JobRow[] = [];
        const dead: JobRow[] = [];
        const seenKeys = new Set<string>();
        for (const head of heads.rows) {
          if (chosen.length >= opts.limit) break;
          if (seenKeys.has(head.ordering_key)) continue;
          seenKeys.add(head.ordering_key);
          if (head.state === 'running' && head.attempts >= head.max_attempts) {
            dead.push(head);
            continue;
          }
          const conn = head.connection_id ?? '';
          const free = slots.get(conn) ?? opts.defaultSlots ?? Infinity;
          if (free <= 0) continue;
          slots.set(conn, free - 1);
          chosen.push(head);
        }
        if (dead.length) {
          await trx
            .updateTable('jobs')
            .set({
              state: 'dead',
              locked_by: null,
              locked_until: null,
              updated_at: now,
              last_error: sql`COALESCE(last_error, '') || ${' (its worker stopped before finishing it on every attempt)'}` as any,
            })
            .where(
              'id',
              'in',
              dead.map((d) => d.id),
            )
            .execute();
        }
        // The jobs queued behind every chosen head, in one statement (on PostgreSQL each statement is a round trip):
        // per key its first `maxBatch` unfinished jobs, the head being the first. They need no row lock: while their
        // head is unfinished no other claim can take them (they are not heads), and the update below marks them.
        const behind = new Map<string, JobRow[]>();
        if (opts.maxBatch > 1 && chosen.length > 0) {
          const keys = sql.join(chosen.map((h) => sql`${h.ordering_key}`));
          const rows = await sql<JobRow & { rn: number }>`
            SELECT * FROM (
              SELECT jobs.*, ROW_NUMBER() OVER (PARTITION BY ordering_key ORDER BY id) AS rn FROM jobs
              WHERE ordering_key IN (${keys}) AND state IN ('pending', 'running') AND kind IN (${kinds}) ${notDeferred}
            ) queued WHERE rn <= ${opts.maxBatch} ORDER BY ordering_key, id`.execute(trx);
          for (const { rn: _rn, ...job } of rows.rows) {
            const list = behind.get(job.ordering_key) ?? [];
            list.push(job);
            behind.set(job.ordering_key, list);
          }
        }
        const groups: JobRow[][] = chosen.map((head) => [
          head,
          ...(behind.get(head.ordering_key) ?? []).filter((j) => Number(j.id) > Number(head.id)).slice(0, opts.maxBatch - 1),
        ]);
        const ids = groups.flat().map((j) => j.id);
        const lockedUntil = now + opts.leaseMs;
        for (let i = 0; i < ids.length; i += 500) {
          await trx
            .updateTable('jobs')
            .set({ state: 'running', locked_by: opts.workerId, locked_until: lockedUntil, attempts: sql`attempts + 1` as any, updated_at: now })
            .where('id', 'in', ids.slice(i, i + 500))
            .execute();
        }
        return groups.map((g) =>
          g.map((j) => ({ ...j, state: 'running' as const, locked_by: opts.workerId, locked_until: lockedUntil, attempts: j.attempts + 1 })),
        );
      },
      this.writeLock,
    );
  }

  /**
   * Which of these jobs this worker still holds (the fence before committing their outcome). On PostgreSQL the
   * rows stay locked until the caller's transaction ends, so no claim can take them meanwhile.
   */
  async ownedIds(ids: number[], workerId: string, db: Db = this.db): Promise<Set<number>> {
    const owned = new Set<number>();
    for (let i = 0; i < ids.length; i += 500) {
      const lock = sql.raw(storeDialect(this.dialect).forUpdate);
      const rows = await sql<{
        id: number;
      }>`SELECT id FROM jobs WHERE id IN (${sql.join(ids.slice(i, i + 500))}) AND locked_by = ${workerId} AND state = 'running' ${lock}`.execute(db);
      for (const r of rows.rows) owned.add(Number(r.id));
    }
    return owned;
  }

  /** Finished: deletes the jobs. Throws LeaseLostError (so the caller's transaction rolls back) when any is no longer ours. */
  async ack(ids: number[], workerId: string, db: Db = this.db): Promise<void> {
    return this.locked(db, async () => {
      if (ids.length === 0) return;
      let n = 0;
      for (let i = 0; i < ids.length; i += 500) {
        const r = await db
          .deleteFrom('jobs')
          .where('id', 'in', ids.slice(i, i + 500))
          .where('locked_by', '=', workerId)
          .where('state', '=', 'running')
          .executeTakeFirst();
        n += Number(r.numDeletedRows);
      }
      if (n !== ids.length) throw new LeaseLostError(`${ids.length - n} of ${ids.length} jobs were taken over by another worker`);
    });
  }

  /**
   * Failed attempt: back to pending at `runAt`, or dead. `refund` gives the attempt back (the partner
   * said "later", e.g. a 429 or an expired sign-in: not the job's fault). Fenced; returns false when lost.
   */
  async fail(ids: number[], workerId: string, how: { error: string; runAt: number; dead?: boolean; refund?: boolean }, db: Db = this.db): Promise<boolean> {
    return this.locked(db, async () => {
      if (ids.length === 0) return true;
      const r = await db
        .updateTable('jobs')
        .set({
          state: how.dead ? 'dead' : 'pending',
          run_at: how.runAt,
          locked_by: null,
          locked_until: null,
          last_error: how.error.slice(0, 4000),
          updated_at: Date.now(),
          ...(how.refund ? { attempts: sql`CASE WHEN attempts > 0 THEN attempts - 1 ELSE 0 END` as any } : {}),
        })
        .where('id', 'in', ids)
        .where('locked_by', '=', workerId)
        .where('state', '=', 'running')
        .executeTakeFirst();
      return Number(r.numUpdatedRows) === ids.length;
    });
  }

  /** Gives jobs back unprocessed (shutdown, circuit opened after the claim): the attempt is refunded. */
  async release(ids: number[], workerId: string, runAt = Date.now()): Promise<void> {
    return this.locked(this.db, async () => {
      if (ids.length === 0) return;
      await this.db
        .updateTable('jobs')
        .set({
          state: 'pending',
          run_at: runAt,
          locked_by: null,
          locked_until: null,
          updated_at: Date.now(),
          attempts: sql`CASE WHEN attempts > 0 THEN attempts - 1 ELSE 0 END` as any,
        })
        .where('id', 'in', ids)
        .where('locked_by', '=', workerId)
        .where('state', '=', 'running')
        .execute();
    });
  }

  /** Heartbeat: keeps the lease of jobs still being worked on. */
  async extend(ids: number[], workerId: string, until: number): Promise<number> {
    return this.locked(this.db, async () => {
      if (ids.length === 0) return 0;
      let n = 0;
      for (let i = 0; i < ids.length; i += 500) {
        const r = await this.db
          .updateTable('jobs')
          .set({ locked_until: until })
          .where('id', 'in', ids.slice(i, i + 500))
          .where('locked_by', '=', workerId)
          .where('state', '=', 'running')
          .executeTakeFirst();
        n += Number(r.numUpdatedRows);
      }
      return n;
    });
  }

  /** Pending jobs of a connection waiting for a later retry become due now (the connection works again). */
  async resumeConnection(connectionId: string, kinds: string[], now = Date.now()): Promise<number> {
    return this.locked(this.db, async () => {
      const r = await this.db
        .updateTable('jobs')
        .set({ run_at: now, updated_at: now })
        .where('connection_id', '=', connectionId)
        .where('state', '=', 'pending')
        .where('kind', 'in', kinds)
        .where('run_at', '>', now)
        .executeTakeFirst();
      return Number(r.numUpdatedRows);
    });
  }

  /** Earliest time a pending job of these kinds becomes due (the idle worker sleeps until then). */
  async nextRunAt(kinds: string[]): Promise<number | null> {
    const row = await this.db
      .selectFrom('jobs')
      .select((eb) => eb.fn.min('run_at').as('t'))
      .where('state', '=', 'pending')
      .where('kind', 'in', kinds)
      .executeTakeFirst();
    return row?.t === null || row?.t === undefined ? null : Number(row.t);
  }

  get(id: number): Promise<JobRow | undefined> {
    return this.db.selectFrom('jobs').selectAll().where('id', '=', id).executeTakeFirst();
  }

  listDead(workspace: string, opts: { limit?: number; afterId?: number; connectionId?: string } = {}): Promise<JobRow[]> {
    let q = this.db.selectFrom('jobs').selectAll().where('workspace', '=', workspace).where('state', '=', 'dead');
    if (opts.afterId !== undefined) q = q.where('id', '>', opts.afterId);
    if (opts.connectionId) q = q.where('connection_id', '=', opts.connectionId);
    return q
      .orderBy('id')
      .limit(opts.limit ?? 100)
      .execute();
  }

  /** Jobs waiting or being worked on (pending, running), oldest first: what the queue holds now. */
  listWaiting(workspace: string, opts: { limit?: number; afterId?: number; connectionId?: string } = {}): Promise<JobRow[]> {
    let q = this.db.selectFrom('jobs').selectAll().where('workspace', '=', workspace).where('state', 'in', ['pending', 'running']);
    if (opts.afterId !== undefined) q = q.where('id', '>', opts.afterId);
    if (opts.connectionId) q = q.where('connection_id', '=', opts.connectionId);
    return q
      .orderBy('id')
      .limit(opts.limit ?? 100)
      .execute();
  }

  /** Dead → pending with fresh attempts. Returns the number replayed. */
  async replay(workspace: string, opts: { id?: number; connectionId?: string } = {}): Promise<number> {
    return this.locked(this.db, async () => {
      let q = this.db
        .updateTable('jobs')
        .set({ state: 'pending', attempts: 0, run_at: Date.now(), locked_by: null, locked_until: null, updated_at: Date.now() })
        .where('workspace', '=', workspace)
        .where('state', '=', 'dead');
      if (opts.id !== undefined) q = q.where('id', '=', opts.id);
      if (opts.connectionId) q = q.where('connection_id', '=', opts.connectionId);
      const r = await q.executeTakeFirst();
      return Number(r.numUpdatedRows);
    });
  }

  async deleteDead(workspace: string, id: number): Promise<boolean> {
    return this.locked(this.db, async () => {
      const r = await this.db.deleteFrom('jobs').where('workspace', '=', workspace).where('state', '=', 'dead').where('id', '=', id).executeTakeFirst();
      return Number(r.numDeletedRows) > 0;
    });
  }

  async counts(workspace?: string): Promise<JobCounts> {
    let q = this.db
      .selectFrom('jobs')
      .select(['state', (eb) => eb.fn.countAll<number>().as('n')])
      .groupBy('state');
    if (workspace !== undefined) q = q.where('workspace', '=', workspace);
    const rows = await q.execute();
    const out: JobCounts = { pending: 0, running: 0, dead: 0 };
    for (const r of rows) if (r.state in out) out[r.state as keyof JobCounts] = Number(r.n);
    return out;
  }

  /** Job counts by connection and state (the dashboard's queue depth per connection). */
  async countsByConnection(workspace: string): Promise<{ connectionId: string | null; counts: JobCounts }[]> {
    const rows = await this.db
      .selectFrom('jobs')
      .select(['connection_id', 'state', (eb) => eb.fn.countAll<number>().as('n')])
      .where('workspace', '=', workspace)
      .groupBy(['connection_id', 'state'])
      .execute();
    const by = new Map<string | null, JobCounts>();
    for (const r of rows) {
      const c = by.get(r.connection_id) ?? { pending: 0, running: 0, dead: 0 };
      if (r.state in c) c[r.state as keyof JobCounts] = Number(r.n);
      by.set(r.connection_id, c);
    }
    return [...by].map(([connectionId, counts]) => ({ connectionId, counts }));
  }

  /** Jobs not finished (pending or running) of some kinds: the tests' and benchmarks' "drained" check. */
  async unfinished(kinds?: string[]): Promise<number> {
    let q = this.db
      .selectFrom('jobs')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('state', 'in', ['pending', 'running']);
    if (kinds) q = q.where('kind', 'in', kinds);
    const row = await q.executeTakeFirst();
    return Number(row?.n ?? 0);
  }
}
