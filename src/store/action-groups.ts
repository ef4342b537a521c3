import type { Kysely, Updateable } from 'kysely';
import type { ActionGroupsTable, Database } from './schema.ts';
import { ungated, type WriteGate } from './write-tx.ts';

export class ActionGroupRepo {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly write: WriteGate = ungated,
  ) {}

  get(workspace: string, name: string): Promise<ActionGroupsTable | undefined> {
    return this.db.selectFrom('action_groups').selectAll().where('workspace', '=', workspace).where('name', '=', name).executeTakeFirst();
  }

  getById(id: string): Promise<ActionGroupsTable | undefined> {
    return this.db.selectFrom('action_groups').selectAll().where('id', '=', id).executeTakeFirst();
  }

  /** The webhook endpoint finds its action group by the SHA-256 of the secret in the URL. */
  getBySecretHash(hash: string): Promise<ActionGroupsTable | undefined> {
    return this.db.selectFrom('action_groups').selectAll().where('webhook_secret_hash', '=', hash).executeTakeFirst();
  }

  list(workspace: string): Promise<ActionGroupsTable[]> {
    return this.db.selectFrom('action_groups').selectAll().where('workspace', '=', workspace).orderBy('name').execute();
  }

  listAll(): Promise<ActionGroupsTable[]> {
    return this.db.selectFrom('action_groups').selectAll().orderBy('workspace').orderBy('name').execute();
  }

  async insert(row: ActionGroupsTable): Promise<void> {
    await this.write(() => this.db.insertInto('action_groups').values(row).execute());
  }

  async update(id: string, changes: Updateable<ActionGroupsTable>): Promise<void> {
    await this.write(() =>
      this.db
        .updateTable('action_groups')
        .set({ ...changes, updated_at: Date.now() })
        .where('id', '=', id)
        .execute(),
    );
  }

  async delete(id: string): Promise<boolean> {
    const result = await this.write(() => this.db.deleteFrom('action_groups').where('id', '=', id).executeTakeFirst());
    return Number(result.numDeletedRows) > 0;
  }
}
