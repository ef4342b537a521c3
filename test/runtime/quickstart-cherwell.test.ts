/**
 * The quick start with Cherwell (what `npm start` does): the Cherwell sandbox on its own port, the Healthy
 * connection `cherwell-sandbox`, the action group `sandbox-cherwell` taking an Azure alert to one incident,
 * and the synced history: KQL counts by type and state equal the sandbox's own counts from its search API.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { api, startTestConnector, type TestConnector } from '../helpers/stores.ts';
import { sandboxPortEnv } from '../helpers/sandbox-ports.ts';
import { eventually } from '../helpers/wait.ts';
import { metricAlert, postHook } from '../delivery/helpers.ts';
import { cherwellCount, cherwellProbe, cherwellStates, type ProbeSandbox } from '../delivery/partners.ts';

describe('quick start with the Cherwell sandbox', () => {
  let c: TestConnector;
  let sb: ProbeSandbox;
  let mapping: string[] = [];
  before(async () => {
    const ports = await sandboxPortEnv();
    c = await startTestConnector('sqlite', { ITSMC_SANDBOX: '1', ITSMC_SYNC: '1', ...ports });
    const url = `http://127.0.0.1:${ports.ITSMC_CHERWELL_SANDBOX_PORT}`;
    sb = { url, host: new URL(url).host, close: async () => undefined };
    mapping = Object.keys(ports);
  });
  after(async () => c.cleanup());

  it('moves the Cherwell sandbox by its own environment variable and connects cherwell-sandbox Healthy', async () => {
    assert.ok(mapping.includes('ITSMC_CHERWELL_SANDBOX_PORT'));
    const res = await api(c.url, c.adminToken, 'GET', '/api/v1/workspaces/default/connections/cherwell-sandbox');
    assert.equal(res.status, 200);
    assert.equal(res.body.status, 'Healthy', res.body.lastError);
    assert.equal(res.body.partnerType, 'Cherwell');
    assert.equal(res.body.serverUrl, `${sb.url}/CherwellAPI`);
  });

  it('takes an Azure alert posted to sandbox-cherwell to one incident with its CI, a note per re-fire, and resolves it', async () => {
    const group = await api(c.url, c.adminToken, 'GET', '/api/v1/workspaces/default/actionGroups/sandbox-cherwell');
    assert.equal(group.status, 200);
    assert.equal(group.body.itsmReceivers[0].connectionName, 'cherwell-sandbox');
    const hook: string = group.body.webhookUrl;
    const mine = async () => (await cherwellProbe.incidents(sb)).filter((i) => i.title.includes('qs-cherwell-cpu'));
    assert.equal((await postHook(hook, metricAlert({ rule: 'qs-cherwell-cpu', alertId: 'qs-1', cis: ['vm-quickstart-01'] }))).status, 202);
    const [inc] = await eventually('the incident', async () => ((await mine()).length ? mine() : undefined), 60_000);
    assert.equal((await mine()).length, 1);
    assert.equal(inc.ci, 'vm-quickstart-01');
    const before = (await cherwellProbe.notes(sb, inc.id)).length;
    await postHook(hook, metricAlert({ rule: 'qs-cherwell-cpu', alertId: 'qs-2', cis: ['vm-quickstart-01'] }));
    await eventually('one more journal note', async () => ((await cherwellProbe.notes(sb, inc.id)).length === before + 1 ? true : undefined), 60_000);
    await postHook(hook, metricAlert({ rule: 'qs-cherwell-cpu', alertId: 'qs-1', condition: 'Resolved', cis: ['vm-quickstart-01'] }));
    await postHook(hook, metricAlert({ rule: 'qs-cherwell-cpu', alertId: 'qs-2', condition: 'Resolved', cis: ['vm-quickstart-01'] }));
    await eventually('resolved', async () => ((await mine())[0]?.resolved ? true : undefined), 60_000);
    assert.equal((await mine()).length, 1, 'still exactly one incident');
    assert.equal((await cherwellProbe.notes(sb, inc.id)).length >= before + 1, true);
  });

  it('syncs so that KQL counts by type and state equal the counts the sandbox reports through its search API', async () => {
    const expected = new Map<string, number>();
    for (const [type, name] of [
      ['Incident', 'Incident'],
      ['ChangeRequest', 'ChangeRequest'],
    ] as const) {
      for (const state of await cherwellStates(sb, name)) {
        const n = await cherwellCount(sb, name, [{ field: 'Status', operator: 'eq', value: state }]);
        if (n > 0) expected.set(`${type}|${state}`, n);
      }
    }
    assert.ok(expected.size > 4, 'the sandbox has history in several states');
    const query =
      "ServiceDesk_CL | where ServiceDeskConnectionName_s == 'cherwell-sandbox' | summarize arg_max(TimeGenerated, *) by ServiceDeskId_s, ServiceDeskWorkItemType_s" +
      ' | summarize count() by ServiceDeskWorkItemType_s, IncidentState_s, CRState_s';
    const counts = async (): Promise<string> => {
      const res = await api(c.url, c.adminToken, 'POST', '/v1/workspaces/default/query', { query, timespan: 'P1D' });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      const rows = (res.body.tables[0].rows as [string, string, string, number][]).map(([type, inc, cr, n]) => [
        `${type}|${type === 'Incident' ? inc : cr}`,
        n,
      ]);
      return JSON.stringify(rows.sort());
    };
    const want = JSON.stringify([...expected].sort());
    // Sync now (as `itsmc connection sync` does) so the incident the previous test resolved is read again;
    // a sync still running in the background answers 409, then the next round tries again.
    const syncNow = async () => {
      const res = await api(c.url, c.adminToken, 'POST', '/api/v1/workspaces/default/connections/cherwell-sandbox/sync');
      return res.status === 200 && res.body.status === 'ok' ? true : undefined;
    };
    await eventually('a complete sync of cherwell-sandbox', syncNow, 240_000, 1000);
    const got = await counts();
    assert.equal(got, want, 'KQL counts by type and state equal the sandbox counts');
  });
});
