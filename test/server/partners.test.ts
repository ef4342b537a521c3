import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { api, startTestConnector, type TestConnector } from '../helpers/stores.ts';
import { partners } from '../../src/partners/registry.ts';

describe('GET /api/v1/partners', () => {
  let c: TestConnector;
  let reader: string;
  before(async () => {
    c = await startTestConnector('sqlite');
    reader = (await api(c.url, c.adminToken, 'POST', '/api/v1/workspaces/default/apiKeys', { name: 'dash', role: 'reader' })).body.key;
  });
  after(async () => c.cleanup());

  it('lists every registered partner with its connection form, work item types and sync scopes', async () => {
    const res = await api(c.url, c.adminToken, 'GET', '/api/v1/partners');
    assert.equal(res.status, 200);
    assert.deepEqual(
      res.body.value.map((p: { type: string }) => p.type),
      partners.map((p) => p.type),
    );
    const snow = res.body.value.find((p: { type: string }) => p.type === 'ServiceNow');
    assert.deepEqual(snow.workItemTypes, ['Incident', 'Event', 'Alert']);
    assert.deepEqual(snow.syncScopes, ['Incident', 'ChangeRequest']);
    assert.equal(snow.mappingVerified, true);
    assert.equal(snow.clientAvailable, true);
    const password = snow.connectionFields.find((f: { name: string }) => f.name === 'password');
    assert.deepEqual({ required: password.required, secret: password.secret, kind: password.kind }, { required: true, secret: true, kind: 'password' });
    assert.ok(snow.connectionFields.every((f: { label: string; help: string }) => f.label && f.help));
  });

  it('gives each partner its default severity → impact/urgency mapping from its descriptor', async () => {
    const res = await api(c.url, c.adminToken, 'GET', '/api/v1/partners');
    for (const p of partners) {
      const view = res.body.value.find((v: { type: string }) => v.type === p.type);
      assert.deepEqual(view.defaultSeverityMapping, p.severity.defaultMapping, p.type);
    }
    const snow = res.body.value.find((p: { type: string }) => p.type === 'ServiceNow');
    assert.deepEqual(snow.defaultSeverityMapping.Sev1, { impact: '1', urgency: '2' });
    const scsm = res.body.value.find((p: { type: string }) => p.type === 'SCSM');
    assert.deepEqual(scsm.defaultSeverityMapping.Sev0, { impact: 'High', urgency: 'High' }, 'SCSM maps onto its own enums');
  });

  it('answers any workspace key, and 401 without a token', async () => {
    const res = await api(c.url, reader, 'GET', '/api/v1/partners');
    assert.equal(res.status, 200);
    assert.ok(res.body.value.length >= 1);
    assert.equal((await api(c.url, null, 'GET', '/api/v1/partners')).status, 401);
  });
});
