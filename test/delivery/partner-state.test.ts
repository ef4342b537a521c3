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

    it('a firing after the incident was closed in ServiceNow opens a new incident instead of noting the closed one', async () => {
      const g = await putGroup(rig, 'closed-by-human', [{ name: 'inc', ticketConfiguration: { WorkItemType: 'Incident', noteCoalesceSeconds: 0 } }]);
      await postHook(g.webhookUrl, metricAlert({ rule: 'closed-by-human', alertId: 'h-1' }));
      await drained(rig.c);
      const [first] = (await ourIncidents(rig.sandbox)).filter((i) => i.short_description.includes('closed-by-human'));
      await sandboxAdmin(rig.sandbox, 'PATCH', `/api/now/table/incident/${first.sys_id}`, {
        state: '7',
        close_code: 'Solution provided',
        close_notes: 'fixed by hand',
      });

      await postHook(g.webhookUrl, metricAlert({ rule: 'closed-by-human', alertId: 'h-2' }));
      await drained(rig.c);
      const all = (await ourIncidents(rig.sandbox)).filter((i) => i.short_description.includes('closed-by-human'));
      assert.equal(all.length, 2, 'a new incident for the new firing');
      const fresh = all.find((i) => i.sys_id !== first.sys_id)!;
      assert.equal(fresh.correlation_id, `${first.correlation_id}-1`);
      assert.equal(fresh.state, '1');
      const notes = await workNotes(rig.sandbox, first.sys_id);
      assert.ok(!notes.some((n) => n.includes('h-2')), `no note about h-2 on the closed incident: ${JSON.stringify(notes)}`);
    });

    it('a firing after the incident was closed in ServiceNow reopens it inside reopenWindow', async () => {
      const g = await putGroup(rig, 'closed-reopen', [
        { name: 'inc', ticketConfiguration: { WorkItemType: 'Incident', noteCoalesceSeconds: 0, reopenWindow: 'PT1H' } },
      ]);
      await postHook(g.webhookUrl, metricAlert({ rule: 'closed-reopen', alertId: 'cr-1' }));
      await drained(rig.c);
      const [inc] = (await ourIncidents(rig.sandbox)).filter((i) => i.short_description.includes('closed-reopen'));
      await sandboxAdmin(rig.sandbox, 'PATCH', `/api/now/table/incident/${inc.sys_id}`, {
        state: '6',
        close_code: 'Solution provided',
        close_notes: 'looks fine',
      });

      await postHook(g.webhookUrl, metricAlert({ rule: 'closed-reopen', alertId: 'cr-2' }));
      await drained(rig.c);
      const all = (await ourIncidents(rig.sandbox)).filter((i) => i.short_description.includes('closed-reopen'));
      assert.equal(all.length, 1, 'reopened, not duplicated');
      assert.equal(all[0].state, '2');
      assert.ok((await workNotes(rig.sandbox, inc.sys_id)).some((n) => n.startsWith('Reopened by OpenITSMC')));
    });

    it('an Event made for a CI carries the CI as node and resource', async () => {
      const g = await putGroup(rig, 'event-ci', [{ name: 'evt', ticketConfiguration: { WorkItemType: 'Event' } }]);
      await postHook(g.webhookUrl, metricAlert({ rule: 'event-ci', alertId: 'ev-1', cis: ['core-sw-01'] }));
      await drained(rig.c);
      const link = (await rig.c.store.links.list('default')).find((l) => l.work_item_type === 'Event' && l.correlation_key);
      assert.ok(link);
      const events = (
        await sandboxGet(rig.sandbox, '/api/now/table/em_event', { sysparm_query: `message_key=${link.correlation_key}`, sysparm_fields: 'node,resource' })
      ).result;
      assert.equal(events.length, 1);
      assert.equal(events[0].node, 'core-sw-01');
      assert.notEqual(events[0].resource, '', 'resource filled');
    });
  });
}
