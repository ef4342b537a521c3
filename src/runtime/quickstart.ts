import path from 'node:path';
import type { ConnectionService } from '../connections/service.ts';
import type { Store } from '../store/store.ts';
import { startServiceNowSandbox, type ServiceNowSandbox } from '../sandbox/servicenow/index.ts';

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
    await opts.connections.put('default', SANDBOX_CONNECTION, {
      partnerType: 'ServiceNow',
      serverUrl: sandbox.url,
      username: 'itsmc.integration',
      password: 'sandbox',
      clientId: 'itsmc-sandbox',
      clientSecret: 'sandbox-secret',
      dataSyncScope: ['Incident', 'ChangeRequest'],
      syncDataDays: 120,
      createNewConfigurationItems: true,
    });
  }
  return sandbox;
}
