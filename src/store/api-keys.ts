import type { Kysely } from 'kysely';
import type { ApiKeysTable, Database } from './schema.ts';
import { ungated, type WriteGate } from './write-tx.ts';

export class ApiKeyRepo {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly write: WriteGate = ungated,
  ) {}

  async insert(row: ApiKeysTable): Promise<void> {
    await this.write(() => this.db.insertInto('api_keys').values(row).execute());
  }

  list(workspace: string): Promise<ApiKeysTable[]> {
    return this.db.selectFrom('api_keys').selectAll().where('workspace', '=', workspace).orderBy('created_at').execute();
  }

  findActiveByHash(tokenHash: string): Promise<ApiKeysTable | undefined> {
    return this.db.selectFrom('api_keys').selectAll().where('token_hash', '=', tokenHash).where('revoked_at', 'is', null).executeTakeFirst();
  }

  async revoke(workspace: string, id: string): Promise<boolean> {
    const result = await this.write(() =>
      this.db
        .updateTable('api_keys')
        .set({ revoked_at: Date.now() })
        .where('workspace', '=', workspace)
        .where('id', '=', id)
        .where('revoked_at', 'is', null)
        .executeTakeFirst(),
    );
    return Number(result.numUpdatedRows) > 0;
  }
}
