/**
 * High-fidelity ServiceNow emulator ("sandbox"): a real HTTP(S) server with its own SQLite store,
 * deterministic seed data and run-time fault injection. See server.ts for the routes and the admin API.
 */
import { serveSandbox } from '../common/server.ts';
import { openSeededStore, seedOptions } from '../common/store.ts';
import { buildApp } from './server.ts';
import { seedStore } from './seed.ts';
import { SnStore } from './store.ts';
import { applyBusinessRules } from './business.ts';

export { SEEDED_CREDENTIALS, INTEGRATION_ROLES } from './seed.ts';
export type { SandboxRules, OAuthSettings } from './config.ts';
export type { FaultConfig, RateRule } from './faults.ts';

export interface ServiceNowSandboxOptions {
  host?: string;
  /** 0 = random. */
  port?: number;
  /** undefined = in-memory; otherwise `<dataDir>/servicenow.sqlite` (seeded only on first creation). */
  dataDir?: string;
  seed?: number;
  days?: number;
  volume?: { incidents?: number; changeRequests?: number; computers?: number };
  /** PEM contents; HTTPS when given. */
  tls?: { cert: string; key: string };
  logger?: boolean;
  /** Anchor time of the seed data (default: now). Same seed + same anchor → identical data. */
  now?: Date | string | number;
}

export interface ServiceNowSandbox {
  url: string;
  port: number;
  close(): Promise<void>;
}

/** Bumped whenever the stored schema changes (see openSeededStore). */
const SCHEMA_VERSION = '1';

export const DEFAULT_VOLUME = { incidents: 6000, changeRequests: 1500, computers: 500 };

export async function startServiceNowSandbox(opts: ServiceNowSandboxOptions = {}): Promise<ServiceNowSandbox> {
  return (await startWithStore(opts)).sandbox;
}

/**
 * Same as startServiceNowSandbox, also handing back the sandbox's own store (for benchmarks that
 * compare the HTTP path with reading the same SQLite database directly). Not part of the public contract.
 */
export async function startWithStore(opts: ServiceNowSandboxOptions = {}): Promise<{ sandbox: ServiceNowSandbox; store: SnStore }> {
  const store = await openSeededStore(new SnStore(opts.dataDir, applyBusinessRules), {
    product: 'ServiceNow',
    schemaVersion: SCHEMA_VERSION,
    options: seedOptions(opts, DEFAULT_VOLUME),
    writes: 'bulk',
    seed: seedStore,
  });
  const { app, abortHeld } = buildApp(store, { seed: opts.seed ?? 1, logger: opts.logger ?? false, tls: opts.tls });
  return { sandbox: await serveSandbox(app, store, abortHeld, opts), store };
}
