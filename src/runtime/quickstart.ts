import path from 'node:path';
import type { ConnectionService } from '../connections/service.ts';
import type { Store } from '../store/store.ts';
import { SEEDED_CREDENTIALS, startServiceNowSandbox, type ServiceNowSandbox } from '../sandbox/servicenow/index.ts';
import type { ConnectionInput } from '../connections/model.ts';

export const SANDBOX_CONNECTION = 'servicenow-sandbox';
export const SANDBOX_PORT = 8081;

/** The host:port of the bundled sandbox, allow-listed for the SSRF guard. */
export function sandboxHost(port = SANDBOX_PORT): string {
  return `127.0.0.1:${port}`;
}

/**
 * Quick start: the bundled ServiceNow sandbox on 127.0.0.1:8081 (its own SQLite under
 * <dataDir>/sandbox) and the connection `servicenow-sandbox` in workspace `default`, created once.
 */
export async function startQuickStart(opts: { dataDir: string; store: Store; connections: ConnectionService; port?: number }): Promise<ServiceNowSandbox> {
  const sandbox = await startServiceNowSandbox({ host: '127.0.0.1', port: opts.port ?? SANDBOX_PORT, dataDir: path.join(opts.dataDir, 'sandbox') });
  if (!(await opts.store.connections.get('default', SANDBOX_CONNECTION))) {
    await opts.connections.put('default', SANDBOX_CONNECTION, sandboxConnectionInput(sandbox.url, { syncDataDays: 120, createNewConfigurationItems: true }));
  }
  return sandbox;
}

/** A connection to a ServiceNow sandbox with its seeded integration user and OAuth client. */
export function sandboxConnectionInput(serverUrl: string, extra: Partial<ConnectionInput> = {}): ConnectionInput {
  const c = SEEDED_CREDENTIALS;
  return {
    partnerType: 'ServiceNow',
    serverUrl,
    username: c.integration.user,
    password: c.integration.password,
    clientId: c.oauthClient.clientId,
    clientSecret: c.oauthClient.clientSecret,
    dataSyncScope: ['Incident', 'ChangeRequest'],
    ...extra,
  };
}
