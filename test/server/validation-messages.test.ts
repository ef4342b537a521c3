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
});
