/**
 * What is waiting (issue 9): the delivery jobs not finished yet, with their state, next attempt, attempts, last
 * error, alert rule, action group and connection, in the API and `itsmc queue list`; connector-log lines about a
 * delivery name the action group and the alert rule; a Failed outcome row names the alert and its rule.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { registerQueueCommands } from '../../src/cli/queue.ts';
import { api } from '../helpers/stores.ts';
import { fastDelivery, metricAlert, postHook, putGroup, runCli, sandboxAdmin, startRig, type Rig } from './helpers.ts';
import { storeInternals } from '../../src/store/testkit.ts';

function queueList(rig: Rig): Promise<string> {
  return runCli(rig, [registerQueueCommands], 'queue', 'list', '--json');
}

async function until<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('what is waiting in the delivery queue', () => {
  let rig: Rig;
  before(async () => {
    rig = await startRig('sqlite', fastDelivery({ backoff: { baseMs: 60_000, maxMs: 60_000 } }));
  });
  after(async () => rig.cleanup());

  it('lists waiting jobs with next attempt, attempts, last error, alert rule, action group and connection (API and CLI)', async () => {
    const g = await putGroup(rig, 'waiting', [{ name: 'inc', ticketConfiguration: { WorkItemType: 'Incident' } }]);
    await sandboxAdmin(rig.sandbox, 'PUT', '/api/x_sandbox/faults', { failNext: 1, errorStatus: 503 });
    await postHook(g.webhookUrl, metricAlert({ rule: 'queued-rule', alertId: 'q-1' }));
    const job = await until('a failed attempt', async () => {
      const res = await api(rig.c.url, rig.token, 'GET', '/api/v1/workspaces/default/deliveryQueue/jobs');
      assert.equal(res.status, 200, JSON.stringify(res.body));
      return res.body.value.find((j: any) => j.alertRule === 'queued-rule' && j.lastError);
    });
    assert.equal(job.state, 'pending');
    assert.equal(job.attempts, 1);
    assert.ok(Date.parse(job.nextAttemptAt) > Date.now(), 'the next attempt is ahead');
    assert.match(job.lastError, /503|unavailable/);
    assert.deepEqual([job.actionGroup, job.action, job.connectionName, job.kind], ['waiting', 'inc', 'snow', 'deliver']);
    const cli = JSON.parse(await queueList(rig));
    assert.ok(cli.value.some((j: any) => j.id === job.id && j.alertRule === 'queued-rule'));
    const ph = rig.c.store.databaseKind === 'sqlite' ? '?' : '$1';
    const logs = await rig.c.store.sql.query(`SELECT "Message" FROM ws_servicedesklog_cl WHERE "Message" LIKE ${ph}`, ['%delivery attempt%']);
    assert.ok(
      logs.rows.some((r) => /action group waiting, action inc, alert rule queued-rule/.test(String(r[0]))),
      JSON.stringify(logs.rows),
    );
  });

  it('a Failed outcome names the alert and its rule even when the delivery failed before its work unit was built', async () => {
    const g = await putGroup(rig, 'orphaned', [{ name: 'inc', ticketConfiguration: { WorkItemType: 'Incident' } }]);
    const connId = (await rig.c.store.connections.get('default', 'snow'))!.id;
    await rig.c.delivery.stop();
    await postHook(g.webhookUrl, metricAlert({ rule: 'orphaned-rule', alertId: 'o-1' }));
    // The connection the job was queued for is gone by the time it is delivered.
    await storeInternals(rig.c.store)
      .db.updateTable('jobs')
      .set({ connection_id: 'deleted-connection' })
      .where('connection_id', '=', connId)
      .where('state', '=', 'pending')
      .where('kind', '=', 'deliver')
      .where('attempts', '=', 0)
      .execute();
    rig.c.delivery.start();
    const ph = rig.c.store.databaseKind === 'sqlite' ? '?' : '$1';
    const row = await until('the Failed outcome', async () => {
      const rows = await rig.c.store.sql.query(
        `SELECT "AlertId_s", "AlertRule_s" FROM ws_itsmactionoutcome_cl WHERE "Operation_s" = 'Failed' AND "ActionGroup_s" = ${ph}`,
        ['orphaned'],
      );
      return rows.rows[0];
    });
    assert.match(String(row[0]), /o-1$/);
    assert.equal(row[1], 'orphaned-rule');
    const logs = await rig.c.store.sql.query(`SELECT "Message" FROM ws_servicedesklog_cl WHERE "Message" LIKE ${ph}`, ['%dead letters%']);
    assert.ok(
      logs.rows.some((r) => /action group orphaned, action inc, alert rule orphaned-rule/.test(String(r[0]))),
      JSON.stringify(logs.rows),
    );
  });
});
