import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { api, startTestConnector, type TestConnector } from '../helpers/stores.ts';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

async function eventually<T>(what: string, probe: () => Promise<T | undefined>, limitMs = 60_000): Promise<T> {
  const deadline = Date.now() + limitMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`gave up waiting: ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('quick start (what `npm start` does)', () => {
  let c: TestConnector;
  before(async () => {
    c = await startTestConnector('sqlite', { ITSMC_SANDBOX: '1', ITSMC_SANDBOX_PORT: String(await freePort()), ITSMC_SYNC: '1' });
  });
  after(async () => c.cleanup());

  it('starts the sandbox and a Healthy connection servicenow-sandbox in workspace default', async () => {
    const res = await api(c.url, c.adminToken, 'GET', '/api/v1/workspaces/default/connections/servicenow-sandbox');
    assert.equal(res.status, 200);
    assert.equal(res.body.status, 'Healthy', res.body.lastError);
    assert.equal(res.body.serverUrl, c.sandboxUrl);
    const issued = await fetch(`${c.sandboxUrl}/api/x_sandbox/oauth`, { headers: { authorization: `Basic ${Buffer.from('admin:admin').toString('base64')}` } });
    const { refreshTokenLifetimeSec } = (await issued.json()) as { refreshTokenLifetimeSec: number };
    assert.equal(res.body.refreshTokenLifetimeSeconds, refreshTokenLifetimeSec, 'the refresh token lifetime the sandbox issues');
    assert.equal(res.body.refreshTokenLifetimeSource, 'connection');
  });

  it('creates the action group sandbox and shows its webhook URL', async () => {
    const res = await api(c.url, c.adminToken, 'GET', '/api/v1/workspaces/default/actionGroups/sandbox');
    assert.equal(res.status, 200);
    assert.match(res.body.webhookUrl, /\/hooks\/\S+$/);
    assert.equal(res.body.itsmReceivers[0].connectionName, 'servicenow-sandbox');
  });

  it('syncs the sandbox history so the SPEC query answers with incidents and change requests', async () => {
    const counts = await eventually('ServiceDesk_CL has both work item types', async () => {
      const res = await api(c.url, c.adminToken, 'POST', '/v1/workspaces/default/query', {
        query: 'ServiceDesk_CL | summarize count() by ServiceDeskWorkItemType_s',
        timespan: 'P1D',
      });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      const rows: [string, number][] = res.body.tables[0].rows;
      return rows.length === 2 ? new Map(rows) : undefined;
    });
    assert.ok((counts.get('Incident') ?? 0) > 0);
    assert.ok((counts.get('ChangeRequest') ?? 0) > 0);
  });
});
