import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { CherwellSandbox } from './index.ts';
import { ADMIN, bearer, busObId, call, fieldIds, fieldValue, INCIDENT_ID, startSmall } from './test-support.ts';

describe('Cherwell sandbox: getsearchresults filters, paging, sorting and US local dates', () => {
  let sb: CherwellSandbox;
  let auth: string;
  let f: Record<string, string>;
  const search = (body: Record<string, unknown>) =>
    call(sb, 'POST', '/api/V1/getsearchresults', { auth, body: { busObId: INCIDENT_ID, includeAllFields: true, ...body } });
  const names = (r: { body: { businessObjects: { fields: { name: string; value: string }[] }[] } }) =>
    r.body.businessObjects.map((b) => fieldValue(b, 'ShortDescription'));

  before(async () => {
    sb = await startSmall();
    auth = await bearer(sb);
    f = await fieldIds(sb, auth, INCIDENT_ID);
    const rows: [string, string, string][] = [
      ['zq-alpha one', 'New', '1'],
      ['zq-alpha two', 'Assigned', '2'],
      ['zq-beta three', 'New', '3'],
      ['zq-beta four', 'Resolved', '4'],
      ['zq-gamma 50%_off', 'New', '5'],
    ];
    for (const [sd, status, priority] of rows) {
      const fields = [
        { dirty: true, fieldId: f.ShortDescription, value: sd },
        { dirty: true, fieldId: f.Status, value: status },
        { dirty: true, fieldId: f.Priority, value: priority },
      ];
      const r = await call(sb, 'POST', '/api/V1/savebusinessobject', { auth, body: { busObId: INCIDENT_ID, fields } });
      assert.equal(r.body.hasError, false, r.text);
    }
  });
  after(() => sb.close());

  it('ORs filters on the same field and ANDs filters on different fields', async () => {
    const r = await search({
      filters: [
        { fieldId: f.ShortDescription, operator: 'startswith', value: 'zq-' },
        { fieldId: f.Status, operator: 'eq', value: 'New' },
        { fieldId: f.Status, operator: 'eq', value: 'Assigned' },
      ],
      sorting: [{ fieldId: f.Priority, sortDirection: 1 }],
    });
    assert.equal(r.status, 200);
    assert.equal(r.body.hasError, false);
    assert.deepEqual(names(r), ['zq-alpha one', 'zq-alpha two', 'zq-beta three', 'zq-gamma 50%_off']);
    assert.equal(r.body.totalRows, 4);
  });

  it('supports contains, startswith (literal % and _), gt and lt, ignoring case', async () => {
    const c = await search({ filters: [{ fieldId: f.ShortDescription, operator: 'contains', value: 'BETA' }] });
    assert.deepEqual(names(c).sort(), ['zq-beta four', 'zq-beta three']);
    const s = await search({ filters: [{ fieldId: f.ShortDescription, operator: 'startswith', value: 'zq-gamma 50%_' }] });
    assert.deepEqual(names(s), ['zq-gamma 50%_off']);
    const none = await search({ filters: [{ fieldId: f.ShortDescription, operator: 'startswith', value: 'zq-gamma 5_' }] });
    assert.equal(none.body.totalRows, 0);
    const range = await search({
      filters: [
        { fieldId: f.ShortDescription, operator: 'startswith', value: 'zq-' },
        { fieldId: f.Priority, operator: 'gt', value: '2' },
      ],
    });
    assert.deepEqual(names(range).sort(), ['zq-beta four', 'zq-beta three', 'zq-gamma 50%_off']);
  });

  it('pages from 1 with totalRows counting every match, and sorts descending', async () => {
    const base = {
      filters: [{ fieldId: f.ShortDescription, operator: 'startswith', value: 'zq-' }],
      sorting: [{ fieldId: f.Priority, sortDirection: 0 }],
      pageSize: 2,
    };
    const p1 = await search({ ...base, pageNumber: 1 });
    const p2 = await search({ ...base, pageNumber: 2 });
    const p3 = await search({ ...base, pageNumber: 3 });
    assert.deepEqual(
      [p1, p2, p3].map((p) => p.body.totalRows),
      [5, 5, 5],
    );
    assert.deepEqual([...names(p1), ...names(p2), ...names(p3)], ['zq-gamma 50%_off', 'zq-beta four', 'zq-beta three', 'zq-alpha two', 'zq-alpha one']);
  });

  it('returns only the requested fields as FieldTemplateItems when includeAllFields is false', async () => {
    const r = await search({
      includeAllFields: false,
      fields: [f.IncidentID, f.Status],
      filters: [{ fieldId: f.ShortDescription, operator: 'eq', value: 'zq-alpha one' }],
    });
    const bo = r.body.businessObjects[0];
    assert.deepEqual(
      bo.fields.map((x: { name: string }) => x.name),
      ['IncidentID', 'Status'],
    );
    assert.deepEqual(Object.keys(bo.fields[0]).sort(), ['dirty', 'displayName', 'fieldId', 'html', 'name', 'value']);
    assert.equal(bo.busObPublicId, bo.fields[0].value);
  });

  it('refuses unknown operators and unknown fields with hasError naming the filter', async () => {
    const op = await search({ filters: [{ fieldId: f.Status, operator: 'startwith', value: 'N' }] });
    assert.equal(op.status, 400);
    assert.equal(op.body.hasError, true);
    assert.match(op.body.errorMessage, /filters\[0\].*startwith/);
    assert.deepEqual(op.body.businessObjects, []);
    const field = await search({ filters: [{ fieldId: `BO:${INCIDENT_ID},FI:${'0'.repeat(32)}`, operator: 'eq', value: 'x' }] });
    assert.equal(field.status, 400);
    assert.equal(field.body.errorCode, 'FIELDNOTFOUND');
  });

  describe('dates in the server time zone', () => {
    let changeId: string;
    let cf: Record<string, string>;
    const setZone = (timeZone: string) => call(sb, 'PUT', '/api/x_sandbox/rules', { auth: ADMIN, body: { timeZone } });
    const saveChange = (title: string, start: string) =>
      call(sb, 'POST', '/api/V1/savebusinessobject', {
        auth,
        body: {
          busObId: changeId,
          fields: [
            { dirty: true, fieldId: cf.Title, value: title },
            { dirty: true, fieldId: cf.ProposedStartDate, value: start },
          ],
        },
      });
    const readStart = async (recId: string) =>
      fieldValue((await call(sb, 'GET', `/api/V1/getbusinessobject/busobid/${changeId}/busobrecid/${recId}`, { auth })).body, 'ProposedStartDate');

    before(async () => {
      changeId = await busObId(sb, auth, 'ChangeRequest');
      cf = await fieldIds(sb, auth, changeId);
    });
    after(() => setZone('America/New_York'));

    it('reads local times back as M/d/yyyy h:mm:ss tt, and shows them in another zone when the server zone changes', async () => {
      await setZone('America/New_York');
      const summer = await saveChange('dst-summer', '7/4/2026 3:10:12 PM');
      const winter = await saveChange('dst-winter', '1/15/2026 3:10:12 PM');
      assert.equal(await readStart(summer.body.busObRecId), '7/4/2026 3:10:12 PM');
      await setZone('UTC');
      assert.equal(await readStart(summer.body.busObRecId), '7/4/2026 7:10:12 PM');
      assert.equal(await readStart(winter.body.busObRecId), '1/15/2026 8:10:12 PM');
    });

    it('handles the DST gaps: a skipped spring-forward time moves forward, a repeated fall-back time is the earlier one', async () => {
      await setZone('America/New_York');
      const gap = await saveChange('dst-gap', '3/8/2026 2:30:00 AM');
      const repeat = await saveChange('dst-repeat', '11/1/2026 1:30:00 AM');
      assert.equal(await readStart(gap.body.busObRecId), '3/8/2026 3:30:00 AM');
      await setZone('UTC');
      assert.equal(await readStart(gap.body.busObRecId), '3/8/2026 7:30:00 AM');
      assert.equal(await readStart(repeat.body.busObRecId), '11/1/2026 5:30:00 AM');
    });

    it('compares date filters as local times of the server zone', async () => {
      await setZone('America/New_York');
      const a = await saveChange('dst-filter', '11/1/2026 12:30:00 AM');
      assert.equal(a.body.hasError, false);
      const q = (value: string) =>
        call(sb, 'POST', '/api/V1/getsearchresults', {
          auth,
          body: {
            busObId: changeId,
            includeAllFields: true,
            filters: [
              { fieldId: cf.Title, operator: 'eq', value: 'dst-filter' },
              { fieldId: cf.ProposedStartDate, operator: 'gt', value },
            ],
          },
        });
      assert.equal((await q('11/1/2026 12:29:59 AM')).body.totalRows, 1);
      assert.equal((await q('11/1/2026 12:30:00 AM')).body.totalRows, 0);
      await setZone('UTC');
      // 00:30 EDT is 04:30 UTC: the same filter text now means four hours earlier.
      assert.equal((await q('11/1/2026 4:29:59 AM')).body.totalRows, 1);
      assert.equal((await q('11/1/2026 4:30:00 AM')).body.totalRows, 0);
      const bad = await q('2026-11-01T00:30:00Z');
      assert.equal(bad.status, 400);
      assert.match(bad.body.errorMessage, /M\/d\/yyyy/);
    });

    it('refuses a date that is not a US local date with a field validation error', async () => {
      const r = await saveChange('dst-bad', '31/12/2026 10:00:00 AM');
      assert.equal(r.status, 200);
      assert.equal(r.body.hasError, true);
      assert.equal(r.body.fieldValidationErrors[0].fieldId, cf.ProposedStartDate);
    });
  });
});
