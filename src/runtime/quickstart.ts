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
    const refreshTokenLifetimeSeconds = await sandboxRefreshLifetime(sandbox.url);
    await opts.connections.put('default', SANDBOX_CONNECTION, sandboxConnectionInput(sandbox.url, { syncDataDays: 120, createNewConfigurationItems: true, ...(refreshTokenLifetimeSeconds ? { refreshTokenLifetimeSeconds } : {}) }));
  }
  return sandbox;
}

/**
 * The refresh token lifetime the sandbox really issues to the seeded OAuth client, as its administrator sees it:
 * the client's "Refresh Token Lifespan", else the instance-wide setting. Undefined when it cannot be read.
 */
async function sandboxRefreshLifetime(url: string): Promise<number | undefined> {
  const { user, password } = SEEDED_CREDENTIALS.admin;
  const headers = { authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`, accept: 'application/json' };
  try {
    const client = await fetch(`${url}/api/now/table/oauth_entity?sysparm_query=client_id=${SEEDED_CREDENTIALS.oauthClient.clientId}&sysparm_fields=refresh_token_lifespan`, { headers });
    const own = Number(((await client.json()) as { result?: { refresh_token_lifespan?: string }[] }).result?.[0]?.refresh_token_lifespan);
    if (Number.isInteger(own) && own > 0) return own;
    const settings = await fetch(`${url}/api/x_sandbox/oauth`, { headers });
    const instance = Number(((await settings.json()) as { refreshTokenLifetimeSec?: number }).refreshTokenLifetimeSec);
    return Number.isInteger(instance) && instance > 0 ? instance : undefined;
  } catch {
    return undefined;
  }
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
