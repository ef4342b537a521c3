import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { CherwellSandbox } from './index.ts';
import { ADMIN, bearer, busObId, call, fieldIds, fieldValue, INCIDENT_ID, startSmall } from './test-support.ts';

describe('Cherwell sandbox: business object metadata, save, read and delete', () => {
  let sb: CherwellSandbox;
  let auth: string;
  let f: Record<string, string>;
  before(async () => {
    sb = await startSmall();
    auth = await bearer(sb);
    f = await fieldIds(sb, auth, INCIDENT_ID);
  });
  after(() => sb.close());

  const create = (fields: Record<string, string>, dirty: unknown = true) =>
    call(sb, 'POST', '/api/V1/savebusinessobject', {
      auth,
      body: { busObId: INCIDENT_ID, fields: Object.entries(fields).map(([name, value]) => ({ dirty, fieldId: f[name], name, value })), persist: true },
    });

  it('returns the Incident summary as a JSON array with the out-of-the-box ids and states', async () => {
    const r = await call(sb, 'GET', '/api/V1/getbusinessobjectsummary/busobname/Incident', { auth });
    assert.equal(r.status, 200);
    assert.ok(Array.isArray(r.body));
    assert.equal(r.body[0].busObId, INCIDENT_ID);
    assert.equal(r.body[0].stateFieldId, '5eb3234ae1344c64a19819eda437f18d');
    assert.equal(r.body[0].firstRecIdField, 'fa03d51b709e4a6eb2d52885b2ef7e04');
    assert.equal(r.body[0].states, 'Pending,Closed,Reopened,New,In Progress,Resolved,Assigned');
    const byId = await call(sb, 'GET', `/api/V1/getbusinessobjectsummary/busobid/${INCIDENT_ID}`, { auth });
    assert.deepEqual(byId.body, r.body);
  });

  it('gives ChangeRequest its own summary, status list and template', async () => {
    const id = await busObId(sb, auth, 'ChangeRequest');
    assert.match(id, /^[0-9a-f]{32}$/);
    assert.notEqual(id, INCIDENT_ID);
    const s = (await call(sb, 'GET', '/api/V1/getbusinessobjectsummary/busobname/ChangeRequest', { auth })).body[0];
    assert.ok(s.states.split(',').includes('Implementing'));
    const t = await fieldIds(sb, auth, id);
    assert.ok(t.Title && t.ChangeID && t.Status);
  });

  it('answers the template with BO:/FI: field ids, names, display names and defaults', async () => {
    const r = await call(sb, 'POST', '/api/V1/getbusinessobjecttemplate', {
      auth,
      body: { busObId: INCIDENT_ID, fieldNames: ['ShortDescription', 'Status'], fieldIds: [], includeAll: false, includeRequired: false },
    });
    assert.equal(r.status, 200);
    assert.equal(r.body.hasError, false);
    assert.deepEqual(r.body.fields.map((x: { name: string }) => x.name).sort(), ['ShortDescription', 'Status']);
    const status = r.body.fields.find((x: { name: string }) => x.name === 'Status');
    assert.deepEqual(status, {
      dirty: false,
      displayName: 'Status',
      fieldId: `BO:${INCIDENT_ID},FI:5eb3234ae1344c64a19819eda437f18d`,
      html: null,
      name: 'Status',
      value: 'New',
    });
    assert.equal(f.IncidentID, `BO:${INCIDENT_ID},FI:6ae282c55e8e4266ae66ffc070c17fa3`);
  });

  it('creates when neither rec id nor public id is given: numeric public id, 32-hex rec id', async () => {
    const r = await create({ ShortDescription: 'CPU > 80% on vm-web-01', Description: 'from a test', Priority: '2' });
    assert.equal(r.status, 200);
    assert.deepEqual(
      Object.keys(r.body).sort(),
      ['busObPublicId', 'busObRecId', 'cacheKey', 'errorCode', 'errorMessage', 'fieldValidationErrors', 'hasError', 'notificationTriggers'].sort(),
    );
    assert.equal(r.body.hasError, false);
    assert.match(r.body.busObPublicId, /^\d+$/);
    assert.match(r.body.busObRecId, /^[0-9a-f]{32}$/);
    const read = await call(sb, 'GET', `/api/V1/getbusinessobject/busobid/${INCIDENT_ID}/busobrecid/${r.body.busObRecId}`, { auth });
    assert.equal(fieldValue(read.body, 'ShortDescription'), 'CPU > 80% on vm-web-01');
    assert.equal(fieldValue(read.body, 'Status'), 'New');
    assert.equal(fieldValue(read.body, 'IncidentID'), r.body.busObPublicId);
  });

  it('writes only dirty fields, tolerating "dirty":"true" as a string', async () => {
    const r = await create({ ShortDescription: 'dirty semantics' }, 'true');
    assert.equal(r.body.hasError, false, r.text);
    const upd = await call(sb, 'POST', '/api/V1/savebusinessobject', {
      auth,
      body: {
        busObId: INCIDENT_ID,
        busObPublicId: r.body.busObPublicId,
        fields: [
          { dirty: false, fieldId: f.ShortDescription, name: 'ShortDescription', value: 'must not be written' },
          { dirty: 'true', fieldId: f.Priority, name: 'Priority', value: '1' },
        ],
      },
    });
    assert.equal(upd.status, 200);
    assert.equal(upd.body.hasError, false);
    assert.equal(upd.body.busObRecId, r.body.busObRecId);
    const read = await call(sb, 'GET', `/api/V1/getbusinessobject/busobid/${INCIDENT_ID}/publicid/${r.body.busObPublicId}`, { auth });
    assert.equal(fieldValue(read.body, 'ShortDescription'), 'dirty semantics');
    assert.equal(fieldValue(read.body, 'Priority'), '1');
  });

  it('reports validation failures with HTTP 200, hasError and fieldValidationErrors', async () => {
    const r = await create({ Description: 'no short description', Status: 'Bogus' });
    assert.equal(r.status, 200);
    assert.equal(r.body.hasError, true);
    assert.equal(typeof r.body.errorCode, 'string');
    assert.equal(typeof r.body.errorMessage, 'string');
    assert.equal(r.body.busObRecId, null);
    const ids = r.body.fieldValidationErrors.map((e: { fieldId: string }) => e.fieldId).sort();
    assert.deepEqual(ids, [f.ShortDescription, f.Status].sort());
    for (const e of r.body.fieldValidationErrors) assert.deepEqual(Object.keys(e).sort(), ['error', 'errorCode', 'fieldId']);
  });

  it('answers an update of a missing record with hasError RECORDNOTFOUND (status configurable)', async () => {
    const body = { busObId: INCIDENT_ID, busObRecId: '0'.repeat(32), fields: [{ dirty: true, fieldId: f.Priority, value: '1' }] };
    const r = await call(sb, 'POST', '/api/V1/savebusinessobject', { auth, body });
    assert.equal(r.status, 200);
    assert.equal(r.body.hasError, true);
    assert.equal(r.body.errorCode, 'RECORDNOTFOUND');
    await call(sb, 'PUT', '/api/x_sandbox/rules', { auth: ADMIN, body: { recordNotFoundStatus: 404 } });
    try {
      const r404 = await call(sb, 'GET', `/api/V1/getbusinessobject/busobid/${INCIDENT_ID}/publicid/999999999`, { auth });
      assert.equal(r404.status, 404);
      assert.equal(r404.body.hasError, true);
    } finally {
      await call(sb, 'PUT', '/api/x_sandbox/rules', { auth: ADMIN, body: { recordNotFoundStatus: 200 } });
    }
  });

  it('stamps ResolvedDateTime when an incident is resolved and clears it when reopened', async () => {
    const r = await create({ ShortDescription: 'lifecycle' });
    const set = (status: string) =>
      call(sb, 'POST', '/api/V1/savebusinessobject', {
        auth,
        body: { busObId: INCIDENT_ID, busObRecId: r.body.busObRecId, fields: [{ dirty: true, fieldId: f.Status, value: status }] },
      });
    const read = async () => (await call(sb, 'GET', `/api/V1/getbusinessobject/busobid/${INCIDENT_ID}/busobrecid/${r.body.busObRecId}`, { auth })).body;
    await set('Resolved');
    assert.match(fieldValue(await read(), 'ResolvedDateTime')!, /^\d{1,2}\/\d{1,2}\/\d{4} \d{1,2}:\d{2}:\d{2} (AM|PM)$/);
    await set('Reopened');
    assert.equal(fieldValue(await read(), 'ResolvedDateTime'), '');
  });

  it('deletes by rec id and by public id', async () => {
    const a = await create({ ShortDescription: 'delete me A' });
    const b = await create({ ShortDescription: 'delete me B' });
    const d1 = await call(sb, 'DELETE', `/api/V1/deletebusinessobject/busobid/${INCIDENT_ID}/busobrecid/${a.body.busObRecId}`, { auth });
    const d2 = await call(sb, 'DELETE', `/api/V1/deletebusinessobject/busobid/${INCIDENT_ID}/publicid/${b.body.busObPublicId}`, { auth });
    for (const d of [d1, d2]) {
      assert.equal(d.status, 200);
      assert.equal(d.body.hasError, false);
    }
    const gone = await call(sb, 'GET', `/api/V1/getbusinessobject/busobid/${INCIDENT_ID}/busobrecid/${a.body.busObRecId}`, { auth });
    assert.equal(gone.body.hasError, true);
  });

  it('saves and reads batches, one response per request, stopping on error only when asked', async () => {
    const item = (sd: string) => ({ busObId: INCIDENT_ID, fields: [{ dirty: true, fieldId: f.ShortDescription, value: sd }] });
    const bad = { busObId: INCIDENT_ID, fields: [{ dirty: true, fieldId: f.Priority, value: '9' }] };
    const r = await call(sb, 'POST', '/api/V1/savebusinessobjectbatch', { auth, body: { saveRequests: [item('b1'), bad, item('b2')], stopOnError: false } });
    assert.equal(r.status, 200);
    assert.deepEqual(
      r.body.responses.map((x: { hasError: boolean }) => x.hasError),
      [false, true, false],
    );
    const stop = await call(sb, 'POST', '/api/V1/savebusinessobjectbatch', { auth, body: { saveRequests: [bad, item('b3')], stopOnError: true } });
    assert.equal(stop.body.responses.length, 1);
    const reads = await call(sb, 'POST', '/api/V1/getbusinessobjectbatch', {
      auth,
      body: {
        readRequests: [
          { busObId: INCIDENT_ID, busObRecId: r.body.responses[0].busObRecId },
          { busObId: INCIDENT_ID, busObPublicId: r.body.responses[2].busObPublicId },
        ],
      },
    });
    assert.deepEqual(
      reads.body.responses.map((x: any) => fieldValue(x, 'ShortDescription')),
      ['b1', 'b2'],
    );
  });

  it('refuses malformed bodies and unknown business objects with a 400 naming the problem', async () => {
    const bad = await call(sb, 'POST', '/api/V1/savebusinessobject', { auth, raw: '{not json', headers: { 'Content-Type': 'application/json' } });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.hasError, true);
    const unknown = await call(sb, 'POST', '/api/V1/savebusinessobject', { auth, body: { busObId: 'f'.repeat(32), fields: [] } });
    assert.equal(unknown.status, 400);
    assert.equal(unknown.body.errorCode, 'BUSOBNOTFOUND');
  });
});
