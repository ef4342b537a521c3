import type { Kysely } from 'kysely';
import type { Database, WorkspacesTable } from './schema.ts';
import { ungated, type WriteGate } from './write-tx.ts';

export class WorkspaceRepo {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly write: WriteGate = ungated,
  ) {}

  async ensure(name: string): Promise<{ created: boolean }> {
    const result = await this.write(() =>
      this.db
        .insertInto('workspaces')
        .values({ name, created_at: Date.now() })
        .onConflict((oc) => oc.column('name').doNothing())
        .executeTakeFirst(),
    );
    return { created: Number(result.numInsertedOrUpdatedRows ?? 0) > 0 };
  }

  get(name: string): Promise<WorkspacesTable | undefined> {
    return this.db.selectFrom('workspaces').selectAll().where('name', '=', name).executeTakeFirst();
  }

  list(): Promise<WorkspacesTable[]> {
    return this.db.selectFrom('workspaces').selectAll().orderBy('name').execute();
  }

  async delete(name: string): Promise<boolean> {
    const result = await this.write(() => this.db.deleteFrom('workspaces').where('name', '=', name).executeTakeFirst());
    return Number(result.numDeletedRows) > 0;
  }
}
