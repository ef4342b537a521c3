/**
 * The Cherwell emulator as the partner descriptor's `sandbox` section: how to start it, the seeded
 * credentials the quick start and the contract suite sign in with, and fault injection through its admin API.
 */
import type { RunningSandbox, SandboxFaults, SandboxSection } from '../../partners/descriptor.ts';
import { adminFaultsClient } from '../common/server.ts';
import { SANDBOX_CREDENTIALS, startCherwellSandbox } from './index.ts';
import { ADMIN as ADMIN_PREFIX } from './server.ts';

const SMALL_VOLUME = { incidents: 30, changeRequests: 5, configItems: 10 };
const ADMIN = `Basic ${Buffer.from(`${SANDBOX_CREDENTIALS.admin.user}:${SANDBOX_CREDENTIALS.admin.password}`).toString('base64')}`;

/** The emulator's admin API (`/CherwellAPI/api/x_sandbox/*`) behind the generic fault interface; `url` is the server root. */
export function cherwellFaults(url: string): SandboxFaults {
  return adminFaultsClient(url, ADMIN, ADMIN_PREFIX, `${ADMIN_PREFIX}/expire_access_tokens`);
}

/** The server root of a connection URL (`…/CherwellAPI` or the root itself). */
function serverRoot(url: string): string {
  return url.replace(/\/CherwellAPI\/?$/i, '');
}

/** The refresh-token lifespan the emulator's REST API client record gives, in seconds. */
async function issuedRefreshLifetime(url: string): Promise<number | undefined> {
  try {
    const res = await fetch(`${serverRoot(url)}${ADMIN_PREFIX}/clients/${SANDBOX_CREDENTIALS.restClient.clientId}`, { headers: { Authorization: ADMIN } });
    const minutes = Number(((await res.json()) as { refreshMinutes?: number }).refreshMinutes);
    return Number.isFinite(minutes) && minutes > 0 ? minutes * 60 : undefined;
  } catch {
    return undefined;
  }
}

export const cherwellSandbox: SandboxSection = {
  async start({ size, ...options }): Promise<RunningSandbox> {
    const sandbox = await startCherwellSandbox({ ...options, ...(size === 'small' ? { volume: SMALL_VOLUME } : {}) });
    return { url: sandbox.url, port: sandbox.port, close: () => sandbox.close(), faults: cherwellFaults(sandbox.url) };
  },
  credentials: (url) => ({
    serverUrl: `${serverRoot(url)}/CherwellAPI`,
    username: SANDBOX_CREDENTIALS.integration.user,
    password: SANDBOX_CREDENTIALS.integration.password,
    clientId: SANDBOX_CREDENTIALS.restClient.clientId,
  }),
  refreshTokenLifetime: issuedRefreshLifetime,
  quickStart: { defaultPort: 8083, portEnv: 'ITSMC_CHERWELL_SANDBOX_PORT', actionGroup: { name: 'sandbox-cherwell', action: 'sandbox-cherwell-incident' } },
  banner:
    `  API: <url>/CherwellAPI   integration user: ${SANDBOX_CREDENTIALS.integration.user} / ${SANDBOX_CREDENTIALS.integration.password}   REST API client ID: ${SANDBOX_CREDENTIALS.restClient.clientId}\n` +
    `  admin API (Basic ${SANDBOX_CREDENTIALS.admin.user} / ${SANDBOX_CREDENTIALS.admin.password}): <url>${ADMIN_PREFIX}/{rules,faults,licences,stats,clients/<id>}\n`,
};
