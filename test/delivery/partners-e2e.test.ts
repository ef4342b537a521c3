/**
 * End to end over HTTP for every partner with a sandbox: webhook → durable queue → delivery engine → the
 * partner's sandbox, read back through the sandbox's own API. The same scenario for each partner.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { drained, fastDelivery, metricAlert, postHook, putGroup, startPartnerRig, type PartnerRig } from './helpers.ts';
import { countByKey, PARTNERS } from './partners.ts';

for (const probe of PARTNERS) {
  describe(`alerts to ${probe.type} work items end to end`, () => {
    let rig: PartnerRig;
    before(async () => {
      rig = await startPartnerRig(probe, 'sqlite', fastDelivery());
    });
    after(async () => rig.cleanup());

    it('creates exactly one incident with its CI, adds one note per re-fire, resolves when the alert resolves', async () => {
      const g = await putGroup(rig, 'e2e', [{ name: 'inc', ticketConfiguration: { WorkItemType: 'Incident', noteCoalesceSeconds: 0 } }]);
      const first = metricAlert({ rule: 'cpu-partner-e2e', alertId: 'pe-1', cis: ['vm-partner-e2e-01'] });
      assert.equal((await postHook(g.webhookUrl, first)).status, 202);
      assert.equal((await postHook(g.webhookUrl, first)).body.status, 'duplicate');
      await drained(rig.c);

      const mine = async () => (await probe.incidents(rig.sb)).filter((i) => i.title.includes('cpu-partner-e2e'));
      let incidents = await mine();
      assert.equal(incidents.length, 1, 'exactly one incident');
      const [inc] = incidents;
      assert.equal(inc.ci, 'vm-partner-e2e-01', 'the CI was found or created and linked');
      assert.equal(inc.resolved, false);
      const notesBefore = (await probe.notes(rig.sb, inc.id)).length;

      await postHook(g.webhookUrl, metricAlert({ rule: 'cpu-partner-e2e', alertId: 'pe-2', cis: ['vm-partner-e2e-01'] }));
      await drained(rig.c);
      const notes = await probe.notes(rig.sb, inc.id);
      assert.equal(notes.length, notesBefore + 1, `one note for the re-fire: ${JSON.stringify(notes)}`);
      assert.ok(notes.at(-1)!.includes('pe-2'), notes.at(-1));
      assert.equal((await mine()).length, 1, 'still one incident');

      await postHook(g.webhookUrl, metricAlert({ rule: 'cpu-partner-e2e', alertId: 'pe-1', condition: 'Resolved', cis: ['vm-partner-e2e-01'] }));
      await postHook(g.webhookUrl, metricAlert({ rule: 'cpu-partner-e2e', alertId: 'pe-2', condition: 'Resolved', cis: ['vm-partner-e2e-01'] }));
      await drained(rig.c);
      incidents = await mine();
      assert.equal(incidents.length, 1);
      assert.equal(incidents[0].resolved, true, 'resolved when the last firing alert resolved');
    });

    it('delivers 1,000 alerts with a handful of logins, refreshing the token rather than signing in again', async (t) => {
      const g = await putGroup(rig, 'volume', [{ name: 'inc', ticketConfiguration: { WorkItemType: 'Incident', noteCoalesceSeconds: 0 } }]);
      const loginsBefore = await probe.logins(rig.sb);
      const RULES = 200;
      const ALERTS = 1000;
      const bodies = Array.from({ length: ALERTS }, (_, i) => metricAlert({ rule: `volume-${i % RULES}`, alertId: `v-${i}`, cis: [] }));
      for (let i = 0; i < ALERTS; i += 50) {
        await Promise.all(bodies.slice(i, i + 50).map(async (b) => assert.equal((await postHook(g.webhookUrl, b)).status, 202)));
        if (i === ALERTS / 2) await probe.admin(rig.sb, 'POST', probe.type === 'Cherwell' ? 'expire_access_tokens' : 'oauth/expire_access_tokens');
      }
      await drained(rig.c, 180_000);
      const incidents = (await probe.incidents(rig.sb)).filter((i) => /\] volume-\d+/.test(i.title));
      assert.equal(incidents.length, RULES, 'one incident per rule');
      assert.deepEqual(
        [...countByKey(incidents).values()].filter((n) => n > 1),
        [],
        'none twice',
      );
      const logins = (await probe.logins(rig.sb)) - loginsBefore;
      t.diagnostic(`${probe.type}: ${ALERTS} alerts, ${RULES} incidents, ${logins} password login(s); partner calls ${rig.c.delivery.stats.partnerCalls}`);
      assert.ok(logins <= 2, `a handful of logins, not one per call: ${logins}`);
    });
  });
}
