import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { api, startTestConnector, type TestConnector } from '../helpers/stores.ts';
import { sandboxPortEnv } from '../helpers/sandbox-ports.ts';
import { eventually } from '../helpers/wait.ts';
import { ProvanceReader } from '../delivery/provance-harness.ts';

describe('quick start (what `npm start` does)', () => {
  let c: TestConnector;
  before(async () => {
    c = await startTestConnector('sqlite', { ITSMC_SANDBOX: '1', ...(await sandboxPortEnv()), ITSMC_SYNC: '1' });
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

  it('starts the Provance sandbox with a Healthy connection provance-sandbox, marked unverified, and the action group sandbox-provance', async () => {
    const res = await api(c.url, c.adminToken, 'GET', '/api/v1/workspaces/default/connections/provance-sandbox');
    assert.equal(res.status, 200);
    assert.equal(res.body.status, 'Healthy', res.body.lastError);
    assert.ok(
      res.body.warnings.some((w: string) => /unverified/.test(w)),
      JSON.stringify(res.body.warnings),
    );
    const group = await api(c.url, c.adminToken, 'GET', '/api/v1/workspaces/default/actionGroups/sandbox-provance');
    assert.equal(group.status, 200);
    assert.equal(group.body.itsmReceivers[0].connectionName, 'provance-sandbox');
  });

  it("after the sync, KQL counts by type and state for provance-sandbox equal the Provance sandbox's own counts read through its Web API", async () => {
    const conn = await api(c.url, c.adminToken, 'GET', '/api/v1/workspaces/default/connections/provance-sandbox');
    const sandbox = new ProvanceReader({ url: conn.body.serverUrl, apiUrl: `${conn.body.serverUrl}/api/data/v9.2` });
    const own = new Map<string, number>();
    const tally = (key: string) => own.set(key, (own.get(key) ?? 0) + 1);
    const LABEL = '@OData.Community.Display.V1.FormattedValue';
    for (const r of await sandbox.all('incidents?$select=statecode')) tally(`Incident|${r[`statecode${LABEL}`]}`);
    for (const r of await sandbox.all('prov_changerequests?$select=prov_changestate')) tally(`ChangeRequest|${r[`prov_changestate${LABEL}`]}`);
    const kql = async (query: string): Promise<[string, number][]> => {
      const res = await api(c.url, c.adminToken, 'POST', '/v1/workspaces/default/query', { query, timespan: 'P1D' });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      return res.body.tables[0].rows;
    };
    const latest = (type: string, state: string) =>
      `ServiceDesk_CL | where ServiceDeskConnectionName_s == 'provance-sandbox' and ServiceDeskWorkItemType_s == '${type}' | summarize arg_max(TimeGenerated, ${state}) by ServiceDeskId_s | summarize count() by ${state}`;
    const synced = await eventually(
      'ServiceDesk_CL holds every Provance record',
      async () => {
        const m = new Map<string, number>();
        for (const [state, n] of await kql(latest('Incident', 'IncidentState_s'))) m.set(`Incident|${state}`, n);
        for (const [state, n] of await kql(latest('ChangeRequest', 'CRState_s'))) m.set(`ChangeRequest|${state}`, n);
        const total = [...m.values()].reduce((a, b) => a + b, 0);
        return total === [...own.values()].reduce((a, b) => a + b, 0) ? m : undefined;
      },
      120_000,
    );
    assert.deepEqual(new Map([...synced].sort()), new Map([...own].sort()));
    assert.ok(own.size >= 5, 'several types and states');
  });
});
