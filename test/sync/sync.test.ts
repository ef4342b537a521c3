/**
 * Data sync against the ServiceNow sandbox over real HTTP, on SQLite and PostgreSQL: the synced
 * ServiceDesk_CL matches what the sandbox's Table API counts; a change becomes a new row (arg_max gives
 * the new state), an unchanged record none; a rate limit stops a backfill part way and the next run
 * resumes without loss or duplicates; failures and status changes land in ServiceDeskLog_CL.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startServiceNowSandbox, type ServiceNowSandbox } from '../../src/sandbox/servicenow/index.ts';
import { api, startTestConnector, testDialects, type TestConnector } from '../helpers/stores.ts';
import { kql, kqlCounts, sandboxConnection, snChoices, snCount, snow, snTime } from './helpers.ts';

const WS = '/api/v1/workspaces/default/connections';

for (const dialect of testDialects) {
  describe(`data sync on ${dialect}`, () => {
    let sandbox: ServiceNowSandbox;
    let c: TestConnector;

    before(async () => {
      // 60 days of data, the connection syncs 30: the window matters.
      sandbox = await startServiceNowSandbox({ port: 0, seed: 5, days: 60, volume: { incidents: 1200, changeRequests: 300, computers: 60 } });
      c = await startTestConnector(dialect, { ITSMC_ALLOWED_PARTNER_HOSTS: new URL(sandbox.url).host, ITSMC_SYNC: '0', ITSMC_SYNC_PAGE_SIZE: '100' });
    });
    after(async () => {
      await c?.cleanup();
      await sandbox?.close();
    });

    const sync = async (name: string) => {
      const res = await api(c.url, c.adminToken, 'POST', `${WS}/${name}/sync`);
      assert.equal(res.status, 200, JSON.stringify(res.body));
      return res.body;
    };
    const q = (query: string) => kql(c.url, c.adminToken, query);

    it('backfills sync_data_days: counts by state and priority equal the Table API counts', async () => {
      const put = await api(c.url, c.adminToken, 'PUT', `${WS}/sn`, sandboxConnection(sandbox, { syncDataDays: 30 }));
      assert.equal(put.status, 201, JSON.stringify(put.body));
      const result = await sync('sn');
      assert.equal(result.status, 'ok');
      const inc = result.scopes.find((s: any) => s.scope === 'Incident');
      const chg = result.scopes.find((s: any) => s.scope === 'ChangeRequest');
      assert.ok(inc.backfill && inc.complete && inc.pages > 1, JSON.stringify(inc));
      const incSince = `sys_updated_on>=${snTime(inc.since)}`;
      const chgSince = `sys_updated_on>=${snTime(chg.since)}`;

      const totalInc = await snCount(sandbox, 'incident', incSince);
      assert.ok(totalInc > 100 && totalInc < 1200, `the window holds part of the data (${totalInc})`);
      assert.equal(inc.fetched, totalInc);
      assert.equal(inc.appended, totalInc);

      const latest = `ServiceDesk_CL | where ServiceDeskConnectionName_s == "sn" and ServiceDeskWorkItemType_s == "Incident" | summarize arg_max(TimeGenerated, *) by ServiceDeskId_s`;
      const byState = await kqlCounts(c.url, c.adminToken, `${latest} | summarize n = count() by IncidentState_s`, 'IncidentState_s');
      const states = await snChoices(sandbox, 'incident', 'state');
      assert.ok(byState.size >= 3, JSON.stringify([...byState]));
      let sum = 0;
      for (const [label, n] of byState) {
        assert.ok(states.has(label), `state label ${label} is a sandbox choice`);
        assert.equal(n, await snCount(sandbox, 'incident', `state=${states.get(label)}^${incSince}`), `incidents in state ${label}`);
        sum += n;
      }
      assert.equal(sum, totalInc);

      const byPriority = await kqlCounts(c.url, c.adminToken, `${latest} | summarize n = count() by Priority_s`, 'Priority_s');
      const priorities = await snChoices(sandbox, 'incident', 'priority');
      for (const [label, n] of byPriority) {
        assert.ok(priorities.has(label), `priority label ${label} is a sandbox choice`);
        assert.equal(n, await snCount(sandbox, 'incident', `priority=${priorities.get(label)}^${incSince}`), `incidents with priority ${label}`);
      }

      const crStates = await snChoices(sandbox, 'change_request', 'state');
      const byCrState = await kqlCounts(
        c.url,
        c.adminToken,
        'ServiceDesk_CL | where ServiceDeskWorkItemType_s == "ChangeRequest" | summarize arg_max(TimeGenerated, *) by ServiceDeskId_s | summarize n = count() by CRState_s',
        'CRState_s',
      );
      for (const [label, n] of byCrState)
        assert.equal(n, await snCount(sandbox, 'change_request', `state=${crStates.get(label)}^${chgSince}`), `changes in state ${label}`);
      assert.equal(
        [...byCrState.values()].reduce((a, b) => a + b, 0),
        await snCount(sandbox, 'change_request', chgSince),
      );

      const byType = await q('ServiceDesk_CL | summarize count() by ServiceDeskWorkItemType_s | order by ServiceDeskWorkItemType_s asc');
      assert.deepEqual(
        byType.rows.map((r) => [r.ServiceDeskWorkItemType_s, r.count_]),
        [
          ['ChangeRequest', chg.fetched],
          ['Incident', totalInc],
        ],
      );
      const status = await api(c.url, c.adminToken, 'GET', `${WS}/sn/sync`);
      assert.equal(status.status, 200);
      assert.ok(
        status.body.scopes.every((s: any) => s.backfillDone && !s.resumable),
        JSON.stringify(status.body),
      );
      const conn = await api(c.url, c.adminToken, 'GET', `${WS}/sn`);
      assert.equal(conn.body.status, 'Healthy');
      assert.ok(conn.body.lastSyncAt);
    });

    it('a change made in the sandbox is a new row after the next sync; arg_max gives the new state', async () => {
      const pick = await snow(
        sandbox,
        'GET',
        `/api/now/table/incident?sysparm_limit=1&sysparm_fields=sys_id,number&sysparm_query=${encodeURIComponent('state=2^ORDERBYDESCsys_updated_on')}`,
      );
      const { sys_id: id, number } = pick.body.result[0];
      const before = await q(`ServiceDesk_CL | where ServiceDeskId_s == "${number}" | count`);
      assert.equal(before.rows[0].Count, 1);

      const patch = await snow(sandbox, 'PATCH', `/api/now/table/incident/${id}`, { state: '3', hold_reason: '1', urgency: '1' });
      assert.equal(patch.status, 200, JSON.stringify(patch.body));
      const result = await sync('sn');
      const inc = result.scopes.find((s: any) => s.scope === 'Incident');
      assert.equal(inc.backfill, false);
      assert.equal(inc.appended, 1, JSON.stringify(inc));

      const rows = await q(
        `ServiceDesk_CL | where ServiceDeskId_s == "${number}" | order by TimeGenerated asc | project TimeGenerated, IncidentState_s, Urgency_s`,
      );
      assert.equal(rows.rows.length, 2);
      assert.equal(rows.rows[0].IncidentState_s, 'In Progress');
      const latest = await q(
        `ServiceDesk_CL | where ServiceDeskId_s == "${number}" | summarize arg_max(TimeGenerated, *) by ServiceDeskId_s | project IncidentState_s, Urgency_s`,
      );
      assert.equal(latest.rows[0].IncidentState_s, 'On Hold');
      assert.match(latest.rows[0].Urgency_s, /High/);
    });

    it('an unchanged record adds no row, even when the overlap window reads it again', async () => {
      const count = async () => (await q('ServiceDesk_CL | count')).rows[0].Count as number;
      const n = await count();
      const result = await sync('sn');
      assert.equal(result.appended, 0, JSON.stringify(result));
      assert.ok(result.fetched >= 1, 'the overlap re-read the newest record(s)');
      assert.equal(await count(), n);
      const dupes = await q('ServiceDesk_CL | summarize n = count() by ServiceDeskId_s, LastModifiedDate_t | where n > 1 | count');
      assert.equal(dupes.rows[0].Count, 0);
    });

    it('a rate limit stops the backfill part way; the next run resumes without loss or duplicates; both end up in ServiceDeskLog_CL', async () => {
      // 3 incident pages per rolling hour for the integration user: the 4th answers 429 with a Retry-After far beyond the wait
      // limit. Rolling, not fixed: a fixed window resetting at the top of the hour mid-test would let the run continue.
      const rules = await snow(sandbox, 'PUT', '/api/x_sandbox/rate_limits', {
        rules: [{ user: 'itsmc.integration', path: '/api/now/table/incident', perHour: 3, window: 'rolling' }],
      });
      assert.equal(rules.status, 200, JSON.stringify(rules.body));
      const put = await api(c.url, c.adminToken, 'PUT', `${WS}/limited`, sandboxConnection(sandbox, { syncDataDays: 60, dataSyncScope: ['Incident'] }));
      assert.equal(put.status, 201);
      const first = await sync('limited');
      assert.equal(first.status, 'partial', JSON.stringify(first));
      assert.equal(first.scopes[0].pages, 3);
      assert.equal(first.scopes[0].complete, false);
      assert.match(first.error, /rate limit/i);
      const stopped = await api(c.url, c.adminToken, 'GET', `${WS}/limited/sync`);
      assert.equal(stopped.body.scopes[0].resumable, true);
      assert.equal((await api(c.url, c.adminToken, 'GET', `${WS}/limited`)).body.status, 'Degraded');

      assert.equal((await snow(sandbox, 'PUT', '/api/x_sandbox/rate_limits', { rules: [] })).status, 200);
      const second = await sync('limited');
      assert.equal(second.status, 'ok', JSON.stringify(second));
      assert.equal(second.scopes[0].since, first.scopes[0].since, 'the resumed run continues the same window');
      const total = await snCount(sandbox, 'incident', `sys_updated_on>=${snTime(first.scopes[0].since)}`);
      assert.equal(first.scopes[0].appended + second.scopes[0].appended, total);
      const rows = await q(
        'ServiceDesk_CL | where ServiceDeskConnectionName_s == "limited" | summarize n = count() by ServiceDeskId_s | summarize records = count(), rows = sum(n)',
      );
      assert.deepEqual(rows.rows[0], { records: total, rows: total });
      assert.equal((await api(c.url, c.adminToken, 'GET', `${WS}/limited`)).body.status, 'Healthy');

      const log = await q(
        'ServiceDeskLog_CL | where ServiceDeskConnectionName_s == "limited" | order by TimeGenerated asc | project LogType_s, Message, ExceptionMessage_s, Status_b',
      );
      const warning = log.rows.find((r) => r.LogType_s === 'WARNING' && /rate limit/.test(r.Message));
      assert.ok(warning, JSON.stringify(log.rows));
      assert.equal(warning.Status_b, false);
      assert.match(warning.ExceptionMessage_s, /429|rate limit/i);
      assert.ok(
        log.rows.some((r) => r.LogType_s === 'INFO' && /healthy again/i.test(r.Message)),
        JSON.stringify(log.rows),
      );
    });

    it('revoked credentials put the connection in Error with an ERROR line in ServiceDeskLog_CL', async () => {
      assert.equal((await snow(sandbox, 'POST', '/api/x_sandbox/oauth/revoke_all')).status, 200);
      const res = await sync('sn');
      assert.equal(res.status, 'failed', JSON.stringify(res));
      const conn = await api(c.url, c.adminToken, 'GET', `${WS}/sn`);
      assert.equal(conn.body.status, 'Error');
      const log = await q(
        'ServiceDeskLog_CL | where ServiceDeskConnectionName_s == "sn" and LogType_s == "ERROR" | project Message, ExceptionMessage_s, Status_b',
      );
      assert.ok(log.rows.length >= 1);
      assert.ok(log.rows.every((r) => r.Status_b === false));
    });
  });
}
