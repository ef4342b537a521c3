/**
 * Periodic data sync and configuration refresh for every connection of every workspace. Each tick reads
 * the connections (cheap), and starts the runs that are due: data sync every `sync_interval_seconds`
 * (default 300, at least 30), the first one at once; configuration (templates, choice lists) every 24 h.
 * With several processes each one ticks, and the lease in SyncEngine lets exactly one run a connection.
 */
import type { Store } from '../store/store.ts';
import type { ConnectionsTable } from '../store/schema.ts';
import { partnerDescriptor } from '../partners/registry.ts';
import { intervalMs, type SyncEngine, type SyncRunResult } from './engine.ts';

export const CONFIG_REFRESH_MS = 24 * 3600 * 1000;

export interface SchedulerOptions {
  /** How often due connections are looked for. Default 1 s. */
  tickMs?: number;
  /** Connections synced at the same time by this process. Default 2. */
  concurrency?: number;
  configRefreshMs?: number;
  /** How often the bookkeeping of deleted connections and expired leases is removed. Default 1 h. */
  housekeepingMs?: number;
  /** Refreshes a connection's configuration (ConnectionService.syncConfiguration). */
  refreshConfiguration?: (row: ConnectionsTable) => Promise<void>;
  onResult?: (result: SyncRunResult) => void;
  onError?: (err: unknown) => void;
}

export class SyncScheduler {
  private timer?: NodeJS.Timeout;
  private stopped = false;
  private ticking = false;
  private readonly active = new Set<string>();
  /** Earliest next attempt per connection after a failed or rate-limited run (in memory). */
  private readonly notBefore = new Map<string, number>();
  private readonly tasks = new Set<Promise<unknown>>();
  private lastHousekeeping = 0;

  constructor(
    private readonly store: Store,
    private readonly engine: SyncEngine,
    private readonly options: SchedulerOptions = {},
  ) {}

  start(): void {
    if (this.timer || this.stopped) return;
    const tick = () => {
      void this.tick().finally(() => {
        if (!this.stopped) this.timer = setTimeout(tick, this.options.tickMs ?? 1000);
      });
    };
    this.timer = setTimeout(tick, 0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await Promise.allSettled([...this.tasks]);
  }

  /** One scheduling pass (exposed for tests and for `sync now` of everything). */
  async tick(now = Date.now()): Promise<void> {
    if (this.ticking || this.stopped) return;
    this.ticking = true;
    try {
      if (now - this.lastHousekeeping >= (this.options.housekeepingMs ?? 3_600_000)) {
        this.lastHousekeeping = now;
        await this.store.syncState.purgeOrphans();
        await this.store.leases.purgeExpired('sync:', now - 3_600_000);
      }
      const rows = await this.store.connections.listAll();
      for (const row of rows) {
        if (this.active.size >= (this.options.concurrency ?? 2)) break;
        if (this.active.has(row.id) || this.engine.isRunning(row.id) || !partnerDescriptor(row.partner_type)?.create) continue;
        const configDue =
          !!this.options.refreshConfiguration &&
          (row.last_config_sync_at === null || now - Number(row.last_config_sync_at) >= (this.options.configRefreshMs ?? CONFIG_REFRESH_MS));
        const dataDue = (row.last_sync_at === null || now - Number(row.last_sync_at) >= intervalMs(row)) && now >= (this.notBefore.get(row.id) ?? 0);
        if (configDue || dataDue) this.launch(row, configDue, dataDue);
      }
    } catch (err) {
      this.options.onError?.(err);
    } finally {
      this.ticking = false;
    }
  }

  private launch(row: ConnectionsTable, configDue: boolean, dataDue: boolean): void {
    this.active.add(row.id);
    const task = (async () => {
      if (configDue && this.options.refreshConfiguration) {
        const refresh = this.options.refreshConfiguration;
        await this.engine.withLease(row, async () => {
          const fresh = await this.store.connections.getById(row.id);
          if (
            fresh &&
            (fresh.last_config_sync_at === null || Date.now() - Number(fresh.last_config_sync_at) >= (this.options.configRefreshMs ?? CONFIG_REFRESH_MS))
          )
            await refresh(fresh);
        });
      }
      if (!dataDue) return;
      // Another process may have synced it since the list was read.
      const fresh = await this.store.connections.getById(row.id);
      if (!fresh || (fresh.last_sync_at !== null && Date.now() - Number(fresh.last_sync_at) < intervalMs(fresh))) return;
      const result = await this.engine.run(fresh);
      if (result.status === 'busy') this.notBefore.set(row.id, Date.now() + Math.min(5_000, intervalMs(fresh)));
      else if (result.status === 'failed' || result.status === 'partial') this.notBefore.set(row.id, result.retryAt ?? Date.now() + intervalMs(fresh));
      else this.notBefore.delete(row.id);
      this.options.onResult?.(result);
    })()
      .catch((err: unknown) => {
        this.notBefore.set(row.id, Date.now() + intervalMs(row));
        this.options.onError?.(err);
      })
      .finally(() => {
        this.active.delete(row.id);
        this.tasks.delete(task);
      });
    this.tasks.add(task);
  }
}
