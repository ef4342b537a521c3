/**
 * A resolve never waits for a work note's coalescing window (issue 9): occurrences still pending are folded into
 * the resolve note and the work item is resolved at once. The window here is 10 minutes; the resolve must come
 * long before it. Alertmanager-shaped traffic (group notifications) against the ServiceNow sandbox.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { testDialects } from '../helpers/stores.ts';
import { alertmanagerGroup, drained, fastDelivery, ourIncidents, postHook, putGroup, startRig, workNotes, type Rig } from './helpers.ts';

async function resolvedSoon(rig: Rig, name: string, timeoutMs = 15_000): Promise<{ sys_id: string; state: string }> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const [inc] = (await ourIncidents(rig.sandbox)).filter((i) => i.short_description.includes(name));
    if (inc?.state === '6') return inc;
    if (Date.now() > end)
      throw new Error(
        `incident for ${name} not resolved after ${timeoutMs} ms (state ${inc?.state}); jobs: ${JSON.stringify(await rig.c.store.jobs.counts())}`,
      );
    await new Promise((r) => setTimeout(r, 50));
  }
}

for (const dialect of testDialects) {
  describe(`resolves go at once on ${dialect}`, () => {
    let rig: Rig;
    let hook: string;
    before(async () => {
      rig = await startRig(dialect, fastDelivery());
      hook = (await putGroup(rig, 'am', [{ name: 'inc', ticketConfiguration: { WorkItemType: 'Incident', noteCoalesceSeconds: 600 } }])).webhookUrl;
    });
    after(async () => rig.cleanup());

    it('resolves an Alertmanager group at once although occurrences are waiting for the coalescing window', async () => {
      const name = `NodeDown-${dialect}`;
      const group = (alerts: { fingerprint: string; instance: string; status?: 'firing' | 'resolved' }[]) =>
        alertmanagerGroup({ groupKey: `{}:{alertname="${name}"}`, alertname: name, alerts });
      await postHook(hook, group([{ fingerprint: 'a', instance: 'node-a' }]));
      await drained(rig.c);
      await postHook(
        hook,
        group([
          { fingerprint: 'a', instance: 'node-a' },
          { fingerprint: 'b', instance: 'node-a' },
        ]),
      );
      await drained(rig.c);
      await postHook(
        hook,
        group([
          { fingerprint: 'a', instance: 'node-a', status: 'resolved' },
          { fingerprint: 'b', instance: 'node-a' },
        ]),
      );
      await postHook(hook, group([{ fingerprint: 'b', instance: 'node-a', status: 'resolved' }]));
      const inc = await resolvedSoon(rig, name);
      const notes = await workNotes(rig.sandbox, inc.sys_id);
      assert.ok(
        notes.some((n) => /further alert event/i.test(n)),
        `the pending occurrences are folded into a note: ${JSON.stringify(notes)}`,
      );
    });

    it('resolves at once when the whole group resolves in one notification while a note waits', async () => {
      const name = `DiskFull-${dialect}`;
      const group = (alerts: { fingerprint: string; instance: string; status?: 'firing' | 'resolved' }[]) =>
        alertmanagerGroup({ groupKey: `{}:{alertname="${name}"}`, alertname: name, alerts });
      await postHook(hook, group([{ fingerprint: 'c', instance: 'node-c' }]));
      await drained(rig.c);
      await postHook(
        hook,
        group([
          { fingerprint: 'c', instance: 'node-c' },
          { fingerprint: 'd', instance: 'node-c' },
        ]),
      );
      await postHook(
        hook,
        group([
          { fingerprint: 'c', instance: 'node-c', status: 'resolved' },
          { fingerprint: 'd', instance: 'node-c', status: 'resolved' },
        ]),
      );
      await resolvedSoon(rig, name);
    });
  });
}
