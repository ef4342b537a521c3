/**
 * Provance emulator ("sandbox"): the Dataverse Web API behind an Azure AD–style token service, as a real
 * HTTP(S) server with its own SQLite store, deterministic seed data and fault injection.
 * Provance-specific names come from src/partners/provance/mapping.ts and are unverified against a real
 * Provance instance. See server.ts for the routes.
 */
import { listenSandbox } from '../common/server.ts';
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

const SCHEMA_VERSION = '1';

export const DEFAULT_VOLUME = { incidents: 6000, changeRequests: 1500, cis: 500 };

function openStore(opts: ProvanceSandboxOptions): ProvanceStore {
  const store = new ProvanceStore(opts.dataDir);
  try {
    store.createTables();
    const version = store.getMeta('schema_version');
    if (store.getMeta('seeded_at') && version !== SCHEMA_VERSION) {
      throw new Error(`${store.file} was made by another version of the Provance sandbox (schema ${version ?? '?'}); delete it to reseed`);
    }
    if (!store.getMeta('seeded_at')) {
      const seedOpts = {
        seed: opts.seed ?? 1,
        days: opts.days ?? 120,
        nowMs: opts.now === undefined ? Date.now() : new Date(opts.now).getTime(),
        incidents: opts.volume?.incidents ?? DEFAULT_VOLUME.incidents,
        changeRequests: opts.volume?.changeRequests ?? DEFAULT_VOLUME.changeRequests,
        cis: opts.volume?.cis ?? DEFAULT_VOLUME.cis,
      };
      // Data and the "seeded" marker commit together, so a crash never leaves a half-seeded file.
      store.db.transaction(() => {
        seedStore(store, seedOpts);
        store.setMeta('seed', JSON.stringify(seedOpts));
        store.setMeta('schema_version', SCHEMA_VERSION);
        store.setMeta('seeded_at', new Date().toISOString());
      })();
    }
    store.createIndexes();
    return store;
  } catch (e) {
    store.close();
    throw e;
  }
}

export async function startProvanceSandbox(opts: ProvanceSandboxOptions = {}): Promise<ProvanceSandbox> {
  const host = opts.host ?? '127.0.0.1';
  const store = openStore(opts);
  const { app, held } = buildApp(store, { seed: opts.seed ?? 1, logger: opts.logger ?? false, tls: opts.tls });
  let url: string;
  let port: number;
  try {
    ({ url, port } = await listenSandbox(app, host, opts.port ?? 0, !!opts.tls));
  } catch (e) {
    store.close();
    throw e;
  }
  let closed = false;
  return {
    url,
    port,
    apiUrl: `${url}/api/data/v9.2`,
    async close() {
      if (closed) return;
      closed = true;
      held.abortHeld();
      await app.close();
      store.close();
    },
  };
}
