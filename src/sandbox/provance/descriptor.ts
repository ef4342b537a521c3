/**
 * The Provance emulator as the partner descriptor's `sandbox` section: how to start it, the seeded
 * credentials (tenant `sandbox`, public client `itsmc-provance-sandbox`) and fault injection through the
 * common admin API.
 */
import type { RunningSandbox, SandboxSection } from '../../partners/descriptor.ts';
import { adminFaultsClient } from '../common/server.ts';
import { ADMIN_PREFIX, SANDBOX_CREDENTIALS, startProvanceSandbox } from './index.ts';

const SMALL_VOLUME = { incidents: 30, changeRequests: 5, cis: 10 };
const ADMIN = `Basic ${Buffer.from(`${SANDBOX_CREDENTIALS.admin.username}:${SANDBOX_CREDENTIALS.admin.password}`).toString('base64')}`;
/** Azure AD's refresh tokens: 90 days of inactivity (what the emulator issues). */
export const AAD_REFRESH_SECONDS = 90 * 86_400;

export const provanceSandbox: SandboxSection = {
  async start({ size, ...options }): Promise<RunningSandbox> {
    const sandbox = await startProvanceSandbox({ ...options, ...(size === 'small' ? { volume: SMALL_VOLUME } : {}) });
    return { ...sandbox, faults: adminFaultsClient(sandbox.url, ADMIN, ADMIN_PREFIX, `${ADMIN_PREFIX}/aad/expire-access-tokens`) };
  },
  credentials: (serverUrl) => ({
    serverUrl,
    username: SANDBOX_CREDENTIALS.integration.username,
    password: SANDBOX_CREDENTIALS.integration.password,
    clientId: SANDBOX_CREDENTIALS.clientId,
  }),
  refreshTokenLifetime: async () => AAD_REFRESH_SECONDS,
  quickStart: { defaultPort: 8084, portEnv: 'ITSMC_PROVANCE_SANDBOX_PORT', actionGroup: { name: 'sandbox-provance', action: 'sandbox-provance-incident' } },
  banner:
    `  Dataverse Web API under /api/data/v9.2 — Provance names unverified against a real Provance instance\n` +
    `  Azure AD tenant: ${SANDBOX_CREDENTIALS.tenant}   user: ${SANDBOX_CREDENTIALS.integration.username} / ${SANDBOX_CREDENTIALS.integration.password}   client ID: ${SANDBOX_CREDENTIALS.clientId} (public client)\n` +
    `  admin API: ${ADMIN_PREFIX}/* with ${SANDBOX_CREDENTIALS.admin.username} / ${SANDBOX_CREDENTIALS.admin.password} (Basic)\n`,
};
