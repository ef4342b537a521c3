import type { Kysely, Transaction } from 'kysely';
import type { Database, WorkItemLinksTable } from './schema.ts';

type Db = Kysely<Database> | Transaction<Database>;

/** What ties a dedup key to its work item in a partner (one row per key, the latest work item). */
export class LinkRepo {
  constructor(private readonly db: Kysely<Database>) {}

  get(dedupKey: string, db: Db = this.db): Promise<WorkItemLinksTable | undefined> {
    return db.selectFrom('work_item_links').selectAll().where('dedup_key', '=', dedupKey).executeTakeFirst();
  }

  /** Inserts or replaces whole rows, in one statement per 200 rows (the last row of a key wins). */
  async putMany(rows: WorkItemLinksTable[], db: Db = this.db): Promise<void> {
    const unique = [...new Map(rows.map((r) => [r.dedup_key, r])).values()];
    if (unique.length === 0) return;
    const columns = Object.keys(unique[0]).filter((c) => c !== 'dedup_key' && c !== 'created_at') as (keyof WorkItemLinksTable)[];
    for (let i = 0; i < unique.length; i += 200) {
      await db
        .insertInto('work_item_links')
        .values(unique.slice(i, i + 200))
        .onConflict((oc) => oc.column('dedup_key').doUpdateSet((eb) => Object.fromEntries(columns.map((c) => [c, eb.ref(`excluded.${c}`)]))))
        .execute();
    }
  }

  list(workspace: string, opts: { limit?: number; openOnly?: boolean } = {}): Promise<WorkItemLinksTable[]> {
    let q = this.db.selectFrom('work_item_links').selectAll().where('workspace', '=', workspace);
    if (opts.openOnly) q = q.where('closed', '=', 0);
    return q
      .orderBy('updated_at', 'desc')
      .limit(opts.limit ?? 100)
      .execute();
  }

  /** Links whose occurrence notes are still waiting (the flusher's list). */
  withPendingNotes(limit = 100): Promise<WorkItemLinksTable[]> {
    return this.db.selectFrom('work_item_links').selectAll().where('pending_occurrences', '>', 0).orderBy('updated_at').limit(limit).execute();
  }

  findByCorrelationKey(correlationKey: string): Promise<WorkItemLinksTable | undefined> {
    return this.db.selectFrom('work_item_links').selectAll().where('correlation_key', '=', correlationKey).executeTakeFirst();
  }
}
