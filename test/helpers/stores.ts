import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { Store } from '../../src/store/store.ts';
import { readSettings, type Settings } from '../../src/config/env.ts';
import { startConnector, type Connector } from '../../src/runtime/connector.ts';
import type { DeliverySettings } from '../../src/delivery/settings.ts';
import type { Dialect } from '../../src/store/dialect.ts';

export type TestDialect = Dialect;
export const testDialects: TestDialect[] = ['sqlite', 'postgres'];

export const pgUrl = () => process.env.ITSMC_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export function tempDir(prefix = 'itsmc-test-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** A schema of its own per test run, so runs on one PostgreSQL never see each other. */
export function uniqueSchema(): string {
  return `t_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
}

export async function dropSchema(schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: pgUrl() });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  } finally {
    await client.end();
  }
}

export interface TestStore {
  store: Store;
  dataDir: string;
  pgSchema?: string;
  cleanup(): Promise<void>;
}

export async function openTestStore(dialect: TestDialect): Promise<TestStore> {
  const dataDir = tempDir();
  const pgSchema = dialect === 'postgres' ? uniqueSchema() : undefined;
  const store = await Store.open({ dataDir, databaseUrl: dialect === 'postgres' ? pgUrl() : undefined, pgSchema });
  await store.migrate();
  return {
    store,
    dataDir,
    pgSchema,
    async cleanup() {
      await store.close();
      if (pgSchema) await dropSchema(pgSchema);
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export interface TestConnector extends Connector {
  settings: Settings;
  pgSchema?: string;
  cleanup(): Promise<void>;
}

/**
 * A whole connector on port 0 with a fresh data dir (and schema on PostgreSQL). No sandbox and no
 * background data sync unless the test asks (`ITSMC_SYNC: '1'`): tests drive syncs themselves.
 */
/**
 * Settings of a connector started by a test or a benchmark: any free port on 127.0.0.1, no bundled sandboxes,
 * no background data sync; `env` adds to or overrides them (ITSMC_* variables).
 */
export function testSettings(dataDir: string, env: Record<string, string> = {}): Settings {
  return readSettings({ PORT: '0', ITSMC_HOST: '127.0.0.1', ITSMC_DATA_DIR: dataDir, ITSMC_SANDBOX: '0', ITSMC_SYNC: '0', ...env });
}

export async function startTestConnector(dialect: TestDialect, env: Record<string, string> = {}, delivery?: Partial<DeliverySettings>): Promise<TestConnector> {
  const dataDir = tempDir();
  const pgSchema = dialect === 'postgres' ? uniqueSchema() : undefined;
  const settings = testSettings(dataDir, { ...(dialect === 'postgres' ? { ITSMC_DATABASE_URL: pgUrl() } : {}), ...env });
  const connector = await startConnector({ settings, pgSchema, delivery });
  return {
    ...connector,
    settings,
    pgSchema,
    async cleanup() {
      await connector.close();
      if (pgSchema) await dropSchema(pgSchema);
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** fetch with the bearer token and JSON, returning status and parsed body. */
export async function api(base: string, token: string | null, method: string, pathname: string, body?: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(base + pathname, {
    method,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...headers,
    },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let json: any;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = text;
  }
  return { status: res.status, body: json, headers: res.headers };
}
