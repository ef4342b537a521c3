/**
 * Validation messages say what was wrong and what is allowed (issue 9): an enum lists its values once, the
 * location prefix is not doubled, and an unknown WorkItemData field is refused with the partner's field list
 * from the configuration sync. Over HTTP against a connector and the ServiceNow sandbox.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { api } from '../helpers/stores.ts';
import { startRig, type Rig } from '../delivery/helpers.ts';

describe('validation messages', () => {
  let rig: Rig;
  before(async () => {
    rig = await startRig('sqlite');
  });
  after(async () => rig.cleanup());
  const conn = '/api/v1/workspaces/default/connections/other';

  it('lists the allowed values of an enum once, instead of "must be equal to constant" per value', async () => {
    const res = await api(rig.c.url, rig.token, 'PUT', conn, { partnerType: 'Jira', serverUrl: 'https://x.example.com' });
    assert.equal(res.status, 400);
    assert.doesNotMatch(JSON.stringify(res.body), /equal to constant/);
    assert.match(res.body.error.message, /^partnerType must be one of: ServiceNow, SCSM, Cherwell, Provance/);
    assert.deepEqual(
      res.body.error.details.map((d: any) => d.path),
      ['body/partnerType'],
    );
  });

  it('does not double the location prefix', async () => {
    const res = await api(rig.c.url, rig.token, 'PUT', conn, { serverUrl: 'https://x.example.com' });
    assert.equal(res.status, 400);
    assert.doesNotMatch(res.body.error.message, /body: body/);
    assert.match(res.body.error.message, /partnerType/);
    const put = await api(rig.c.url, rig.token, 'PUT', '/api/v1/workspaces/default/actionGroups/bad', {
      itsmReceivers: [{ name: 'a', connectionName: 'snow', ticketConfiguration: { WorkItemType: 'Problem' } }],
    });
    assert.equal(put.status, 400);
    assert.doesNotMatch(put.body.error.message, /body: body|equal to constant/);
  });

  it('refuses an unknown WorkItemData field with the partner fields from the configuration sync', async () => {
    const res = await api(rig.c.url, rig.token, 'PUT', '/api/v1/workspaces/default/actionGroups/typo', {
      itsmReceivers: [{ name: 'inc', connectionName: 'snow', ticketConfiguration: { WorkItemType: 'Incident', WorkItemData: { categroy: 'software' } } }],
    });
    assert.equal(res.status, 400, JSON.stringify(res.body));
    assert.match(res.body.error.message, /categroy/);
    assert.match(res.body.error.message, /did you mean "category"/i);
    const problem = res.body.error.details.find((d: any) => d.path.endsWith('WorkItemData/categroy'));
    assert.ok(
      problem.allowed.includes('category') && problem.allowed.includes('short_description') && problem.allowed.includes('assignment_group'),
      'incident and task fields',
    );
    const ok = await api(rig.c.url, rig.token, 'PUT', '/api/v1/workspaces/default/actionGroups/typo', {
      itsmReceivers: [
        {
          name: 'inc',
          connectionName: 'snow',
          ticketConfiguration: { WorkItemType: 'Incident', WorkItemData: { category: 'software', assignment_group: 'x' } },
        },
      ],
    });
    assert.equal(ok.status, 201, JSON.stringify(ok.body));
  });

  describe('an ITSM action’s severity mapping override', () => {
    const put = (severityMapping: unknown) =>
      api(rig.c.url, rig.token, 'PUT', '/api/v1/workspaces/default/actionGroups/sev', {
        itsmReceivers: [{ name: 'inc', connectionName: 'snow', ticketConfiguration: { WorkItemType: 'Incident', severityMapping } }],
      });

    it('stores an override of one severity and returns it as given', async () => {
      const res = await put({ Sev1: { impact: '3', urgency: '1' } });
      assert.ok(res.status === 201 || res.status === 200, JSON.stringify(res.body));
      const got = await api(rig.c.url, rig.token, 'GET', '/api/v1/workspaces/default/actionGroups/sev');
      assert.deepEqual(got.body.itsmReceivers[0].ticketConfiguration.severityMapping, { Sev1: { impact: '3', urgency: '1' } });
    });

    it('refuses an unknown severity with a 400 naming it and its path', async () => {
      const res = await put({ Sev9: { impact: '1', urgency: '1' } });
      assert.equal(res.status, 400);
      assert.match(res.body.error.message, /itsmReceivers\/0\/ticketConfiguration\/severityMapping: unknown property 'Sev9'/);
    });

    it('refuses an unknown field of a severity with a 400 naming it and its path', async () => {
      const res = await put({ Sev1: { impact: '1', urgency: '1', priority: '1' } });
      assert.equal(res.status, 400);
      assert.match(res.body.error.message, /severityMapping\/Sev1: unknown property 'priority'/);
    });

    it('refuses a value outside the partner’s choice list at its path, listing the valid values', async () => {
      const res = await put({ Sev1: { impact: '1', urgency: '7' } });
      assert.equal(res.status, 400);
      const d = res.body.error.details.find((x: any) => x.path.endsWith('ticketConfiguration/severityMapping/Sev1/urgency'));
      assert.ok(d, JSON.stringify(res.body));
      assert.deepEqual(d.allowed, ['1', '2', '3']);
      assert.match(d.message, /"7" is not a valid urgency/);
      const half = await put({ Sev1: { impact: '1' } });
      assert.equal(half.status, 400);
      assert.match(half.body.error.message, /severityMapping\/Sev1 must have required property 'urgency'/);
    });
  });
});
