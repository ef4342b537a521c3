/**
 * System Center Service Manager emulator ("sandbox"): Microsoft's Service Manager Web app (the API ITSMC
 * called) plus the Azure AD token service it relies on, as one real HTTP(S) server with its own SQLite
 * store, deterministic seed data and run-time fault injection. See server.ts for the routes.
 */
import type { RunningSandbox, SandboxStartOptions } from '../../partners/descriptor.ts';
import { listenSandbox } from '../common/server.ts';
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

/** Bumped whenever the stored schema changes; an older data file is refused rather than misread. */
const SCHEMA_VERSION = '1';

export const DEFAULT_VOLUME = { incidents: 6000, changeRequests: 1500, computers: 500 };

function openSeeded(opts: ScsmSandboxOptions): ScsmStore {
  const store = new ScsmStore(opts.dataDir);
  try {
    store.createTables();
    const version = store.getMeta('schema_version');
    if (store.getMeta('seeded_at') && version !== SCHEMA_VERSION) {
      throw new Error(`${store.file} was made by another version of the SCSM sandbox (schema ${version ?? '?'}); delete it to reseed`);
    }
    if (!store.getMeta('seeded_at')) {
      const seedOpts = {
        seed: opts.seed ?? 1,
        days: opts.days ?? 120,
        nowMs: opts.now === undefined ? Date.now() : new Date(opts.now).getTime(),
        incidents: opts.volume?.incidents ?? DEFAULT_VOLUME.incidents,
        changeRequests: opts.volume?.changeRequests ?? DEFAULT_VOLUME.changeRequests,
        computers: opts.volume?.computers ?? DEFAULT_VOLUME.computers,
      };
      // Data and the "seeded" marker commit together, so a crash never leaves a half-seeded file.
      store.bulk(() => {
        seedStore(store, seedOpts);
        store.setMeta('seed', JSON.stringify(seedOpts));
        store.setMeta('schema_version', SCHEMA_VERSION);
        store.setMeta('seeded_at', new Date().toISOString());
      });
    }
    store.createIndexes();
    return store;
  } catch (e) {
    store.close();
    throw e;
  }
}

export async function startScsmSandbox(opts: ScsmSandboxOptions = {}): Promise<ScsmSandbox> {
  const host = opts.host ?? '127.0.0.1';
  const store = openSeeded(opts);
  const { app, abortHeld } = buildApp(store, { seed: opts.seed ?? 1, logger: opts.logger ?? false, tls: opts.tls });
  let bound: { url: string; port: number };
  try {
    bound = await listenSandbox(app, host, opts.port ?? 0, !!opts.tls);
  } catch (e) {
    store.close();
    throw e;
  }
  let closed = false;
  return {
    url: bound.url,
    port: bound.port,
    async close() {
      if (closed) return;
      closed = true;
      abortHeld();
      await app.close();
      store.close();
    },
  };
}
