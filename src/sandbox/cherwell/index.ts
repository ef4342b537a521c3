/**
 * Cherwell Service Management emulator ("sandbox"): a real HTTP(S) server under `/CherwellAPI` with its
 * own SQLite store, deterministic seed data, licence counting and run-time fault injection.
 * See server.ts for the routes and the admin API, README.md for what each behaviour is based on.
 */
import type { SandboxStartOptions } from '../../partners/descriptor.ts';
import { listenSandbox } from '../common/server.ts';
import type { CherwellRules } from './config.ts';
import { assertTimeZone } from '../../partners/cherwell/dates.ts';
import { buildApp, PREFIX } from './server.ts';
import { seedStore } from './seed.ts';
import { CwStore } from './store.ts';

export { SANDBOX_CREDENTIALS } from './seed.ts';
export type { CherwellRules } from './config.ts';

/** The common start options (data in `<dataDir>/cherwell.sqlite`, in memory without one) and Cherwell's own. */
export interface CherwellSandboxOptions extends Omit<SandboxStartOptions, 'size'> {
  volume?: { incidents?: number; changeRequests?: number; configItems?: number };
  logger?: boolean;
  /** Anchor time of the seed data (default: now). Same seed + same anchor → identical data. */
  now?: Date | string | number;
  /** Initial run-time rules (time zone, licence cap …); changeable later through the admin API. */
  rules?: Partial<CherwellRules>;
}

export interface CherwellSandbox {
  /** Server root, e.g. http://127.0.0.1:8083 (the API lives under `${url}/CherwellAPI`). */
  url: string;
  /** `${url}/CherwellAPI`, what a Cherwell connection's Server URL points at. */
  apiUrl: string;
  port: number;
  close(): Promise<void>;
}

/** Bumped whenever the stored schema changes; an older data file is refused rather than misread. */
const SCHEMA_VERSION = '1';

export const DEFAULT_VOLUME = { incidents: 6000, changeRequests: 1500, configItems: 300 };

/** Opens (and on first use seeds) the store. The "seeded" marker is written last: a file whose seed was
 * interrupted has none and is seeded again from scratch. */
async function openStore(opts: CherwellSandboxOptions): Promise<CwStore> {
  const store = new CwStore(opts.dataDir);
  try {
    store.createTables();
    const version = store.getMeta('schema_version');
    if (store.getMeta('seeded_at') && version !== SCHEMA_VERSION) {
      throw new Error(`${store.file} was made by another version of the Cherwell sandbox (schema ${version ?? '?'}); delete it to reseed`);
    }
    if (!store.getMeta('seeded_at')) {
      const seedOpts = {
        seed: opts.seed ?? 1,
        days: opts.days ?? 120,
        nowMs: opts.now === undefined ? Date.now() : new Date(opts.now).getTime(),
        incidents: opts.volume?.incidents ?? DEFAULT_VOLUME.incidents,
        changeRequests: opts.volume?.changeRequests ?? DEFAULT_VOLUME.changeRequests,
        configItems: opts.volume?.configItems ?? DEFAULT_VOLUME.configItems,
      };
      await seedStore(store, seedOpts);
      store.setMeta('seed', JSON.stringify(seedOpts));
      store.setMeta('schema_version', SCHEMA_VERSION);
      store.setMeta('seeded_at', new Date().toISOString());
    }
    store.createIndexes();
    return store;
  } catch (e) {
    store.close();
    throw e;
  }
}

export async function startCherwellSandbox(opts: CherwellSandboxOptions = {}): Promise<CherwellSandbox> {
  if (opts.rules?.timeZone) assertTimeZone(opts.rules.timeZone);
  const host = opts.host ?? '127.0.0.1';
  const store = await openStore(opts);
  const { app, abortHeld } = buildApp(store, { seed: opts.seed ?? 1, logger: opts.logger ?? false, tls: opts.tls, rules: opts.rules });
  let where: { url: string; port: number };
  try {
    where = await listenSandbox(app, host, opts.port ?? 0, !!opts.tls);
  } catch (e) {
    store.close();
    throw e;
  }
  let closed = false;
  return {
    url: where.url,
    apiUrl: where.url + PREFIX,
    port: where.port,
    async close() {
      if (closed) return;
      closed = true;
      abortHeld();
      await app.close();
      store.close();
    },
  };
}
