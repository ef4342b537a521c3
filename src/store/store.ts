import { sql, type Kysely } from 'kysely';
import type { Database } from './schema.ts';
import { storeDialect, type Dialect } from './dialect.ts';
import { openDatabase, type OpenOptions, type RawHandle } from './open.ts';
import { latestMigrationVersion, migrate } from './migrations.ts';
import { WorkspaceRepo } from './workspaces.ts';
import { ApiKeyRepo } from './api-keys.ts';
import { ConnectionRepo } from './connections.ts';
import { createSqlRunner, type StoreSqlRunner } from './sql-runner.ts';
import { ActionGroupRepo } from './action-groups.ts';
import { AlertRepo } from './alerts.ts';
import { JobRepo } from './jobs.ts';
import { LinkRepo } from './links.ts';
import { AsyncMutex, turnGate, WalSync, writeGate, writeTransaction, type WriteGate } from './write-tx.ts';
import { LeaseRepo } from './leases.ts';
import { SyncRunRepo, SyncStateRepo } from './sync-state.ts';
import { WorkspaceRows } from './workspace-rows.ts';
import { WorkspaceLog, type LogRow, type OutcomeRow } from './workspace-log.ts';
import type { NewJob } from './jobs.ts';
import type { WorkItemLinksTable } from './schema.ts';

/**
 * The repositories of one write transaction: every write made through them commits or rolls back together.
 * Only the writes the delivery engine settles jobs with are offered; add one here when a caller needs it.
 */
export interface StoreTx {
  jobs: {
    /** Which of these jobs this worker still holds (the fence before acknowledging them). */
    ownedIds(ids: number[], workerId: string): Promise<Set<number>>;
    ack(ids: number[], workerId: string): Promise<void>;
    enqueue(jobs: NewJob[]): Promise<number>;
    fail(ids: number[], workerId: string, how: { error: string; runAt: number; dead?: boolean; refund?: boolean }): Promise<boolean>;
  };
  links: { putMany(rows: WorkItemLinksTable[]): Promise<void> };
  workspaceLog: { appendOutcomes(rows: OutcomeRow[]): Promise<void>; appendLogs(rows: LogRow[]): Promise<void> };
}

/**
 * The one store interface, over SQLite (embedded default) or PostgreSQL (scale-out). Everything that
 * touches SQL lives under src/store (and the KQL compiler); callers use these repositories.
 */
export class Store {
  readonly workspaces: WorkspaceRepo;
  readonly apiKeys: ApiKeyRepo;
  readonly connections: ConnectionRepo;
  /** Runs compiled KQL: on SQLite in worker threads with read-only connections (kql-query-pool.ts). */
  readonly sql: StoreSqlRunner;
  readonly actionGroups: ActionGroupRepo;
  readonly alerts: AlertRepo;
  readonly jobs: JobRepo;
  readonly links: LinkRepo;
  /** SQLite: write transactions of the main thread and the ingest writer thread take turns (see write-tx.ts). */
  readonly writeLock = new AsyncMutex();
  /** Runs a main-thread write in its turn on `writeLock` (SQLite); PostgreSQL runs it directly. Every repository's writes go through it. */
  readonly writeGate: WriteGate;
  readonly leases: LeaseRepo;
  readonly syncState: SyncStateRepo;
  readonly syncRuns: SyncRunRepo;
  readonly workspaceRows: WorkspaceRows;
  /** The connector's outcome and log rows (ItsmActionOutcome_CL, ServiceDeskLog_CL). */
  readonly workspaceLog: WorkspaceLog;

  private constructor(
    private readonly db: Kysely<Database>,
    private readonly raw: RawHandle,
    private readonly dialect: Dialect,
  ) {
    if (raw.dialect === 'sqlite' && !raw.sqlite.memory) {
      const wal = new WalSync(`${raw.sqlite.name}-wal`);
      this.writeLock.durable = () => wal.sync();
    }
    const gate = (this.writeGate = writeGate(dialect, this.writeLock));
    this.workspaces = new WorkspaceRepo(db, gate);
    this.apiKeys = new ApiKeyRepo(db, gate);
    this.connections = new ConnectionRepo(db, gate);
    this.sql = createSqlRunner(raw);
    this.actionGroups = new ActionGroupRepo(db, gate);
    this.alerts = new AlertRepo(db, raw, this.writeLock);
    this.jobs = new JobRepo(db, dialect, this.writeLock);
    this.links = new LinkRepo(db);
    this.leases = new LeaseRepo(db, gate);
    this.syncState = new SyncStateRepo(db, gate);
    this.syncRuns = new SyncRunRepo(db, gate);
    this.workspaceRows = new WorkspaceRows(db, raw, gate, turnGate(dialect, this.writeLock));
    this.workspaceLog = new WorkspaceLog(dialect, this.workspaceRows);
  }

  /** Which database this is, for display (`/readyz`, the serve banner). */
  get databaseKind(): Dialect {
    return this.dialect;
  }

  /**
   * How many group commits of accepted alerts may be in flight at once: two on SQLite (one builds while the
   * writer thread commits the other), one on PostgreSQL (each is one round trip).
   */
  get acceptPipelineDepth(): number {
    return storeDialect(this.dialect).acceptPipelineDepth;
  }

  /** Write transactions worth running at once (group commits of disjoint rows). */
  get writePipelineDepth(): number {
    return storeDialect(this.dialect).concurrentWriteTransactions;
  }

  static async open(options: OpenOptions): Promise<Store> {
    const opened = await openDatabase(options);
    return new Store(opened.db, opened.raw, opened.dialect);
  }

  /** A read-write transaction (BEGIN IMMEDIATE on SQLite; see write-tx.ts) that hands out its repositories. */
  writeTransaction<T>(fn: (tx: StoreTx) => Promise<T>): Promise<T> {
    return writeTransaction(this.db, this.dialect, (trx) => fn(this.repositoriesOf(trx)), this.writeLock);
  }

  private repositoriesOf(trx: Kysely<Database>): StoreTx {
    return {
      jobs: {
        ownedIds: (ids, workerId) => this.jobs.ownedIds(ids, workerId, trx),
        ack: (ids, workerId) => this.jobs.ack(ids, workerId, trx),
        enqueue: (jobs) => this.jobs.enqueue(jobs, trx),
        fail: (ids, workerId, how) => this.jobs.fail(ids, workerId, how, trx),
      },
      links: { putMany: (rows) => this.links.putMany(rows, trx) },
      workspaceLog: {
        appendOutcomes: (rows) => this.workspaceLog.appendOutcomes(rows, trx),
        appendLogs: (rows) => this.workspaceLog.appendLogs(rows, trx),
      },
    };
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
    await this.sql.close();
    await this.alerts.close();
    await this.workspaceRows.close();
    await this.db.destroy();
  }
}
