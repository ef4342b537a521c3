/**
 * High-fidelity ServiceNow emulator ("sandbox"): a real HTTP(S) server with its own SQLite store,
 * deterministic seed data and run-time fault injection. See server.ts for the routes and the admin API.
 */
import { listenSandbox } from '../common/server.ts';
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

/** Bumped whenever the stored schema changes; an older data file is refused rather than misread. */
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
  const host = opts.host ?? '127.0.0.1';
  const store = new SnStore(opts.dataDir, applyBusinessRules);
  try {
    store.createTables();
    const version = store.getMeta('schema_version');
    if (store.getMeta('seeded_at') && version !== SCHEMA_VERSION) {
      throw new Error(`${store.file} was made by another version of the ServiceNow sandbox (schema ${version ?? '?'}); delete it to reseed`);
    }
    if (!store.getMeta('seeded_at')) {
      const nowMs = opts.now === undefined ? Date.now() : new Date(opts.now).getTime();
      const seedOpts = {
        seed: opts.seed ?? 1,
        days: opts.days ?? 120,
        nowMs,
        incidents: opts.volume?.incidents ?? DEFAULT_VOLUME.incidents,
        changeRequests: opts.volume?.changeRequests ?? DEFAULT_VOLUME.changeRequests,
        computers: opts.volume?.computers ?? DEFAULT_VOLUME.computers,
      };
      // Data and the "seeded" marker commit together, so a crash never leaves a half-seeded file.
      store.bulk(() =>
        store.db.transaction(() => {
          seedStore(store, seedOpts);
          store.setMeta('seed', JSON.stringify(seedOpts));
          store.setMeta('schema_version', SCHEMA_VERSION);
          store.setMeta('seeded_at', new Date().toISOString());
        })(),
      );
    }
    store.createIndexes();
  } catch (e) {
    store.close();
    throw e;
  }
  const { app, abortHeld } = buildApp(store, { seed: opts.seed ?? 1, logger: opts.logger ?? false, tls: opts.tls });
  let where: { url: string; port: number };
  try {
    where = await listenSandbox(app, host, opts.port ?? 0, !!opts.tls);
  } catch (e) {
    store.close();
    throw e;
  }
  let closed = false;
  const sandbox: ServiceNowSandbox = {
    ...where,
    async close() {
      if (closed) return;
      closed = true;
      abortHeld();
      await app.close();
      store.close();
    },
  };
  return { sandbox, store };
}
