/**
 * Provance emulator ("sandbox"): the Dataverse Web API behind an Azure AD–style token service, as a real
 * HTTP(S) server with its own SQLite store, deterministic seed data and fault injection.
 * Provance-specific names come from src/partners/provance/mapping.ts and are unverified against a real
 * Provance instance. See server.ts for the routes.
 */
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import type { Command } from 'commander';
import { buildApp } from './server.ts';
import { SANDBOX_CREDENTIALS, seedStore } from './seed.ts';
import { ProvanceStore } from './store.ts';

export { SANDBOX_CREDENTIALS } from './seed.ts';
export { TENANT } from './aad.ts';
export type { FaultConfig, ServiceProtection } from './limits.ts';
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
  const { app } = buildApp(store, { seed: opts.seed ?? 1, logger: opts.logger ?? false, tls: opts.tls });
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
    port,
    apiUrl: `${url}/api/data/v9.2`,
    async close() {
      if (closed) return;
      closed = true;
      await app.close();
      store.close();
    },
  };
}

/** Adds `sandbox provance …` to a commander program (reuses an existing `sandbox` command). */
export function registerProvanceSandboxCommand(program: Command): void {
  const sandbox = program.commands.find((c) => c.name() === 'sandbox') ?? program.command('sandbox').description('Run bundled ITSM emulators');
  sandbox
    .command('provance')
    .description('Run the Provance emulator (Dataverse Web API + Azure AD-style token endpoint) until SIGINT/SIGTERM')
    .option('--port <port>', 'port to listen on', '8084')
    .option('--host <host>', 'address to bind', '127.0.0.1')
    .option('--tls-cert <file>', 'PEM certificate (HTTPS)')
    .option('--tls-key <file>', 'PEM private key (HTTPS)')
    .option('--seed <n>', 'seed of the generated data', '1')
    .option('--days <d>', 'days of case/change history', '120')
    .option('--data-dir <dir>', 'keep the instance in <dir>/provance.sqlite (seeded on first creation only)')
    .option('--incidents <n>', 'number of seeded cases')
    .option('--changes <n>', 'number of seeded change requests')
    .option('--cis <n>', 'number of seeded configuration items')
    .action(async (o: Record<string, string | undefined>) => {
      if (!!o.tlsCert !== !!o.tlsKey) throw new Error('--tls-cert and --tls-key go together');
      const int = (v: string | undefined): number | undefined => (v === undefined ? undefined : Number.parseInt(v, 10));
      const sb = await startProvanceSandbox({
        host: o.host,
        port: int(o.port),
        seed: int(o.seed),
        days: int(o.days),
        dataDir: o.dataDir,
        tls: o.tlsCert && o.tlsKey ? { cert: readFileSync(o.tlsCert, 'utf8'), key: readFileSync(o.tlsKey, 'utf8') } : undefined,
        volume: { incidents: int(o.incidents), changeRequests: int(o.changes), cis: int(o.cis) },
      });
      const c = SANDBOX_CREDENTIALS;
      process.stdout.write(
        `Provance sandbox (Dataverse Web API, mapping unverified against Provance) listening on ${sb.url}\n` +
          `  Web API: ${sb.apiUrl}   token endpoint: ${sb.url}/${c.tenant}/oauth2/v2.0/token\n` +
          `  user: ${c.integration.username} / ${c.integration.password}   client ID: ${c.clientId} (public client)\n`,
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
