/** Sync now and where a connection's data sync stands: the application service of the sync routes. */
import type { ConnectionService } from '../connections/service.ts';
import { ConflictError, NotFoundError } from '../core/errors.ts';
import type { ConnectionsTable } from '../store/schema.ts';
import type { Store } from '../store/store.ts';
import { intervalMs, type SyncEngine, type SyncRunResult } from './engine.ts';

const iso = (ms: number | null | undefined) => (ms === null || ms === undefined ? null : new Date(Number(ms)).toISOString());

export interface SyncNowView extends SyncRunResult {
  configuration: { status: string; lastConfigSyncAt: string | null; lastError: string | null };
}

export class SyncStatusService {
  constructor(
    private readonly store: Store,
    private readonly connections: ConnectionService,
    private readonly engine: SyncEngine,
  ) {}

  private async require(workspace: string, name: string): Promise<ConnectionsTable> {
    const row = await this.store.connections.get(workspace, name);
    if (!row) throw new NotFoundError(`connection '${name}' does not exist in workspace '${workspace}'`);
    return row;
  }

  /** Refreshes templates and choice lists, then runs a data sync (waiting up to `waitMs` for another process's run). */
  async syncNow(workspace: string, name: string, waitMs = 30_000): Promise<SyncNowView> {
    const row = await this.require(workspace, name);
    await this.connections.syncConfiguration(row);
    const afterConfig = (await this.store.connections.getById(row.id)) ?? row;
    const result = await this.engine.runNow(afterConfig, waitMs);
    if (result.status === 'busy') throw new ConflictError(`a sync of connection '${row.name}' is running in another connector process; try again when it ends`);
    const latest = (await this.store.connections.getById(row.id)) ?? afterConfig;
    return { ...result, configuration: { status: latest.status, lastConfigSyncAt: iso(latest.last_config_sync_at), lastError: latest.last_error } };
  }

  async status(workspace: string, name: string) {
    const row = await this.require(workspace, name);
    const [states, runs] = await Promise.all([this.store.syncState.list(row.id), this.store.syncRuns.list(row.id, 10)]);
    return {
      workspace: row.workspace,
      connection: row.name,
      running: this.engine.isRunning(row.id),
      lastSyncAt: iso(row.last_sync_at),
      intervalSeconds: intervalMs(row) / 1000,
      scopes: states.map((s) => ({
        scope: s.scope,
        watermark: s.watermark,
        backfillDone: s.backfillDone,
        resumable: s.cursor !== null,
        lastRunAt: iso(s.lastRunAt),
        lastError: s.lastError,
        rowsAppended: s.recordsSynced,
      })),
      runs: runs.map((r) => ({ ...r, startedAt: iso(r.startedAt)!, finishedAt: iso(r.finishedAt) })),
    };
  }
}
