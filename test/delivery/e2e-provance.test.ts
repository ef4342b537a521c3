/**
 * End to end over HTTP against the Provance sandbox: webhook → durable queue → delivery engine → Provance
 * client → Dataverse Web API, checked through the sandbox's own Web API. Runs on SQLite and PostgreSQL.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { api, testDialects } from '../helpers/stores.ts';
import { drained, fastDelivery, metricAlert, postHook } from './helpers.ts';
import { ProvanceReader, provanceHarness, startPartnerRig, type PartnerRig } from './provance-harness.ts';

for (const dialect of testDialects) {
  describe(`Provance: alerts to cases end to end on ${dialect}`, () => {
    let rig: PartnerRig;
    let reader: ProvanceReader;
    before(async () => {
      rig = await startPartnerRig(provanceHarness, fastDelivery(), dialect);
      reader = new ProvanceReader({ url: rig.sandbox.url, apiUrl: `${rig.sandbox.url}/api/data/v9.2` });
    });
    after(async () => rig?.cleanup());

    it('an Azure alert creates exactly one case with its CI, a re-fire adds one note, the resolve resolves it', async () => {
      const c = rig.c;
      const conn = await api(c.url, c.adminToken, 'GET', `/api/v1/workspaces/default/connections/${rig.connection}`);
      assert.equal(conn.body.status, 'Healthy', conn.body.lastError);
      const group = await api(c.url, c.adminToken, 'PUT', '/api/v1/workspaces/default/actionGroups/prov', {
        itsmReceivers: [{ name: 'case', connectionName: rig.connection, ticketConfiguration: { WorkItemType: 'Incident', noteCoalesceSeconds: 0 } }],
      });
      assert.equal(group.status, 201, JSON.stringify(group.body));
      const hook: string = group.body.webhookUrl;

      const ours = async () =>
        await reader.all(
          `incidents?$select=title,statecode,prov_correlationkey,_prov_configurationitemid_value&$filter=${encodeURIComponent("contains(title,'cpu-high-prov')")}`,
        );
      const notes = async (id: string) => (await reader.all(`annotations?$select=notetext&$filter=_objectid_value eq ${id}`)).map((n) => n.notetext as string);

      assert.equal((await postHook(hook, metricAlert({ rule: 'cpu-high-prov', alertId: 'p-1', cis: ['vm-prov-01'] }))).status, 202);
      assert.equal((await postHook(hook, metricAlert({ rule: 'cpu-high-prov', alertId: 'p-1', cis: ['vm-prov-01'] }))).body.status, 'duplicate');
      await drained(c);
      let cases = await ours();
      assert.equal(cases.length, 1, 'exactly one case');
      const [kase] = cases;
      assert.match(kase.prov_correlationkey, /^oitsmc:/);
      assert.equal(kase['_prov_configurationitemid_value@OData.Community.Display.V1.FormattedValue'], 'vm-prov-01', 'the CI was created and bound');
      const linked = await reader.all(`incidents(${kase.incidentid})/prov_incident_configurationitem?$select=prov_name`);
      assert.deepEqual(
        linked.map((x) => x.prov_name),
        ['vm-prov-01'],
        'and associated through the N:N navigation property',
      );
      assert.equal((await notes(kase.incidentid)).length, 0);

      assert.equal((await postHook(hook, metricAlert({ rule: 'cpu-high-prov', alertId: 'p-2', cis: ['vm-prov-01'] }))).status, 202);
      await drained(c);
      const afterRefire = await notes(kase.incidentid);
      assert.equal(afterRefire.length, 1, `one note for the re-fire: ${JSON.stringify(afterRefire)}`);
      assert.match(afterRefire[0], /p-2/);
      assert.equal((await ours()).length, 1, 'still one case');

      await postHook(hook, metricAlert({ rule: 'cpu-high-prov', alertId: 'p-1', condition: 'Resolved', cis: ['vm-prov-01'] }));
      await postHook(hook, metricAlert({ rule: 'cpu-high-prov', alertId: 'p-2', condition: 'Resolved', cis: ['vm-prov-01'] }));
      await drained(c);
      cases = await ours();
      assert.equal(cases.length, 1);
      assert.equal(cases[0].statecode, 1, 'resolved');
      assert.equal(cases[0]['statecode@OData.Community.Display.V1.FormattedValue'], 'Resolved');
      const resolutions = await reader.all(`incidentresolutions?$select=description&$filter=_incidentid_value eq ${kase.incidentid}`);
      assert.equal(resolutions.length, 1, 'one CloseIncident resolution activity');
      const dead = await c.store.jobs.listDead('default', { limit: 100 });
      assert.deepEqual(
        dead.map((d) => d.last_error),
        [],
      );
    });
  });
}
