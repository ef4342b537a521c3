/**
 * Cherwell Service Management emulator ("sandbox"): a real HTTP(S) server under `/CherwellAPI` with its
 * own SQLite store, deterministic seed data, licence counting and run-time fault injection.
 * See server.ts for the routes and the admin API, README.md for what each behaviour is based on.
 */
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import type { Command } from 'commander';
import type { CherwellRules } from './config.ts';
import { assertTimeZone } from '../../partners/cherwell/dates.ts';
import { buildApp, PREFIX } from './server.ts';
import { SANDBOX_CREDENTIALS, seedStore } from './seed.ts';
import { CwStore } from './store.ts';

export { SANDBOX_CREDENTIALS } from './seed.ts';
export type { CherwellRules } from './config.ts';

export interface CherwellSandboxOptions {
  host?: string;
  /** 0 = random. */
  port?: number;
  /** undefined = in-memory; otherwise `<dataDir>/cherwell.sqlite` (seeded only on first creation). */
  dataDir?: string;
  seed?: number;
  days?: number;
  volume?: { incidents?: number; changeRequests?: number; configItems?: number };
  /** PEM contents; HTTPS when given. */
  tls?: { cert: string; key: string };
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

function openStore(opts: CherwellSandboxOptions): CwStore {
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

export async function startCherwellSandbox(opts: CherwellSandboxOptions = {}): Promise<CherwellSandbox> {
  if (opts.rules?.timeZone) assertTimeZone(opts.rules.timeZone);
  const host = opts.host ?? '127.0.0.1';
  const store = openStore(opts);
  const { app, abortHeld } = buildApp(store, { seed: opts.seed ?? 1, logger: opts.logger ?? false, tls: opts.tls, rules: opts.rules });
  try {
    await app.listen({ host, port: opts.port ?? 0 });
  } catch (e) {
    store.close();
    throw e;
  }
  const port = (app.server.address() as AddressInfo).port;
  const urlHost = host.includes(':') ? `[${host}]` : host === '0.0.0.0' ? '127.0.0.1' : host;
  const url = `${opts.tls ? 'https' : 'http'}://${urlHost}:${port}`;
  let closed = false;
  return {
    url,
    apiUrl: url + PREFIX,
    port,
    async close() {
      if (closed) return;
      closed = true;
      abortHeld();
      await app.close();
      store.close();
    },
  };
}

/** Adds `sandbox cherwell …` to a commander program (reuses an existing `sandbox` command). */
export function registerCherwellSandboxCommand(program: Command): void {
  const sandbox = program.commands.find((c) => c.name() === 'sandbox') ?? program.command('sandbox').description('Run bundled ITSM emulators');
  sandbox
    .command('cherwell')
    .description('Run the Cherwell Service Management emulator (/CherwellAPI REST API) until SIGINT/SIGTERM')
    .option('--port <port>', 'port to listen on', '8083')
    .option('--host <host>', 'address to bind', '127.0.0.1')
    .option('--tls-cert <file>', 'PEM certificate (HTTPS)')
    .option('--tls-key <file>', 'PEM private key (HTTPS)')
    .option('--seed <n>', 'seed of the generated data', '1')
    .option('--days <d>', 'days of incident/change history', '120')
    .option('--data-dir <dir>', 'keep the instance in <dir>/cherwell.sqlite (seeded on first creation only)')
    .option('--time-zone <zone>', 'IANA time zone of the server (dates are US local times in it)', 'America/New_York')
    .option('--licences <n>', 'most concurrent logins (default unlimited)')
    .action(async (o: Record<string, string | undefined>) => {
      if (!!o.tlsCert !== !!o.tlsKey) throw new Error('--tls-cert and --tls-key go together');
      const int = (v: string | undefined): number | undefined => (v === undefined ? undefined : Number.parseInt(v, 10));
      const sb = await startCherwellSandbox({
        host: o.host,
        port: int(o.port),
        seed: int(o.seed),
        days: int(o.days),
        dataDir: o.dataDir,
        tls: o.tlsCert && o.tlsKey ? { cert: readFileSync(o.tlsCert, 'utf8'), key: readFileSync(o.tlsKey, 'utf8') } : undefined,
        rules: { timeZone: o.timeZone, ...(o.licences ? { licenceCap: int(o.licences) } : {}) },
      });
      const c = SANDBOX_CREDENTIALS;
      process.stdout.write(
        `Cherwell sandbox listening on ${sb.apiUrl}\n` +
          `  user: ${c.integration.user} / ${c.integration.password}   REST client ID: ${c.restClient.clientId}\n` +
          `  admin API (Basic ${c.admin.user} / ${c.admin.password}): ${sb.apiUrl}/api/x_sandbox/{rules,faults,licences,stats}\n`,
      );
      await new Promise<void>((resolve) => {
        const stop = (): void => {
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
          resolve();
        };
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
      });
      await sb.close();
    });
}
