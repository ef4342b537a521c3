/**
 * The SCSM emulator as the partner descriptor's `sandbox` section: how to start it, the seeded Azure AD
 * application the quick start and the contract suite use, and fault injection through its admin API
 * (the common fault model under `/api/x_sandbox`; token expiry is the token service's own route).
 */
import type { RunningSandbox, SandboxSection } from '../../partners/descriptor.ts';
import { adminFaultsClient } from '../common/server.ts';
import { ADMIN_PREFIX } from './faults.ts';
import { SEEDED_CREDENTIALS, startScsmSandbox } from './index.ts';

const SMALL_VOLUME = { incidents: 30, changeRequests: 5, computers: 10 };
const ADMIN = `Basic ${Buffer.from(`${SEEDED_CREDENTIALS.admin.user}:${SEEDED_CREDENTIALS.admin.password}`).toString('base64')}`;

export const scsmSandbox: SandboxSection = {
  async start({ size, ...options }): Promise<RunningSandbox> {
    const sandbox = await startScsmSandbox({ ...options, ...(size === 'small' ? { volume: SMALL_VOLUME } : {}) });
    return { ...sandbox, faults: adminFaultsClient(sandbox.url, ADMIN, ADMIN_PREFIX, `${ADMIN_PREFIX}/aad/expire_tokens`) };
  },
  credentials: (serverUrl) => ({ serverUrl, clientId: SEEDED_CREDENTIALS.clientId, clientSecret: SEEDED_CREDENTIALS.clientSecret }),
  quickStart: { defaultPort: 8082, portEnv: 'ITSMC_SCSM_SANDBOX_PORT', actionGroup: { name: 'sandbox-scsm', action: 'sandbox-scsm-incident' } },
  banner:
    `  Azure AD tenant: <url>/${SEEDED_CREDENTIALS.tenant} (token endpoint /${SEEDED_CREDENTIALS.tenant}/oauth2/token)\n` +
    `  application (whitelisted): ${SEEDED_CREDENTIALS.clientId} / ${SEEDED_CREDENTIALS.clientSecret}   admin API: ${SEEDED_CREDENTIALS.admin.user} / ${SEEDED_CREDENTIALS.admin.password}\n`,
};
