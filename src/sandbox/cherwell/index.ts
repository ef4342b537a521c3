/**
 * Cherwell Service Management emulator ("sandbox"): a real HTTP(S) server under `/CherwellAPI` with its
 * own SQLite store, deterministic seed data, licence counting and run-time fault injection.
 * See server.ts for the routes and the admin API, README.md for what each behaviour is based on.
 */
import type { SandboxStartOptions } from '../../partners/descriptor.ts';
import { serveSandbox } from '../common/server.ts';
import { openSeededStore, seedOptions } from '../common/store.ts';
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

/** Bumped whenever the stored schema changes (see openSeededStore). */
const SCHEMA_VERSION = '1';

export const DEFAULT_VOLUME = { incidents: 6000, changeRequests: 1500, configItems: 300 };

/** Opens (and on first use seeds) the store. The seed inserts in small transactions and yields; the "seeded"
 * marker is written last: a file whose seed was interrupted has none and is seeded again from scratch. */
function openStore(opts: CherwellSandboxOptions): Promise<CwStore> {
  return openSeededStore(new CwStore(opts.dataDir), {
    product: 'Cherwell',
    schemaVersion: SCHEMA_VERSION,
    options: seedOptions(opts, DEFAULT_VOLUME),
    writes: 'batches',
    seed: seedStore,
  });
}

export async function startCherwellSandbox(opts: CherwellSandboxOptions = {}): Promise<CherwellSandbox> {
  if (opts.rules?.timeZone) assertTimeZone(opts.rules.timeZone);
  const store = await openStore(opts);
  const { app, abortHeld } = buildApp(store, { seed: opts.seed ?? 1, logger: opts.logger ?? false, tls: opts.tls, rules: opts.rules });
  const running = await serveSandbox(app, store, abortHeld, opts);
  return { ...running, apiUrl: running.url + PREFIX };
}
