/**
 * System Center Service Manager emulator ("sandbox"): Microsoft's Service Manager Web app (the API ITSMC
 * called) plus the Azure AD token service it relies on, as one real HTTP(S) server with its own SQLite
 * store, deterministic seed data and run-time fault injection. See server.ts for the routes.
 */
import type { RunningSandbox, SandboxStartOptions } from '../../partners/descriptor.ts';
import { serveSandbox } from '../common/server.ts';
import { openSeededStore, seedOptions } from '../common/store.ts';
import { seedStore } from './seed.ts';
import { buildApp } from './server.ts';
import { ScsmStore } from './store.ts';

export { SEEDED_CREDENTIALS, DEFAULT_SETTINGS } from './settings.ts';
export type { WebAppSettings } from './settings.ts';
export { SEEDED_TEMPLATES, templateId } from './seed.ts';
export { TENANT_ID } from './aad.ts';

export interface ScsmSandboxOptions extends Omit<SandboxStartOptions, 'size'> {
  volume?: { incidents?: number; changeRequests?: number; computers?: number };
  logger?: boolean;
  /** Anchor time of the seed data (default: now). Same seed + same anchor → identical data. */
  now?: Date | string | number;
}

/** The running emulator (`dataDir`: `<dataDir>/scsm.sqlite`, seeded only on first creation; none = in memory). */
export type ScsmSandbox = Omit<RunningSandbox, 'faults'>;

/** Bumped whenever the stored schema changes (see openSeededStore). */
const SCHEMA_VERSION = '1';

export const DEFAULT_VOLUME = { incidents: 6000, changeRequests: 1500, computers: 500 };

function openSeeded(opts: ScsmSandboxOptions): Promise<ScsmStore> {
  return openSeededStore(new ScsmStore(opts.dataDir), {
    product: 'SCSM',
    schemaVersion: SCHEMA_VERSION,
    options: seedOptions(opts, DEFAULT_VOLUME),
    writes: 'bulk',
    seed: seedStore,
  });
}

export async function startScsmSandbox(opts: ScsmSandboxOptions = {}): Promise<ScsmSandbox> {
  const store = await openSeeded(opts);
  const { app, abortHeld } = buildApp(store, { seed: opts.seed ?? 1, logger: opts.logger ?? false, tls: opts.tls });
  return serveSandbox(app, store, abortHeld, opts);
}
