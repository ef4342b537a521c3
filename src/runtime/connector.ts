import fs from 'node:fs';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Settings } from '../config/env.ts';
import { Store } from '../store/store.ts';
import { makePrivateDir } from '../store/open.ts';
import { SecretBox } from '../security/envelope.ts';
import { loadMasterKeys, newToken, readOrCreateSecretFile } from '../security/keys.ts';
import { ConnectionService } from '../connections/service.ts';
import { buildApp } from '../server/app.ts';
import { sandboxHosts, startQuickStart, type QuickStartSandbox } from './quickstart.ts';
import { connectionEventLogger, createSyncService, workspaceConnectorLog, type SyncService } from '../sync/index.ts';
import { syncRoutes } from '../server/routes/sync.ts';
import { SyncStatusService } from '../sync/status-service.ts';
import { queryRoutes } from '../server/routes/query.ts';
import { QueryService } from '../workspace/query-service.ts';
import { ActionGroupService, parseReceivers } from '../actiongroups/service.ts';
import { IngestService } from '../delivery/ingest.ts';
import { DeliveryEngine } from '../delivery/engine.ts';
import type { DeliverySettings } from '../delivery/settings.ts';
import { ensureSandboxActionGroups } from '../delivery/sandbox-group.ts';
import { actionGroupRoutes } from '../server/routes/action-groups.ts';
import { hookRoutes } from '../server/routes/hooks.ts';
import { deadLetterRoutes } from '../server/routes/dead-letter.ts';
import { workItemRoutes } from '../server/routes/work-items.ts';
import { LogRowWorkItems } from '../delivery/log-row-work-item.ts';
import { DeliveryQueueService } from '../delivery/queue-service.ts';
import { partnerRoutes } from '../server/routes/partners.ts';

export interface Connector {
  app: FastifyInstance;
  store: Store;
  box: SecretBox;
  connections: ConnectionService;
  adminToken: string;
  /** True when this start generated the admin token (it is printed once). */
  adminTokenCreated: boolean;
  url: string;
  /** The quick start's partner sandboxes (ITSMC_SANDBOX not 0), in registry order. */
  sandboxes: ConnectorSandbox[];
  /** URL of the first sandbox (the quick start's primary partner). */
  sandboxUrl?: string;
  /** Data sync (engine + scheduler); the scheduler runs unless ITSMC_SYNC=0. */
  sync: SyncService;
  actionGroups: ActionGroupService;
  ingest: IngestService;
  delivery: DeliveryEngine;
  /** Webhook URL of the first sandbox's quick-start action group, when it exists. */
  sandboxWebhookUrl?: string;
  close(): Promise<void>;
}

export interface ConnectorSandbox {
  partnerType: string;
  displayName: string;
  url: string;
  connectionName: string;
  actionGroup?: string;
  webhookUrl?: string;
}

export interface StartOptions {
  settings: Settings;
  /** PostgreSQL schema for this instance (tests). */
  pgSchema?: string;
  logger?: boolean;
  listen?: boolean;
  /** Delivery settings over `settings.delivery` (tests: short backoff, workers off …). */
  delivery?: Partial<DeliverySettings>;
}

/** Wires store, secrets, services and the HTTP server together; the CLI's `serve` and the tests use it. */
export async function startConnector({ settings, pgSchema, logger = false, listen = true, delivery: deliveryOverrides }: StartOptions): Promise<Connector> {
  makePrivateDir(settings.dataDir);
  const box = new SecretBox(loadMasterKeys(settings.dataDir, settings.masterKey, settings.masterKeyPrevious));
  const store = await Store.open({ dataDir: settings.dataDir, databaseUrl: settings.databaseUrl, pgSchema });
  await store.migrate();
  await store.workspaces.ensure('default');
  const { adminToken, created } = resolveAdminToken(settings);
  const allowedPartnerHosts = settings.sandbox ? [...settings.allowedPartnerHosts, ...sandboxHosts(settings.sandboxPorts)] : settings.allowedPartnerHosts;
  const connectorLog = workspaceConnectorLog(store);
  const deliverySettings: DeliverySettings = { ...settings.delivery, ...deliveryOverrides };
  const connections = new ConnectionService(store, box, {
    allowedPartnerHosts,
    onStatus: connectionEventLogger(connectorLog),
    onReachable: (id: string): Promise<void> => delivery.resume(id),
    partnerTimeoutMs: deliverySettings.partnerTimeoutMs,
  });
  const actionGroups = new ActionGroupService(store, box);
  const logTo: { app?: FastifyInstance } = {};
  const delivery = new DeliveryEngine(store, connections, actionGroups, deliverySettings.engine, (level, message, err) =>
    logTo.app?.log[level]({ err }, message),
  );
  const ingest = new IngestService(store, deliverySettings.ingest, (connections) => delivery.wake(connections));
  const sync = createSyncService({
    store,
    connections,
    log: connectorLog,
    schedule: settings.syncEnabled,
    engine: { pageSize: settings.syncPageSize, leaseTtlMs: settings.syncLeaseMs },
  });
  const https =
    settings.tlsCert && settings.tlsKey ? { cert: fs.readFileSync(settings.tlsCert, 'utf8'), key: fs.readFileSync(settings.tlsKey, 'utf8') } : undefined;
  // Sandboxes seed synchronously: start them before the app registers its plugins, whose load timeout would
  // otherwise run out while a large seed holds the event loop.
  const started: QuickStartSandbox[] = settings.sandbox
    ? await startQuickStart({ dataDir: settings.dataDir, store, connections, ports: settings.sandboxPorts })
    : [];
  const app = await buildApp({
    store,
    connections,
    adminToken,
    bodyLimitBytes: settings.bodyLimitBytes,
    requestTimeoutMs: settings.requestTimeoutMs,
    logger: logger ? { level: settings.logLevel } : false,
    https,
    extraRoutes: [
      syncRoutes(new SyncStatusService(store, connections, sync.engine)),
      queryRoutes(new QueryService(store.sql, async (ws) => !!(await store.workspaces.get(ws))), {
        rowCap: settings.queryRowCap,
        timeoutMs: settings.queryTimeoutMs,
      }),
      actionGroupRoutes({ groups: actionGroups, ingest, publicUrl: settings.publicUrl }),
      hookRoutes({ groups: actionGroups, ingest }),
      deadLetterRoutes(new DeliveryQueueService(store, () => delivery.wake())),
      workItemRoutes(new LogRowWorkItems(store, actionGroups, ingest)),
      partnerRoutes(),
    ],
    connectionHooks: { usedBy: (ws, name) => actionGroups.usedBy(ws, name) },
  });
  logTo.app = app;
  let url = '';
  if (listen) {
    const address = await app.listen({ port: settings.port, host: settings.host });
    url = address.replace('0.0.0.0', '127.0.0.1').replace('[::]', '127.0.0.1');
  }
  sync.start();
  const hookBase = (settings.publicUrl ?? url).replace(/\/+$/, '');
  const groups = await ensureSandboxActionGroups(store, actionGroups);
  const sandboxes = started.map((s): ConnectorSandbox => {
    const group = groups.find((g) => parseReceivers(g.receivers).some((r) => r.connectionName === s.connectionName));
    return {
      partnerType: s.partnerType,
      displayName: s.displayName,
      url: s.sandbox.url,
      connectionName: s.connectionName,
      ...(group ? { actionGroup: group.name, webhookUrl: `${hookBase}/hooks/${actionGroups.secretOf(group)}` } : {}),
    };
  });
  if (deliverySettings.enabled) delivery.start();
  return {
    app,
    store,
    box,
    connections,
    adminToken,
    adminTokenCreated: created,
    url,
    sandboxes,
    sandboxUrl: sandboxes[0]?.url,
    sync,
    actionGroups,
    ingest,
    delivery,
    sandboxWebhookUrl: sandboxes[0]?.webhookUrl,
    async close() {
      await app.close();
      await ingest.close();
      await delivery.stop();
      await sync.close();
      await Promise.all(started.map((s) => s.sandbox.close()));
      await store.close();
    },
  };
}

function resolveAdminToken(settings: Settings): { adminToken: string; created: boolean } {
  if (settings.adminToken) return { adminToken: settings.adminToken, created: false };
  const file = path.join(settings.dataDir, 'admin.token');
  const existed = fs.existsSync(file);
  return { adminToken: readOrCreateSecretFile(file, () => newToken('itsma')).toString(), created: !existed };
}
