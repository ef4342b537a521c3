/**
 * The data sync as the connector runs it: engine (lease, pages, watermark), scheduler (interval per
 * connection, 24 h configuration refresh) and the connector log, wired to a store and ConnectionService.
 */
import type { Store } from '../store/store.ts';
import type { ConnectionService } from '../connections/service.ts';
import { SyncEngine, type SyncEngineOptions } from './engine.ts';
import { SyncScheduler, type SchedulerOptions } from './scheduler.ts';
import type { ConnectorLog } from './connector-log.ts';

export interface SyncServiceOptions {
  store: Store;
  connections: ConnectionService;
  log?: ConnectorLog;
  /** Run the periodic scheduler (else only on-demand syncs). */
  schedule?: boolean;
  engine?: Partial<Omit<SyncEngineOptions, 'client' | 'recordFailure' | 'log'>>;
  scheduler?: Omit<SchedulerOptions, 'refreshConfiguration'>;
}

export interface SyncService {
  engine: SyncEngine;
  scheduler: SyncScheduler;
  start(): void;
  close(): Promise<void>;
}

export function createSyncService(options: SyncServiceOptions): SyncService {
  const { store, connections } = options;
  const engine = new SyncEngine(store, {
    ...options.engine,
    log: options.log,
    client: (row) => connections.client(row),
    recordFailure: (row, err) => connections.recordFailure(row, err),
    recordSuccess: (row) => connections.reachable(row.id),
  });
  const scheduler = new SyncScheduler(store, engine, { ...options.scheduler, refreshConfiguration: (row) => connections.syncConfiguration(row) });
  return {
    engine,
    scheduler,
    start() {
      if (options.schedule !== false) scheduler.start();
    },
    async close() {
      const stopping = scheduler.stop();
      await engine.close();
      await stopping;
    },
  };
}

export { SyncEngine, SyncScheduler };
export type { SyncRunResult, ScopeResult } from './engine.ts';
export { workspaceConnectorLog, connectionEventLogger } from './connector-log.ts';
export type { ConnectorLog, ConnectorLogEntry } from './connector-log.ts';
