/**
 * End to end over HTTP: webhook → durable queue → delivery engine → ServiceNow sandbox, checked through the
 * sandbox's own Table API (no mocks). Runs on SQLite and PostgreSQL.
 */
import { describe, it, before, after, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { api, testDialects } from '../helpers/stores.ts';
import { ensureSandboxActionGroups } from '../../src/delivery/sandbox-group.ts';
import {
  alertmanagerGroup,
  drained,
  fastDelivery,
  logSearchAlert,
  metricAlert,
  ourIncidents,
  postHook,
  putGroup,
  sandboxAdmin,
  sandboxGet,
  startRig,
  workNotes,
  type Rig,
} from './helpers.ts';

async function waitFor<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 15_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

for (const dialect of testDialects) {
  describe(`alerts to work items end to end on ${dialect}`, () => {
    let rig: Rig;
    let deadAtStart = 0;
    before(async () => {
      rig = await startRig(dialect, fastDelivery());
    });
    after(async () => rig.cleanup());
    beforeEach(async () => {
      deadAtStart = (await rig.c.store.jobs.listDead('default', { limit: 1000 })).length;
    });
    afterEach(async (t) => {
      if (t.name.startsWith('dead-letters')) return;
      const dead = (await rig.c.store.jobs.listDead('default', { limit: 1000 })).slice(deadAtStart);
      // Strict: every delivery must have gone through, including linking extra CIs through task_ci.
      assert.deepEqual(
        dead.map((d) => d.last_error),
        [],
        'no delivery failed for good',
      );
    });

    it('creates exactly one incident for a metric alert, notes a new firing, resolves, then opens a new one after closure', async () => {
      const g = await putGroup(rig, 'metrics', [{ name: 'inc', ticketConfiguration: { WorkItemType: 'Incident', noteCoalesceSeconds: 0 } }]);
      assert.match(g.webhookUrl, /^http:\/\/127\.0\.0\.1:\d+\/hooks\/itsmh_/);
      const first = metricAlert({ rule: 'cpu-high-e2e', alertId: 'm-1', cis: ['vm-e2e-01'] });
      const r1 = await postHook(g.webhookUrl, first);
      assert.equal(r1.status, 202);
      assert.equal(r1.body.status, 'accepted');
      const again = await postHook(g.webhookUrl, first);
      assert.equal(again.status, 202);
      assert.equal(again.body.status, 'duplicate', 'a redelivery of the same alert state is acknowledged and ignored');
      await drained(rig.c);

      let incidents = (await ourIncidents(rig.sandbox)).filter((i) => i.short_description.includes('cpu-high-e2e'));
      assert.equal(incidents.length, 1, 'exactly one incident');
      const [inc] = incidents;
      assert.match(inc.correlation_id, /^oitsmc:[a-z2-7]{32}$/);
      assert.notEqual(inc.cmdb_ci, '', 'the CI was found or created and linked');
      assert.equal(inc.state, '1');

      assert.equal((await postHook(g.webhookUrl, metricAlert({ rule: 'cpu-high-e2e', alertId: 'm-2', cis: ['vm-e2e-01'] }))).status, 202);
      await drained(rig.c);
      const notes = await workNotes(rig.sandbox, inc.sys_id);
      assert.ok(
        notes.some((n) => n.includes('fired again') && n.includes('m-2')),
        `a work note for the new firing: ${JSON.stringify(notes)}`,
      );
      assert.equal((await ourIncidents(rig.sandbox)).filter((i) => i.short_description.includes('cpu-high-e2e')).length, 1, 'still one incident');

      await postHook(g.webhookUrl, metricAlert({ rule: 'cpu-high-e2e', alertId: 'm-1', condition: 'Resolved', cis: ['vm-e2e-01'] }));
      await drained(rig.c);
      incidents = (await ourIncidents(rig.sandbox)).filter((i) => i.sys_id === inc.sys_id);
      assert.equal(incidents[0].state, '1', 'm-2 still fires: the incident stays open');
      await postHook(g.webhookUrl, metricAlert({ rule: 'cpu-high-e2e', alertId: 'm-2', condition: 'Resolved', cis: ['vm-e2e-01'] }));
      await drained(rig.c);
      incidents = (await ourIncidents(rig.sandbox)).filter((i) => i.sys_id === inc.sys_id);
      assert.equal(incidents[0].state, '6', 'resolved when the last firing alert resolved');
      assert.equal(incidents[0].close_code, 'Solution provided');

      await postHook(g.webhookUrl, metricAlert({ rule: 'cpu-high-e2e', alertId: 'm-3', cis: ['vm-e2e-01'] }));
      await drained(rig.c);
      incidents = (await ourIncidents(rig.sandbox)).filter((i) => i.short_description.includes('cpu-high-e2e'));
      assert.equal(incidents.length, 2, 'a new firing after closure opens a new incident');
      const fresh = incidents.find((i) => i.sys_id !== inc.sys_id)!;
      assert.equal(fresh.correlation_id, `${inc.correlation_id}-1`, 'the next generation of the correlation key');

      const outcomes = await rig.c.store.sql.query(
        `SELECT "Operation_s", "AlertRule_s", "WorkItemNumber_s" FROM ws_itsmactionoutcome_cl WHERE workspace = ${dialect === 'sqlite' ? '?' : '$1'} AND "AlertRule_s" = 'cpu-high-e2e' ORDER BY "TimeGenerated"`,
        ['default'],
      );
      const ops = outcomes.rows.map((r) => r[0]);
      assert.deepEqual(ops, ['Created', 'Updated', 'Updated', 'Resolved', 'Created']);
    });

    it('reopens a resolved incident when the rule fires again inside the reopen window', async () => {
      const g = await putGroup(rig, 'reopen', [{ name: 'inc', ticketConfiguration: { WorkItemType: 'Incident', reopenWindow: 'PT1H' } }]);
      await postHook(g.webhookUrl, metricAlert({ rule: 'disk-reopen', alertId: 'r-1' }));
      await postHook(g.webhookUrl, metricAlert({ rule: 'disk-reopen', alertId: 'r-1', condition: 'Resolved' }));
      await drained(rig.c);
      let [inc] = (await ourIncidents(rig.sandbox)).filter((i) => i.short_description.includes('disk-reopen'));
      assert.equal(inc.state, '6');
      await postHook(g.webhookUrl, metricAlert({ rule: 'disk-reopen', alertId: 'r-2' }));
      await drained(rig.c);
      const all = (await ourIncidents(rig.sandbox)).filter((i) => i.short_description.includes('disk-reopen'));
      assert.equal(all.length, 1, 'reopened, not duplicated');
      [inc] = all;
      assert.equal(inc.state, '2');
      assert.ok((await workNotes(rig.sandbox, inc.sys_id)).some((n) => n.startsWith('Reopened by OpenITSMC')));
    });

    it('creates one incident per Alertmanager group key, whatever the number of alerts in the group', async () => {
      const g = await putGroup(rig, 'prom', [{ name: 'inc', ticketConfiguration: { WorkItemType: 'Incident' } }]);
      const a = alertmanagerGroup({
        groupKey: '{}:{alertname="NodeDown-e2e",dc="a"}',
        alertname: 'NodeDown-e2e',
        alerts: [1, 2, 3].map((n) => ({ fingerprint: `fa${n}`, instance: `node-a${n}` })),
      });
      const b = alertmanagerGroup({
        groupKey: '{}:{alertname="NodeDown-e2e",dc="b"}',
        alertname: 'NodeDown-e2e',
        alerts: [1, 2].map((n) => ({ fingerprint: `fb${n}`, instance: `node-b${n}` })),
      });
      const ra = await postHook(g.webhookUrl, a);
      assert.equal(ra.body.alerts.length, 3);
      await postHook(g.webhookUrl, b);
      await postHook(g.webhookUrl, a); // Alertmanager's repeat notification
      await drained(rig.c);
      const incidents = (await ourIncidents(rig.sandbox)).filter((i) => i.short_description.includes('NodeDown-e2e'));
      assert.equal(incidents.length, 2);
      assert.equal(new Set(incidents.map((i) => i.correlation_id)).size, 2);
      // Every instance of a group is an affected CI of its incident: the first in cmdb_ci, the others in task_ci.
      for (const inc of incidents) {
        const main = (await sandboxGet(rig.sandbox, `/api/now/table/incident/${inc.sys_id}`, { sysparm_fields: 'cmdb_ci', sysparm_display_value: 'true' }))
          .result.cmdb_ci.display_value as string;
        const links = (
          await sandboxGet(rig.sandbox, '/api/now/table/task_ci', {
            sysparm_query: `task=${inc.sys_id}`,
            sysparm_fields: 'ci_item',
            sysparm_display_value: 'true',
          })
        ).result as { ci_item: { display_value: string } }[];
        const names = [main, ...links.map((l) => l.ci_item.display_value)].sort();
        const dc = main.startsWith('node-a') ? 'a' : 'b';
        assert.deepEqual(names, dc === 'a' ? ['node-a1', 'node-a2', 'node-a3'] : ['node-b1', 'node-b2'], `affected CIs of ${inc.number}`);
      }
    });

    it('creates one incident per CI with CreateOneWIPerCI and one per row with CreateOneWIPerLog', async () => {
      const perCi = await putGroup(rig, 'per-ci', [{ name: 'inc', ticketConfiguration: { WorkItemType: 'Incident', CreateOneWIPerCI: true } }]);
      const perLog = await putGroup(rig, 'per-log', [{ name: 'inc', ticketConfiguration: { WorkItemType: 'Incident', CreateOneWIPerLog: true } }]);
      const rows = [
        { Computer: 'web-ci-1', Disk: 'C:', Free: 4.5 },
        { Computer: 'web-ci-2', Disk: 'C:', Free: 3.1 },
        { Computer: 'web-ci-2', Disk: 'D:', Free: 1.2 },
        { Computer: 'web-ci-3', Disk: 'E:', Free: 8.0 },
      ];
      await postHook(perCi.webhookUrl, logSearchAlert({ rule: 'disk-per-ci', alertId: 'ls-1', rows }));
      await postHook(perLog.webhookUrl, logSearchAlert({ rule: 'disk-per-log', alertId: 'ls-2', rows }));
      await drained(rig.c);
      const all = await ourIncidents(rig.sandbox);
      const ci = all.filter((i) => i.short_description.includes('disk-per-ci'));
      const log = all.filter((i) => i.short_description.includes('disk-per-log'));
      assert.equal(ci.length, 3, 'one per CI');
      assert.ok(
        ci.every((i) => i.cmdb_ci !== ''),
        'each linked to its CI',
      );
      assert.equal(log.length, 4, 'one per result row');
    });

    it('sends Events through Event Management with message_key = correlation key, and a clear on resolve', async () => {
      const g = await putGroup(rig, 'events', [{ name: 'evt', ticketConfiguration: { WorkItemType: 'Event' } }]);
      await postHook(g.webhookUrl, metricAlert({ rule: 'mem-event-e2e', alertId: 'e-1', severity: 'Sev1' }));
      await drained(rig.c);
      const link = (await rig.c.store.links.list('default')).find((l) => l.work_item_type === 'Event');
      assert.ok(link, 'a link for the event');
      const events = await waitFor('the event', async () => {
        const r = await sandboxGet(rig.sandbox, '/api/now/table/em_event', {
          sysparm_query: `message_key=${link.correlation_key}`,
          sysparm_fields: 'message_key,severity,source',
        });
        return r.result.length ? r.result : undefined;
      });
      assert.equal(events[0].severity, '2');
      await postHook(g.webhookUrl, metricAlert({ rule: 'mem-event-e2e', alertId: 'e-1', condition: 'Resolved', severity: 'Sev1' }));
      await drained(rig.c);
      const cleared = await waitFor('the clear event', async () => {
        const r = await sandboxGet(rig.sandbox, '/api/now/table/em_event', {
          sysparm_query: `message_key=${link.correlation_key}^severity=0`,
          sysparm_fields: 'severity',
        });
        return r.result.length ? r.result : undefined;
      });
      assert.equal(cleared[0].severity, '0');
    });

    it('accepts alerts on the bearer endpoint, refuses unknown and rotated webhook secrets, and ignores a disabled group', async () => {
      const g = await putGroup(rig, 'bearer', [{ name: 'inc', ticketConfiguration: { WorkItemType: 'Incident' } }]);
      const viaBearer = await api(
        rig.c.url,
        rig.token,
        'POST',
        '/api/v1/workspaces/default/actionGroups/bearer/alerts',
        metricAlert({ rule: 'bearer-e2e', alertId: 'b-1' }),
      );
      assert.equal(viaBearer.status, 202);
      assert.equal((await api(rig.c.url, null, 'POST', '/api/v1/workspaces/default/actionGroups/bearer/alerts', {})).status, 401);
      assert.equal((await api(rig.c.url, rig.token, 'POST', '/api/v1/workspaces/default/actionGroups/nope/alerts', {})).status, 404);

      const unknown = await postHook(g.webhookUrl.replace(/hooks\/.*/, 'hooks/itsmh_unknownsecretunknownsecret'), metricAlert({ rule: 'x', alertId: 'x' }));
      assert.equal(unknown.status, 404);
      assert.equal(unknown.body.error.code, 'NotFound');
      assert.ok(!JSON.stringify(unknown.body).includes('unknownsecret'), 'the secret is not echoed');

      const rotated = await api(rig.c.url, rig.token, 'POST', '/api/v1/workspaces/default/actionGroups/bearer/rotateWebhookSecret');
      assert.equal(rotated.status, 200);
      assert.notEqual(rotated.body.webhookUrl, g.webhookUrl);
      assert.equal((await postHook(g.webhookUrl, metricAlert({ rule: 'bearer-e2e', alertId: 'b-2' }))).status, 404, 'the old URL stops working');
      assert.equal((await postHook(rotated.body.webhookUrl, metricAlert({ rule: 'bearer-e2e', alertId: 'b-2' }))).status, 202);

      const before = await rig.c.store.alerts.count();
      const off = await putGroup(rig, 'bearer', [{ name: 'inc', ticketConfiguration: { WorkItemType: 'Incident' } }], false);
      assert.equal(off.webhookUrl, rotated.body.webhookUrl, 'updating the group keeps its secret');
      const ignored = await postHook(rotated.body.webhookUrl, metricAlert({ rule: 'bearer-e2e', alertId: 'b-3' }));
      assert.equal(ignored.status, 202);
      assert.equal(ignored.body.status, 'ignored');
      assert.equal(await rig.c.store.alerts.count(), before, 'nothing stored for a disabled group');

      const bad = await postHook(rotated.body.webhookUrl.replace('/hooks/', '/hooks/'), { hello: 'world' });
      assert.equal(bad.status, 202, 'a disabled group does not even parse');
      await putGroup(rig, 'bearer', [{ name: 'inc', ticketConfiguration: { WorkItemType: 'Incident' } }], true);
      const unparsable = await postHook(rotated.body.webhookUrl, { hello: 'world' });
      assert.equal(unparsable.status, 400);
      assert.equal(unparsable.body.error.code, 'UnrecognizedPayload');
      assert.ok(unparsable.body.error.details.shapesTried.includes('azure-common'));
      assert.ok(unparsable.body.error.details.firstMismatch.path);
      await drained(rig.c);
    });

    it('validates action groups against the synced configuration and lists the valid values', async () => {
      const put = (body: unknown) => api(rig.c.url, rig.token, 'PUT', '/api/v1/workspaces/default/actionGroups/invalid', body);
      const template = await put({
        itsmReceivers: [
          { name: 'a', connectionName: 'snow', ticketConfiguration: { WorkItemType: 'Incident', UseTemplate: true, TemplateName: 'No such template' } },
        ],
      });
      assert.equal(template.status, 400);
      const t = template.body.error.details.find((d: any) => d.path.endsWith('TemplateName'));
      assert.ok(t.allowed.length > 0, 'the synced templates are listed');
      const choice = await put({
        itsmReceivers: [{ name: 'a', connectionName: 'snow', ticketConfiguration: { WorkItemType: 'Incident', WorkItemData: { impact: '9' } } }],
      });
      assert.equal(choice.status, 400);
      assert.deepEqual(choice.body.error.details[0].allowed, ['1', '2', '3']);
      const conn = await put({ itsmReceivers: [{ name: 'a', connectionName: 'missing', ticketConfiguration: { WorkItemType: 'Incident' } }] });
      assert.equal(conn.status, 400);
      assert.deepEqual(conn.body.error.details[0].allowed, ['snow']);
      const eleven = await put({
        itsmReceivers: Array.from({ length: 11 }, (_, i) => ({ name: `a${i}`, connectionName: 'snow', ticketConfiguration: { WorkItemType: 'Incident' } })),
      });
      assert.equal(eleven.status, 400);
      const twice = await put({
        itsmReceivers: [0, 1].map(() => ({ name: 'same', connectionName: 'snow', ticketConfiguration: { WorkItemType: 'Incident' } })),
      });
      assert.equal(twice.status, 400);
      assert.equal((await api(rig.c.url, rig.token, 'GET', '/api/v1/workspaces/default/actionGroups/invalid')).status, 404);

      const used = await api(rig.c.url, rig.token, 'DELETE', '/api/v1/workspaces/default/connections/snow');
      assert.equal(used.status, 409, 'a connection used by action groups is not deleted');
      assert.ok(used.body.error.details.actionGroups.includes('metrics'));

      const list = await api(rig.c.url, rig.token, 'GET', '/api/v1/workspaces/default/actionGroups');
      assert.ok(list.body.value.length >= 5);
      const reader = (await api(rig.c.url, rig.token, 'POST', '/api/v1/workspaces/default/apiKeys', { name: 'r', role: 'reader' })).body.key;
      const asReader = await api(rig.c.url, reader, 'GET', '/api/v1/workspaces/default/actionGroups/metrics');
      assert.equal(asReader.status, 200);
      assert.equal(asReader.body.webhookUrl, null, 'readers do not see the webhook secret');
    });

    it('keeps alerts while the sign-in is revoked (connection in Error, logged) and drains the backlog after a new sign-in', async () => {
      const g = await putGroup(rig, 'revoked', [{ name: 'inc', ticketConfiguration: { WorkItemType: 'Incident' } }]);
      const deadBefore = (await rig.c.store.jobs.counts('default')).dead;
      await sandboxAdmin(rig.sandbox, 'POST', '/api/x_sandbox/oauth/revoke_all');
      await postHook(g.webhookUrl, metricAlert({ rule: 'revoked-e2e', alertId: 'rv-1', cis: [] }));
      const failed = await waitFor('the connection in Error', async () => {
        const conn = await api(rig.c.url, rig.token, 'GET', '/api/v1/workspaces/default/connections/snow');
        return conn.body.status === 'Error' ? conn.body : undefined;
      });
      assert.match(failed.lastError, /password/i, 'the message says what to do');
      const q = await api(rig.c.url, rig.token, 'GET', '/api/v1/workspaces/default/deliveryQueue');
      assert.equal(q.body.dead, deadBefore, 'the alert is kept, not dead-lettered');
      assert.ok(q.body.pending + q.body.running >= 1);
      const log = await rig.c.store.sql.query(
        `SELECT "Message" FROM ws_servicedesklog_cl WHERE "LogType_s" = 'ERROR' AND "ServiceDeskConnectionName_s" = 'snow'`,
        [],
      );
      assert.ok(log.rows.length >= 1, 'a connector log line');

      const fixed = await api(rig.c.url, rig.token, 'PUT', '/api/v1/workspaces/default/connections/snow', {
        partnerType: 'ServiceNow',
        serverUrl: rig.sandbox.url,
        username: 'itsmc.integration',
        password: 'sandbox',
        clientId: 'itsmc-sandbox',
        createNewConfigurationItems: true,
      });
      assert.equal(fixed.status, 200, JSON.stringify(fixed.body));
      await drained(rig.c);
      assert.equal((await ourIncidents(rig.sandbox)).filter((i) => i.short_description.includes('revoked-e2e')).length, 1, 'delivered after the fix');
    });

    it('creates the quick start action group `sandbox` for the connection `servicenow-sandbox`', async () => {
      assert.deepEqual(await ensureSandboxActionGroups(rig.c.store, rig.c.actionGroups), [], 'nothing without the connection');
      const res = await api(rig.c.url, rig.token, 'PUT', '/api/v1/workspaces/default/connections/servicenow-sandbox', {
        partnerType: 'ServiceNow',
        serverUrl: rig.sandbox.url,
        username: 'itsmc.integration',
        password: 'sandbox',
        clientId: 'itsmc-sandbox',
        clientSecret: 'sandbox-secret',
      });
      assert.equal(res.status, 201);
      const [row] = await ensureSandboxActionGroups(rig.c.store, rig.c.actionGroups);
      assert.ok(row);
      assert.equal((await ensureSandboxActionGroups(rig.c.store, rig.c.actionGroups))[0]?.id, row.id, 'created once');
      const view = await api(rig.c.url, rig.token, 'GET', '/api/v1/workspaces/default/actionGroups/sandbox');
      assert.equal(view.body.itsmReceivers[0].connectionName, 'servicenow-sandbox');
      const sent = await postHook(view.body.webhookUrl, metricAlert({ rule: 'quickstart-e2e', alertId: 'q-1', cis: [] }));
      assert.equal(sent.status, 202);
      await drained(rig.c);
      assert.equal((await ourIncidents(rig.sandbox)).filter((i) => i.short_description.includes('quickstart-e2e')).length, 1);
    });

    it('dead-letters a delivery the partner refuses, lists it, and delivers it on replay', async () => {
      const g = await putGroup(rig, 'dlq', [{ name: 'inc', ticketConfiguration: { WorkItemType: 'Incident' } }]);
      await sandboxAdmin(rig.sandbox, 'PUT', '/api/x_sandbox/faults', { failNext: 1, errorStatus: 400, paths: ['/api/now/table/incident'] });
      await postHook(g.webhookUrl, metricAlert({ rule: 'dlq-e2e', alertId: 'd-1', cis: [] }));
      await drained(rig.c);
      await sandboxAdmin(rig.sandbox, 'POST', '/api/x_sandbox/reset_faults');
      const dead = await api(rig.c.url, rig.token, 'GET', '/api/v1/workspaces/default/deadLetters');
      assert.equal(dead.status, 200);
      const mine = dead.body.value.filter((d: any) => d.actionGroup === 'dlq');
      assert.equal(mine.length, 1);
      assert.match(mine[0].lastError, /invalid/);
      assert.equal(mine[0].connectionName, 'snow');
      assert.equal((await ourIncidents(rig.sandbox)).filter((i) => i.short_description.includes('dlq-e2e')).length, 0);
      const queue = await api(rig.c.url, rig.token, 'GET', '/api/v1/workspaces/default/deliveryQueue');
      assert.ok(queue.body.dead >= 1);

      const replay = await api(rig.c.url, rig.token, 'POST', `/api/v1/workspaces/default/deadLetters/${mine[0].id}/replay`);
      assert.deepEqual(replay.body, { replayed: 1 });
      await drained(rig.c);
      assert.equal((await ourIncidents(rig.sandbox)).filter((i) => i.short_description.includes('dlq-e2e')).length, 1);
      assert.equal((await api(rig.c.url, rig.token, 'POST', `/api/v1/workspaces/default/deadLetters/${mine[0].id}/replay`)).status, 404);
      const failed = await rig.c.store.sql.query(
        `SELECT "Operation_s" FROM ws_itsmactionoutcome_cl WHERE "AlertRule_s" = 'dlq-e2e' ORDER BY "TimeGenerated"`,
        [],
      );
      assert.deepEqual(
        failed.rows.map((r) => r[0]),
        ['Failed', 'Created'],
      );
      const log = await rig.c.store.sql.query(`SELECT "LogType_s" FROM ws_servicedesklog_cl WHERE "LogType_s" = 'ERROR'`, []);
      assert.ok(log.rows.length >= 1, 'the failure is in ServiceDeskLog_CL');
    });
  });
}
