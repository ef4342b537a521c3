/**
 * The ServiceNow emulator as the partner descriptor's `sandbox` section: how to start it, the seeded
 * credentials the quick start and the contract suite sign in with, and fault injection through its admin API.
 */
import type { RunningSandbox, SandboxFaults, SandboxSection } from '../../partners/descriptor.ts';
import { adminFaultsClient } from '../common/server.ts';
import { ADMIN_PREFIX } from './faults.ts';
import { SEEDED_CREDENTIALS, startServiceNowSandbox } from './index.ts';

const SMALL_VOLUME = { incidents: 30, changeRequests: 5, computers: 10 };
const ADMIN = `Basic ${Buffer.from(`${SEEDED_CREDENTIALS.admin.user}:${SEEDED_CREDENTIALS.admin.password}`).toString('base64')}`;

/** The emulator's admin API (`/api/x_sandbox/*`) behind the generic fault interface. */
export function serviceNowFaults(url: string): SandboxFaults {
  return adminFaultsClient(url, ADMIN, ADMIN_PREFIX, `${ADMIN_PREFIX}/oauth/expire_access_tokens`);
}

/**
 * What the emulator really issues to the seeded OAuth client, as its administrator sees it: the client's
 * "Refresh Token Lifespan", else the instance-wide setting. Undefined when it cannot be read.
 */
async function issuedRefreshLifetime(url: string): Promise<number | undefined> {
  const headers = { Authorization: ADMIN, Accept: 'application/json' };
  try {
    const client = await fetch(
      `${url}/api/now/table/oauth_entity?sysparm_query=client_id=${SEEDED_CREDENTIALS.oauthClient.clientId}&sysparm_fields=refresh_token_lifespan`,
      { headers },
    );
    const own = Number(((await client.json()) as { result?: { refresh_token_lifespan?: string }[] }).result?.[0]?.refresh_token_lifespan);
    if (Number.isInteger(own) && own > 0) return own;
    const settings = await fetch(`${url}/api/x_sandbox/oauth`, { headers });
    const instance = Number(((await settings.json()) as { refreshTokenLifetimeSec?: number }).refreshTokenLifetimeSec);
    return Number.isInteger(instance) && instance > 0 ? instance : undefined;
  } catch {
    return undefined;
  }
}

export const serviceNowSandbox: SandboxSection = {
  async start({ size, ...options }): Promise<RunningSandbox> {
    const sandbox = await startServiceNowSandbox({ ...options, ...(size === 'small' ? { volume: SMALL_VOLUME } : {}) });
    return { ...sandbox, faults: serviceNowFaults(sandbox.url) };
  },
  credentials: (serverUrl) => ({
    serverUrl,
    username: SEEDED_CREDENTIALS.integration.user,
    password: SEEDED_CREDENTIALS.integration.password,
    clientId: SEEDED_CREDENTIALS.oauthClient.clientId,
    clientSecret: SEEDED_CREDENTIALS.oauthClient.clientSecret,
  }),
  refreshTokenLifetime: issuedRefreshLifetime,
  quickStart: { defaultPort: 8081, portEnv: 'ITSMC_SANDBOX_PORT', actionGroup: { name: 'sandbox', action: 'sandbox-incident' } },
  banner:
    `  admin: ${SEEDED_CREDENTIALS.admin.user} / ${SEEDED_CREDENTIALS.admin.password}   integration user: ${SEEDED_CREDENTIALS.integration.user} / ${SEEDED_CREDENTIALS.integration.password}\n` +
    `  OAuth client: ${SEEDED_CREDENTIALS.oauthClient.clientId} / ${SEEDED_CREDENTIALS.oauthClient.clientSecret}\n`,
};
