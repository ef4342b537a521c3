import type { Kysely, Updateable } from 'kysely';
import type { ConnectionsTable, Database } from './schema.ts';
import { ungated, type WriteGate } from './write-tx.ts';

export class ConnectionRepo {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly write: WriteGate = ungated,
  ) {}

  get(workspace: string, name: string): Promise<ConnectionsTable | undefined> {
    return this.db.selectFrom('connections').selectAll().where('workspace', '=', workspace).where('name', '=', name).executeTakeFirst();
  }

  getById(id: string): Promise<ConnectionsTable | undefined> {
    return this.db.selectFrom('connections').selectAll().where('id', '=', id).executeTakeFirst();
  }

  list(workspace: string): Promise<ConnectionsTable[]> {
    return this.db.selectFrom('connections').selectAll().where('workspace', '=', workspace).orderBy('name').execute();
  }

  listAll(): Promise<ConnectionsTable[]> {
    return this.db.selectFrom('connections').selectAll().orderBy('workspace').orderBy('name').execute();
  }

  async insert(row: ConnectionsTable): Promise<void> {
    await this.write(() => this.db.insertInto('connections').values(row).execute());
  }

  async update(id: string, changes: Updateable<ConnectionsTable>): Promise<void> {
    await this.write(() =>
      this.db
        .updateTable('connections')
        .set({ ...changes, updated_at: Date.now() })
        .where('id', '=', id)
        .execute(),
    );
  }

  async delete(id: string): Promise<boolean> {
    const result = await this.write(() => this.db.deleteFrom('connections').where('id', '=', id).executeTakeFirst());
    return Number(result.numDeletedRows) > 0;
  }
}
