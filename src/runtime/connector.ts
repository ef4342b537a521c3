import fs from 'node:fs';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Settings } from '../config/env.ts';
import { Store } from '../store/store.ts';
import { SecretBox } from '../security/envelope.ts';
import { loadMasterKeys, newToken, readOrCreateSecretFile } from '../security/keys.ts';
import { ConnectionService } from '../connections/service.ts';
import { buildApp } from '../server/app.ts';
import '../partners/index.ts';
import { sandboxHost, startQuickStart } from './quickstart.ts';
import type { ServiceNowSandbox } from '../sandbox/servicenow/index.ts';

export interface Connector {
  app: FastifyInstance;
  store: Store;
  box: SecretBox;
  connections: ConnectionService;
  adminToken: string;
  /** True when this start generated the admin token (it is printed once). */
  adminTokenCreated: boolean;
  url: string;
  /** The bundled ServiceNow sandbox, when ITSMC_SANDBOX is not 0. */
  sandboxUrl?: string;
  close(): Promise<void>;
}

export interface StartOptions {
  settings: Settings;
  /** PostgreSQL schema for this instance (tests). */
  pgSchema?: string;
  logger?: boolean;
  listen?: boolean;
}

/** Wires store, secrets, services and the HTTP server together; the CLI's `serve` and the tests use it. */
export async function startConnector({ settings, pgSchema, logger = false, listen = true }: StartOptions): Promise<Connector> {
  fs.mkdirSync(settings.dataDir, { recursive: true, mode: 0o700 });
  const box = new SecretBox(loadMasterKeys(settings.dataDir, settings.masterKey, process.env.ITSMC_MASTER_KEY_PREVIOUS));
  const store = await Store.open({ dataDir: settings.dataDir, databaseUrl: settings.databaseUrl, pgSchema });
  await store.migrate();
  await store.workspaces.ensure('default');
  const { adminToken, created } = resolveAdminToken(settings);
  const allowedPartnerHosts = settings.sandbox ? [...settings.allowedPartnerHosts, sandboxHost()] : settings.allowedPartnerHosts;
  const connections = new ConnectionService(store, box, { allowedPartnerHosts });
  const https = settings.tlsCert && settings.tlsKey ? { cert: fs.readFileSync(settings.tlsCert, 'utf8'), key: fs.readFileSync(settings.tlsKey, 'utf8') } : undefined;
  const app = await buildApp({ store, connections, adminToken, bodyLimitBytes: settings.bodyLimitBytes, logger: logger ? { level: settings.logLevel } : false, https });
  let sandbox: ServiceNowSandbox | undefined;
  if (settings.sandbox) sandbox = await startQuickStart({ dataDir: settings.dataDir, store, connections });
  let url = '';
  if (listen) {
    const address = await app.listen({ port: settings.port, host: settings.host });
    url = address.replace('0.0.0.0', '127.0.0.1').replace('[::]', '127.0.0.1');
  }
  return {
    app,
    store,
    box,
    connections,
    adminToken,
    adminTokenCreated: created,
    url,
    sandboxUrl: sandbox?.url,
    async close() {
      await app.close();
      await sandbox?.close();
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
