/**
 * Delivery against what the partner says now (issue 9): a work item closed by a human in ServiceNow decides the
 * next firing at once (no data sync needed), and an Event carries its CI. Over HTTP against the sandbox, on
 * SQLite and PostgreSQL.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { testDialects } from '../helpers/stores.ts';
import { drained, fastDelivery, metricAlert, ourIncidents, postHook, putGroup, sandboxAdmin, sandboxGet, startRig, workNotes, type Rig } from './helpers.ts';

for (const dialect of testDialects) {
  describe(`delivery decides on the partner's current state on ${dialect}`, () => {
    let rig: Rig;
    before(async () => {
      rig = await startRig(dialect, fastDelivery());
    });
    after(async () => rig.cleanup());

    it('an Event made for a CI carries the CI as node and resource', async () => {
      const g = await putGroup(rig, 'event-ci', [{ name: 'evt', ticketConfiguration: { WorkItemType: 'Event' } }]);
      await postHook(g.webhookUrl, metricAlert({ rule: 'event-ci', alertId: 'ev-1', cis: ['core-sw-01'] }));
      await drained(rig.c);
      const link = (await rig.c.store.links.list('default')).find((l) => l.work_item_type === 'Event' && l.correlation_key);
      assert.ok(link);
      const events = (await sandboxGet(rig.sandbox, '/api/now/table/em_event', { sysparm_query: `message_key=${link.correlation_key}`, sysparm_fields: 'node,resource' })).result;
      assert.equal(events.length, 1);
      assert.equal(events[0].node, 'core-sw-01');
      assert.notEqual(events[0].resource, '', 'resource filled');
    });
  });
}
