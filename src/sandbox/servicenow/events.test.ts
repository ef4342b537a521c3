import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { ServiceNowSandbox } from './index.ts';
import { basic, call, INTEGRATION, q, startSmall } from './test-support.ts';

let sb: ServiceNowSandbox;
before(async () => {
  sb = await startSmall({ volume: { incidents: 10, changeRequests: 2, computers: 40 } });
});
after(async () => {
  await sb?.close();
});

const send = (records: unknown[], auth = INTEGRATION) => call(sb, 'POST', '/api/global/em/jsonv2', { auth, body: { records } });
const alertsFor = async (key: string) =>
  (await call(sb, 'GET', `/api/now/table/em_alert?sysparm_query=${q(`message_key=${key}^ORDERBYnumber`)}`)).body.result as Record<string, any>[];
const eventsFor = async (key: string) =>
  (await call(sb, 'GET', `/api/now/table/em_event?sysparm_query=${q(`message_key=${key}^ORDERBYsys_created_on`)}`)).body.result as Record<string, any>[];

describe('POST /api/global/em/jsonv2', () => {
  test('stores em_event rows and answers {"result":{"Default Bulk Endpoint":"N events were inserted"}}', async () => {
    const r = await send([
      {
        source: 'Azure Monitor',
        node: 'vm-web-01',
        type: 'Metric',
        resource: 'CPU',
        metric_name: 'Percentage CPU',
        severity: '2',
        message_key: 'k-1',
        description: 'CPU > 80%',
        time_of_event: '2026-01-02 03:04:05',
        additional_info: { monitorCondition: 'Fired' },
      },
      { source: 'Azure Monitor', node: 'vm-web-02', severity: '3', message_key: 'k-2' },
    ]);
    assert.equal(r.status, 200);
    assert.deepEqual(r.body, { result: { 'Default Bulk Endpoint': '2 events were inserted' } });
    const ev = await eventsFor('k-1');
    assert.equal(ev.length, 1);
    assert.equal(ev[0].source, 'Azure Monitor');
    assert.equal(ev[0].severity, '2');
    assert.equal(ev[0].time_of_event, '2026-01-02 03:04:05');
    assert.equal(ev[0].additional_info, '{"monitorCondition":"Fired"}');
    assert.equal(ev[0].state, 'Processed');
    assert.match(ev[0].alert.value, /^[0-9a-f]{32}$/);
  });

  test('events with the same message_key update one open alert; severity 0 closes it; the next event opens a new alert', async () => {
    await send([{ source: 'Azure Monitor', node: 'vm-db-01', severity: '2', message_key: 'dedup-1', description: 'first' }]);
    await send([{ source: 'Azure Monitor', node: 'vm-db-01', severity: '1', message_key: 'dedup-1', description: 'worse' }]);
    let alerts = await alertsFor('dedup-1');
    assert.equal(alerts.length, 1);
    assert.match(alerts[0].number, /^Alert\d{7}$/);
    assert.equal(alerts[0].state, 'Open');
    assert.equal(alerts[0].severity, '1');
    assert.equal(alerts[0].description, 'worse');
    assert.equal(alerts[0].event_count, '2');
    await send([{ source: 'Azure Monitor', node: 'vm-db-01', severity: '0', message_key: 'dedup-1' }]);
    alerts = await alertsFor('dedup-1');
    assert.equal(alerts.length, 1);
    assert.equal(alerts[0].state, 'Closed');
    await send([{ source: 'Azure Monitor', node: 'vm-db-01', severity: '3', message_key: 'dedup-1' }]);
    alerts = await alertsFor('dedup-1');
    assert.equal(alerts.length, 2);
    assert.deepEqual(
      alerts.map((a) => a.state),
      ['Closed', 'Open'],
    );
    assert.equal((await eventsFor('dedup-1')).length, 4);
  });

  test('a clear event with no open alert creates none; resolution_state Closing also closes', async () => {
    await send([{ source: 'Grafana', node: 'n1', severity: '0', message_key: 'never-open' }]);
    assert.equal((await alertsFor('never-open')).length, 0);
    await send([{ source: 'Grafana', node: 'n1', severity: '4', message_key: 'closing-1' }]);
    await send([{ source: 'Grafana', node: 'n1', severity: '4', message_key: 'closing-1', resolution_state: 'Closing' }]);
    assert.equal((await alertsFor('closing-1'))[0].state, 'Closed');
  });

  test('without message_key the key is source+node+type+resource+metric_name; a node naming a CI binds cmdb_ci', async () => {
    const ci = (await call(sb, 'GET', '/api/now/table/cmdb_ci_server?sysparm_limit=1&sysparm_fields=sys_id,name')).body.result[0];
    await send([{ source: 'Zabbix', node: ci.name, type: 'Disk', resource: 'C:', metric_name: 'free' }]);
    const key = `Zabbix${ci.name}DiskC:free`;
    const alerts = await alertsFor(key);
    assert.equal(alerts.length, 1);
    assert.equal(alerts[0].cmdb_ci.value, ci.sys_id);
  });

  test('em_alert work_notes and comments read back "" and are appended to sys_journal_field', async () => {
    await send([{ source: 'Azure Monitor', node: 'vm-notes', severity: '2', message_key: 'notes-1' }]);
    const [alert] = await alertsFor('notes-1');
    assert.equal(alert.work_notes, '');
    assert.equal(alert.comments, '');
    const upd = await call(sb, 'PATCH', `/api/now/table/em_alert/${alert.sys_id}`, {
      auth: INTEGRATION,
      body: { work_notes: 'linked to INC0010001', comments: 'seen by ITSMC' },
    });
    assert.equal(upd.status, 200);
    assert.equal(upd.body.result.work_notes, '');
    assert.equal(upd.body.result.comments, '');
    const j = await call(sb, 'GET', `/api/now/table/sys_journal_field?sysparm_query=${q(`element_id=${alert.sys_id}^ORDERBYelement`)}`, { auth: INTEGRATION });
    assert.equal(j.status, 200);
    assert.deepEqual(
      j.body.result.map((e: Record<string, string>) => [e.name, e.element, e.value, e.sys_created_by]),
      [
        ['em_alert', 'comments', 'seen by ITSMC', 'itsmc.integration'],
        ['em_alert', 'work_notes', 'linked to INC0010001', 'itsmc.integration'],
      ],
    );
  });

  test('needs evt_mgmt_integration; a body without records is a 400', async () => {
    const u = await call(sb, 'POST', '/api/now/table/sys_user?sysparm_input_display_value=true', {
      body: { user_name: 'itil.only', user_password: 'pw-123456' },
    });
    await call(sb, 'POST', '/api/now/table/sys_user_has_role?sysparm_input_display_value=true', { body: { user: u.body.result.sys_id, role: 'itil' } });
    const denied = await send([{ source: 'x' }], basic('itil.only', 'pw-123456'));
    assert.equal(denied.status, 403);
    assert.equal(denied.body.status, 'failure');
    const bad = await call(sb, 'POST', '/api/global/em/jsonv2', { auth: INTEGRATION, body: { record: [] } });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.status, 'failure');
  });

  test('with rules.eventProcessingDelayMs the alert appears only after the delay (asynchronous processing)', async () => {
    await call(sb, 'PUT', '/api/x_sandbox/rules', { body: { eventProcessingDelayMs: 1000 } });
    try {
      await send([{ source: 'Azure Monitor', node: 'late', severity: '2', message_key: 'late-1' }]);
      assert.equal((await eventsFor('late-1'))[0].state, 'Ready');
      assert.equal((await alertsFor('late-1')).length, 0);
      for (let i = 0; i < 200 && (await alertsFor('late-1')).length === 0; i++) await new Promise((r) => setTimeout(r, 50));
      assert.equal((await alertsFor('late-1')).length, 1);
    } finally {
      await call(sb, 'PUT', '/api/x_sandbox/rules', { body: { eventProcessingDelayMs: 0 } });
    }
  });
});
