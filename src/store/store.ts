import { sql, type Kysely } from 'kysely';
import type { Database } from './schema.ts';
import type { Dialect } from './dialect.ts';
import { openDatabase, type OpenOptions, type RawHandle } from './open.ts';
import { latestMigrationVersion, migrate } from './migrations.ts';
import { WorkspaceRepo } from './workspaces.ts';
import { ApiKeyRepo } from './api-keys.ts';
import { ConnectionRepo } from './connections.ts';
import { createSqlRunner, type SqlRunner } from './sql-runner.ts';

/**
 * The one store interface, over SQLite (embedded default) or PostgreSQL (scale-out). Everything that
 * touches SQL lives under src/store (and the KQL compiler); callers use these repositories.
 */
export class Store {
  readonly workspaces: WorkspaceRepo;
  readonly apiKeys: ApiKeyRepo;
  readonly connections: ConnectionRepo;
  readonly sql: SqlRunner;

  private constructor(
    readonly db: Kysely<Database>,
    readonly raw: RawHandle,
    readonly dialect: Dialect,
  ) {
    this.workspaces = new WorkspaceRepo(db);
    this.apiKeys = new ApiKeyRepo(db);
    this.connections = new ConnectionRepo(db);
    this.sql = createSqlRunner(raw);
  }

  static async open(options: OpenOptions): Promise<Store> {
    const opened = await openDatabase(options);
    return new Store(opened.db, opened.raw, opened.dialect);
  }

  migrate(): Promise<number[]> {
    return migrate(this.db, this.dialect);
  }

  /** True when the database answers and every migration is applied. */
  async ready(): Promise<boolean> {
    try {
      const row = await sql<{ v: number | null }>`SELECT MAX(version) AS v FROM schema_migrations`.execute(this.db);
      return Number(row.rows[0]?.v) === latestMigrationVersion();
    } catch {
      return false;
    }
  }

  async close(): Promise<void> {
    await this.db.destroy();
  }
}
