/** Free ports for every registered partner sandbox, as the environment a quick-start test connector needs. */
import { freePort } from './wait.ts';
import { sandboxedPartners } from '../../src/partners/registry.ts';

/** `{ ITSMC_SANDBOX_PORT: '41234', ITSMC_SCSM_SANDBOX_PORT: '41235', … }`: no quick-start test binds a fixed port. */
export async function sandboxPortEnv(): Promise<Record<string, string>> {
  const env: Record<string, string> = {};
  for (const p of sandboxedPartners()) env[p.sandbox.quickStart.portEnv] = String(await freePort());
  return env;
}
