import os from 'node:os';
import fs from 'node:fs';
import path from 'node:path';
import autocannon from 'autocannon';
import { startConnector } from '../src/runtime/connector.ts';
import { sandboxedPartners } from '../src/partners/registry.ts';
import { sandboxConnectionInput } from '../src/runtime/quickstart.ts';
import { testSettings } from '../test/helpers/stores.ts';
import type { BenchResult } from './types.ts';

/**
 * F0: authenticated PUT of a connection per second (each one signs in to the ServiceNow sandbox to check the
 * credentials), beside an authenticated no-op route in the same run.
 */
export default async function run(): Promise<BenchResult[]> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'itsmc-bench-'));
  // A PUT checks the credentials against the partner: the ServiceNow sandbox answers them.
  const partner = sandboxedPartners()[0];
  const sandbox = await partner.sandbox.start({ port: 0, size: 'small', days: 1 });
  const settings = testSettings(dataDir, { ITSMC_ALLOWED_PARTNER_HOSTS: new URL(sandbox.url).host });
  const connector = await startConnector({ settings, listen: false });
  connector.app.get('/api/v1/noop', { config: { access: 'reader' } }, async () => ({ ok: true }));
  const address = await connector.app.listen({ port: 0, host: '127.0.0.1' });
  const headers = { authorization: `Bearer ${connector.adminToken}`, 'content-type': 'application/json' };
  try {
    const body = JSON.stringify(sandboxConnectionInput(partner, sandbox.url, { syncDataDays: 30 }));
    // Created once first, so the measured PUTs all replace it.
    const created = await fetch(`${address}/api/v1/workspaces/default/connections/bench`, { method: 'PUT', headers, body });
    if (created.status !== 201) throw new Error(`PUT connection: ${created.status} ${await created.text()}`);
    await load(`${address}/api/v1/workspaces/default/connections/bench`, 'PUT', headers, body, 1); // warm-up
    const put = await load(`${address}/api/v1/workspaces/default/connections/bench`, 'PUT', headers, body, 5);
    const noop = await load(`${address}/api/v1/noop`, 'GET', headers, undefined, 5);
    return [
      {
        id: 'F0',
        name: 'Authenticated PUT connection with its credential check (SQLite)',
        value: put,
        unit: 'req/s',
        goal: null,
        baseline: noop,
        ratio: put / noop,
      },
    ];
  } finally {
    await connector.close();
    await sandbox.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

async function load(url: string, method: 'GET' | 'PUT', headers: Record<string, string>, body: string | undefined, seconds: number): Promise<number> {
  const result = await autocannon({ url, method, headers, body, connections: 10, duration: seconds });
  if (result.non2xx > 0 || result.errors > 0) throw new Error(`${method} ${url}: ${result.non2xx} non-2xx, ${result.errors} errors`);
  return result.requests.average;
}
