/**
 * Provance emulator ("sandbox"): the Dataverse Web API behind an Azure AD–style token service, as a real
 * HTTP(S) server with its own SQLite store, deterministic seed data and fault injection.
 * Provance-specific names come from src/partners/provance/mapping.ts and are unverified against a real
 * Provance instance. See server.ts for the routes.
 */
import { serveSandbox } from '../common/server.ts';
import { openSeededStore, seedOptions } from '../common/store.ts';
import { buildApp } from './server.ts';
import { seedStore } from './seed.ts';
import { ProvanceStore } from './store.ts';

export { SANDBOX_CREDENTIALS } from './seed.ts';
export { TENANT } from './aad.ts';
export type { ServiceProtection } from './limits.ts';
export { ADMIN_PREFIX } from './server.ts';
export type { SandboxRules } from './writes.ts';

export interface ProvanceSandboxOptions {
  host?: string;
  /** 0 = random. */
  port?: number;
  /** undefined = in-memory; otherwise `<dataDir>/provance.sqlite` (seeded only on first creation). */
  dataDir?: string;
  seed?: number;
  days?: number;
  volume?: { incidents?: number; changeRequests?: number; cis?: number };
  /** PEM contents; HTTPS when given. */
  tls?: { cert: string; key: string };
  logger?: boolean;
  /** Anchor time of the seed data (default: now). Same seed + same anchor → identical data. */
  now?: Date | string | number;
}

export interface ProvanceSandbox {
  url: string;
  port: number;
  /** The Dataverse Web API root, `<url>/api/data/v9.2`. */
  apiUrl: string;
  close(): Promise<void>;
}

/** Bumped whenever the stored schema changes (see openSeededStore). */
const SCHEMA_VERSION = '1';

export const DEFAULT_VOLUME = { incidents: 6000, changeRequests: 1500, cis: 500 };

function openStore(opts: ProvanceSandboxOptions): Promise<ProvanceStore> {
  return openSeededStore(new ProvanceStore(opts.dataDir), {
    product: 'Provance',
    schemaVersion: SCHEMA_VERSION,
    options: seedOptions(opts, DEFAULT_VOLUME),
    writes: 'transaction',
    seed: seedStore,
  });
}

export async function startProvanceSandbox(opts: ProvanceSandboxOptions = {}): Promise<ProvanceSandbox> {
  const store = await openStore(opts);
  const { app, held } = buildApp(store, { seed: opts.seed ?? 1, logger: opts.logger ?? false, tls: opts.tls });
  const running = await serveSandbox(app, store, () => held.abortHeld(), opts);
  return { ...running, apiUrl: `${running.url}/api/data/v9.2` };
}
