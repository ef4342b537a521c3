import { sql, type Kysely } from 'kysely';
import type { Database, LeasesTable } from './schema.ts';
import { ungated, type WriteGate } from './write-tx.ts';

/**
 * Named leases with expiry in the `leases` table: the mutual exclusion that works the same on SQLite
 * (several processes on one file) and PostgreSQL (several connector processes on one schema). A lease is
 * taken when it is free, expired, or already ours; it is kept alive by `renew`, which page commits also
 * run inside their own transaction (a fence: a holder whose lease was taken over cannot commit).
 */
export class LeaseRepo {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly write: WriteGate = ungated,
  ) {}

  /** Takes the lease when it is free, expired or ours. True when `holder` holds it afterwards. */
  async tryAcquire(name: string, holder: string, ttlMs: number, now = Date.now()): Promise<boolean> {
    const expires = now + ttlMs;
    const rows = await this.write(() =>
      this.db
        .insertInto('leases')
        .values({ name, holder, expires_at: expires })
        .onConflict((oc) =>
          oc
            .column('name')
            .doUpdateSet({ holder, expires_at: expires })
            .where((eb) => eb.or([eb('leases.expires_at', '<=', now), eb('leases.holder', '=', holder)])),
        )
        .returning('holder')
        .execute(),
    );
    return rows.length === 1 && rows[0].holder === holder;
  }

  /** Takes over a lease from a holder known to be dead (same host, process gone), whatever its expiry. */
  async takeOver(name: string, deadHolder: string, holder: string, ttlMs: number, now = Date.now()): Promise<boolean> {
    const result = await this.write(() =>
      this.db
        .updateTable('leases')
        .set({ holder, expires_at: now + ttlMs })
        .where('name', '=', name)
        .where('holder', '=', deadHolder)
        .executeTakeFirst(),
    );
    return Number(result.numUpdatedRows) === 1;
  }

  /** Extends a lease we hold; false when it expired and someone else took it (stop working then). */
  async renew(name: string, holder: string, ttlMs: number, now = Date.now()): Promise<boolean> {
    const result = await this.write(() =>
      this.db
        .updateTable('leases')
        .set({ expires_at: now + ttlMs })
        .where('name', '=', name)
        .where('holder', '=', holder)
        .executeTakeFirst(),
    );
    return Number(result.numUpdatedRows) === 1;
  }

  async release(name: string, holder: string): Promise<void> {
    await this.write(() => this.db.deleteFrom('leases').where('name', '=', name).where('holder', '=', holder).execute());
  }

  get(name: string): Promise<LeasesTable | undefined> {
    return this.db.selectFrom('leases').selectAll().where('name', '=', name).executeTakeFirst();
  }

  /** Removes leases named `<prefix>…` that expired before `before` (housekeeping; correctness never depends on it). */
  async purgeExpired(prefix: string, before: number): Promise<number> {
    const result = await this.write(() =>
      sql`DELETE FROM leases WHERE name LIKE ${prefix.replace(/[%_\\]/g, '\\$&') + '%'} ESCAPE '\\' AND expires_at < ${before}`.execute(this.db),
    );
    return Number(result.numAffectedRows ?? 0);
  }
}
