import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { ScsmSandbox } from './index.ts';
import { templateId } from './index.ts';
import { ADMIN, and, call, CHANGE, criteria, fieldOf, INCIDENT, or, simple, startSmall, token } from './test-support.ts';

let sb: ScsmSandbox;
let tok: string;
const NOW = '2026-06-15T12:00:00Z';

before(async () => {
  sb = await startSmall({ now: NOW, seed: 4 });
  tok = await token(sb);
});
after(() => sb.close());

const api = (method: string, path: string, body?: unknown) => call(sb, method, path, { token: tok, body });
const BASE_MEMBERS = ['errorMessages', 'reqProcessingTime', 'debugLogs'];

function assertBase(body: any, errors: string[] = []): void {
  for (const m of BASE_MEMBERS) assert.ok(m in body, `response has ${m}`);
  assert.deepEqual(body.errorMessages, errors);
  assert.equal(typeof body.reqProcessingTime, 'number');
}

async function createIncident(fields: { name: string; value: unknown }[]) {
  const r = await api('POST', '/api/workitems/create', { className: INCIDENT, fields });
  assert.equal(r.status, 200, r.text);
  return r.body;
}

describe('status, configuration and lookup routes', () => {
  test('GET /api/status answers Status/SM/AD in PascalCase with the shared base and the SMOC-Api-Version header', async () => {
    const r = await api('GET', '/api/status');
    assert.equal(r.status, 200);
    assert.ok(r.headers.get('smoc-api-version'));
    assert.match(r.headers.get('content-type') ?? '', /^application\/json/);
    assert.equal(r.body.Status, true);
    assert.equal(r.body.SM.Connected, true);
    assert.equal(typeof r.body.SM.Message, 'string');
    assert.equal(r.body.AD.Connected, true);
    assertBase(r.body);
  });

  test('GET /api/properties lists the class properties with EnumTypeId for enum-valued ones', async () => {
    const r = await api('GET', `/api/properties?targetClass=${INCIDENT}`);
    assert.equal(r.status, 200);
    const byName = new Map<string, any>(r.body.values.map((v: any) => [v.name, v]));
    for (const p of ['Id', 'Title', 'Urgency', 'Impact', 'Priority', 'Status', 'Source', 'TierQueue', 'Classification', 'LastModified'])
      assert.ok(byName.has(p), p);
    const urgency = byName.get('Urgency');
    assert.deepEqual(Object.keys(urgency).sort(), ['EnumTypeId', 'className', 'displayName', 'name', 'required', 'type']);
    assert.equal(urgency.type, 'enum');
    assert.match(urgency.EnumTypeId, /^[0-9a-f-]{36}$/);
    assert.equal(byName.get('Title').required, true);
    assert.equal(byName.get('Title').EnumTypeId, null);
    const unknown = await api('GET', '/api/properties?targetClass=System.WorkItem.Nope');
    assert.equal(unknown.status, 400);
    assert.deepEqual(unknown.body.errorMessages, ['Classname System.WorkItem.Nope not found in the system']);
  });

  test('GET /api/lookupvalues gives [{Key: guid, Value: label}] for every enum, by name or by EnumTypeId', async () => {
    const props = (await api('GET', `/api/properties?targetClass=${INCIDENT}`)).body.values;
    for (const p of props.filter((x: any) => x.type === 'enum')) {
      const r = await api('GET', `/api/lookupvalues?fieldName=${p.EnumTypeId}`);
      assert.equal(r.status, 200, p.name);
      assert.ok(r.body.values.length >= 3, p.name);
      for (const v of r.body.values) {
        assert.deepEqual(Object.keys(v), ['Key', 'Value']);
        assert.match(v.Key, /^[0-9a-f-]{36}$/);
      }
    }
    const status = await api('GET', '/api/lookupvalues?fieldName=IncidentStatusEnum');
    assert.deepEqual(
      status.body.values.map((v: any) => v.Value),
      ['Active', 'Pending', 'Resolved', 'Closed'],
    );
    const risk = await api('GET', '/api/lookupvalues?fieldName=ChangeRiskEnum');
    assert.deepEqual(
      risk.body.values.map((v: any) => v.Value),
      ['Low', 'Medium', 'High'],
    );
    const missing = await api('GET', '/api/lookupvalues');
    assert.equal(missing.status, 400);
    assert.equal(missing.body.Message, 'The request is invalid.');
    assert.ok(missing.body.ModelState);
  });

  test('templates: v1 gives {Key, Value: name}; v2 gives {Key, Value: {name, emptyRequiredProperties}}', async () => {
    const v1 = await api('GET', `/api/templates?targetClass=${INCIDENT}`);
    assert.equal(v1.status, 200);
    const names = v1.body.values.map((v: any) => v.Value);
    assert.ok(names.includes('Default Incident Template') && names.includes('Printer problem (class template)'));
    assert.equal(v1.body.values.find((v: any) => v.Value === 'Network outage').Key, templateId('Network outage'));
    const v2 = await api('GET', `/api/v2/templates?targetClass=${INCIDENT}`);
    const outage = v2.body.values.find((v: any) => v.Value.name === 'Network outage');
    assert.deepEqual(
      outage.Value.emptyRequiredProperties.map((p: any) => p.name),
      ['Title'],
    );
    const alert = v2.body.values.find((v: any) => v.Value.name === 'Azure Monitor alert');
    assert.deepEqual(alert.Value.emptyRequiredProperties.map((p: any) => p.name).sort(), ['Impact', 'Title', 'Urgency']);
    const changes = await api('GET', `/api/v2/templates?targetClass=${CHANGE}`);
    assert.ok(changes.body.values.some((v: any) => v.Value.name === 'Standard Change Request'));
  });
});

describe('POST /api/workitems and the page cache', () => {
  test('a query pages through the server-side cache with next links until the last page', async () => {
    const first = await api('POST', '/api/workitems', { className: INCIDENT, pageSize: 70 });
    assert.equal(first.status, 200);
    assert.deepEqual(Object.keys(first.body).slice(0, 4), ['businessObjects', 'totalRows', 'totalRowsInResponse', 'next']);
    assertBase(first.body);
    assert.equal(first.body.totalRows, 300);
    assert.equal(first.body.totalRowsInResponse, 70);
    assert.match(first.body.next, /^\/api\/workitems\/next\/[^/]+\/2\/70$/);
    const seen = new Set<string>(first.body.businessObjects.map((b: any) => b.bmeId));
    let next = first.body.next;
    let pages = 1;
    while (next) {
      const r = await api('GET', next);
      assert.equal(r.status, 200);
      assert.equal(r.body.totalRows, 300);
      for (const b of r.body.businessObjects) seen.add(b.bmeId);
      next = r.body.next;
      pages++;
    }
    assert.equal(pages, 5);
    assert.equal(seen.size, 300);
  });

  test('work items carry bmeId, "IR<n> - Title" displayName and Fields with enum GUID values and display names', async () => {
    const r = await api('POST', '/api/workitems', { className: INCIDENT, pageSize: 1 });
    const item = r.body.businessObjects[0];
    assert.deepEqual(Object.keys(item), ['bmeId', 'displayName', 'fields']);
    const id = fieldOf(item, 'Id').value as string;
    assert.match(id, /^IR\d+$/);
    assert.equal(item.displayName, `${id} - ${fieldOf(item, 'Title').value}`);
    for (const f of item.fields) assert.deepEqual(Object.keys(f), ['fieldId', 'name', 'value', 'valueDisplayName', 'dirty']);
    const urgency = fieldOf(item, 'Urgency');
    assert.match(urgency.value as string, /^[0-9a-f-]{36}$/);
    assert.ok(['High', 'Medium', 'Low'].includes(urgency.valueDisplayName as string));
    assert.equal(typeof fieldOf(item, 'Priority').value, 'number');
    assert.match(fieldOf(item, 'CreatedDate').value as string, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/);
  });

  test('criteria: LastModified GreaterEqual, Or groups inside And, Property paths, sorting both ways', async () => {
    const since = '2026-06-01T00:00:00Z';
    const all = await api('POST', '/api/workitems', { className: INCIDENT, pageSize: 2000 });
    const expected = all.body.businessObjects.filter(
      (b: any) =>
        Date.parse(fieldOf(b, 'LastModified').value as string) >= Date.parse(since) &&
        ['Active', 'Pending'].includes(fieldOf(b, 'Status').valueDisplayName as string),
    );
    assert.ok(expected.length > 0);
    const xml = criteria(
      and(
        simple('LastModified', 'GreaterEqual', since),
        or(simple('Status', 'Equal', 'IncidentStatusEnum.Active', false), simple('Status', 'Equal', 'IncidentStatusEnum.Active.Pending', false)),
      ),
    );
    const asc = await api('POST', '/api/workitems', { className: INCIDENT, criteriaXML: xml, sorted: true, sortOrder: 'asc', pageSize: 2000 });
    assert.equal(asc.status, 200, asc.text);
    assert.equal(asc.body.totalRows, expected.length);
    const mods = asc.body.businessObjects.map((b: any) => fieldOf(b, 'LastModified').value as string);
    assert.deepEqual(mods, [...mods].sort());
    const desc = await api('POST', '/api/workitems', { className: INCIDENT, criteriaXML: xml, sorted: true, sortOrder: 'desc', pageSize: 2000 });
    assert.deepEqual(
      desc.body.businessObjects.map((b: any) => b.bmeId),
      asc.body.businessObjects.map((b: any) => b.bmeId).reverse(),
    );
    assert.equal(asc.body.next, null);
  });

  test('showFields limits the fields of listed work items', async () => {
    const r = await api('POST', '/api/workitems', { className: CHANGE, pageSize: 3, showFields: ['Id', 'Status', 'Risk'] });
    assert.equal(r.status, 200);
    for (const b of r.body.businessObjects)
      assert.deepEqual(
        b.fields.map((f: any) => f.name),
        ['Id', 'Status', 'Risk'],
      );
    assert.match(fieldOf(r.body.businessObjects[0], 'Id').value as string, /^CR\d+$/);
  });

  test('an expired or unknown cache key answers "Cache doesn\'t contain this token, or has expired"', async () => {
    const first = await api('POST', '/api/workitems', { className: INCIDENT, pageSize: 100 });
    const expire = await call(sb, 'POST', '/api/x_sandbox/cache/expire', { auth: ADMIN });
    assert.equal(expire.status, 200);
    const r = await api('GET', first.body.next);
    assert.equal(r.status, 400);
    assert.deepEqual(r.body.errorMessages, ["Cache doesn't contain this token, or has expired"]);
    const unknown = await api('GET', '/api/workitems/next/nope/2/10');
    assert.deepEqual(unknown.body.errorMessages, ["Cache doesn't contain this token, or has expired"]);
  });

  test('bad requests: missing className is a ModelState 400, bad criteria and unknown classes are errorMessages 400s, non-JSON is 415', async () => {
    const missing = await api('POST', '/api/workitems', { pageSize: 1 });
    assert.equal(missing.status, 400);
    assert.deepEqual(missing.body, { Message: 'The request is invalid.', ModelState: { 'request.className': ['The className field is required.'] } });
    const broken = await api('POST', '/api/workitems', { className: INCIDENT, criteriaXML: '<Criteria><Expression>' });
    assert.equal(broken.status, 400);
    assert.match(broken.body.errorMessages[0], /criteriaXML is not well-formed XML/);
    const badProp = await api('POST', '/api/workitems', { className: INCIDENT, criteriaXML: criteria(simple('Colour', 'Equal', 'red')) });
    assert.deepEqual(badProp.body.errorMessages, ['The property Colour is not valid for class System.WorkItem.Incident']);
    const badDate = await api('POST', '/api/workitems', { className: INCIDENT, criteriaXML: criteria(simple('LastModified', 'GreaterEqual', 'yesterday')) });
    assert.match(badDate.body.errorMessages[0], /not a date\/time value/);
    const cls = await api('POST', '/api/workitems', { className: 'System.WorkItem.Nope' });
    assert.deepEqual(cls.body.errorMessages, ['Classname System.WorkItem.Nope not found in the system']);
    const text = await call(sb, 'POST', '/api/workitems', { token: tok, raw: 'className=x', headers: { 'Content-Type': 'text/plain' } });
    assert.equal(text.status, 415);
    assert.equal(text.body.Message, 'An error has occurred.');
    assert.equal(text.body.ExceptionType, 'System.Net.Http.UnsupportedMediaTypeException');
    assert.ok('ExceptionMessage' in text.body && 'StackTrace' in text.body);
  });
});

describe('creating and updating incidents', () => {
  test('create with a template, fields and notes: IR id, priority from the matrix, notes as an SM-OMS action-log comment', async () => {
    const created = await createIncident([
      { name: 'templateId', value: templateId('Azure Monitor alert') },
      { name: 'Title', value: 'CPU high on web-fin001' },
      { name: 'Description', value: 'Alert fired' },
      { name: 'Urgency', value: 'High' },
      { name: 'Impact', value: 'System.WorkItem.TroubleTicket.ImpactEnum.Medium' },
      { name: 'notes', value: 'Alert CPU > 90% fired' },
    ]);
    assertBase(created);
    assert.match(fieldOf(created, 'Id').value as string, /^IR\d+$/);
    assert.equal(fieldOf(created, 'Status').valueDisplayName, 'Active');
    assert.equal(fieldOf(created, 'Source').valueDisplayName, 'Operations Manager');
    assert.equal(fieldOf(created, 'TierQueue').valueDisplayName, 'Tier 2');
    assert.equal(fieldOf(created, 'Priority').value, 4);
    const log = fieldOf(created, 'ActionLog').value as any[];
    assert.equal(log.length, 1);
    assert.equal(log[0].Comment, 'Alert CPU > 90% fired');
    assert.equal(log[0].EnteredBy, 'SM-OMS');
    const again = await api('POST', `/api/workitems/${created.bmeId}`, {});
    assert.equal(again.status, 200);
    assert.equal(fieldOf(again.body, 'Title').value, 'CPU high on web-fin001');
  });

  test("a template on the class instead of the projection is refused with the ITSMC guide's hint; a bad templateId is not a GUID", async () => {
    const r = await api('POST', '/api/workitems/create', {
      className: INCIDENT,
      fields: [
        { name: 'templateId', value: templateId('Printer problem (class template)') },
        { name: 'Title', value: 'x' },
      ],
    });
    assert.equal(r.status, 400);
    assert.match(
      r.body.errorMessages[0],
      /'ProjectionType' in the SCSM template should be mapped to 'IncidentManagement!System\.WorkItem\.Incident\.ProjectionType'/,
    );
    const bad = await api('POST', '/api/workitems/create', {
      className: INCIDENT,
      fields: [
        { name: 'templateId', value: 'abc' },
        { name: 'Title', value: 'x' },
      ],
    });
    assert.deepEqual(bad.body.errorMessages, ['Template Discovery ID is not a correct GUID']);
  });

  test('create refuses a missing Title, unknown properties, bad enum values and read-only fields, naming the field', async () => {
    const cases: [unknown[], RegExp][] = [
      [[{ name: 'Description', value: 'x' }], /Title is a required property/],
      [
        [
          { name: 'Title', value: 'x' },
          { name: 'Colour', value: 'red' },
        ],
        /property 'Colour' not found on class System\.WorkItem\.Incident/,
      ],
      [
        [
          { name: 'Title', value: 'x' },
          { name: 'Urgency', value: 'Extreme' },
        ],
        /'Extreme' is not a value of Urgency/,
      ],
      [
        [
          { name: 'Title', value: 'x' },
          { name: 'Id', value: 'IR1' },
        ],
        /Id is set by Service Manager/,
      ],
      [[{ name: 'Title', value: 'x'.repeat(201) }], /maximum length is 200/],
    ];
    for (const [fields, message] of cases) {
      const r = await api('POST', '/api/workitems/create', { className: INCIDENT, fields });
      assert.equal(r.status, 400, JSON.stringify(fields));
      assert.match(r.body.errorMessages[0], message);
    }
  });

  test('affected CIs: getci by PrincipalName, create a computer, attach at create and with attach_ci, read back with /api/affectedci', async () => {
    const missing = await api('GET', '/api/affectedci/getci?name=newbox.contoso.local');
    assert.equal(missing.status, 200);
    assert.equal(missing.body.ciName, null);
    const ci = await api('POST', '/api/affectedci/create', {
      className: 'Microsoft.Windows.Computer',
      fields: [{ name: 'PrincipalName', value: 'newbox.contoso.local' }],
    });
    assert.equal(ci.status, 200, ci.text);
    assert.equal(fieldOf(ci.body, 'PrincipalName').value, 'newbox.contoso.local');
    const found = await api('GET', '/api/affectedci/getci?name=NEWBOX.contoso.local');
    assert.equal(found.body.ciName, 'newbox.contoso.local');
    const ir = await createIncident([
      { name: 'Title', value: 'With CI' },
      { name: 'affectedci', value: 'newbox.contoso.local' },
    ]);
    const cis = await api('POST', '/api/affectedci', { incidentIds: [fieldOf(ir, 'Id').value], WIType: INCIDENT });
    assert.deepEqual(cis.body.values, [{ Key: fieldOf(ir, 'Id').value, Value: 'newbox.contoso.local' }]);
    const other = (await api('POST', '/api/workitems', { className: 'Microsoft.Windows.Computer', pageSize: 1 })).body.businessObjects[0];
    const attach = await api('POST', '/api/workitems/attach_ci', { bmeId: ir.bmeId, affectedci: fieldOf(other, 'PrincipalName').value });
    assert.equal(attach.status, 200, attach.text);
    const both = await api('POST', '/api/affectedci', { incidentIds: [ir.bmeId], WIType: INCIDENT });
    assert.equal(both.body.values.length, 2);
    const nope = await api('POST', '/api/workitems/attach_ci', { bmeId: ir.bmeId, affectedci: 'ghost.contoso.local' });
    assert.equal(nope.status, 400);
    assert.deepEqual(nope.body.errorMessages, ["Unable to add affected CI or it doesn't exist in system"]);
    const warn = await createIncident([
      { name: 'Title', value: 'Ghost CI' },
      { name: 'affectedci', value: 'ghost.contoso.local' },
    ]);
    assert.match(warn.errorMessages[0], /Unable to add affected CI or it doesn't exist in system/);
    const dup = await api('POST', '/api/affectedci/create', {
      className: 'Microsoft.Windows.Computer',
      fields: [{ name: 'PrincipalName', value: 'newbox.contoso.local' }],
    });
    assert.equal(dup.status, 400);
    const model = await api('POST', '/api/workitems/attach_ci', { bmeId: ir.bmeId });
    assert.deepEqual(model.body.ModelState, { 'request.affectedci': ['The affectedci field is required.'] });
  });

  test('PATCH updates fields, adds a comment, resolves (resolution category required), reopens and closes with stamped dates', async () => {
    const ir = await createIncident([{ name: 'Title', value: 'Lifecycle' }]);
    const patch = (fields: unknown[]) => api('PATCH', `/api/workitems/${ir.bmeId}`, { className: INCIDENT, fields });
    const upd = await patch([
      { name: 'Impact', value: 'High' },
      { name: 'notes', value: 'Fired again' },
    ]);
    assert.equal(upd.status, 200, upd.text);
    assert.equal(fieldOf(upd.body, 'Priority').value, 3);
    assert.equal((fieldOf(upd.body, 'ActionLog').value as any[]).length, 1);
    // Compared as instants: a stamp on a whole second is written without a fraction, so text order is not time order.
    assert.ok(Date.parse(fieldOf(upd.body, 'LastModified').value as string) >= Date.parse(fieldOf(ir, 'LastModified').value as string));
    const noCategory = await patch([{ name: 'Status', value: 'IncidentStatusEnum.Resolved' }]);
    assert.equal(noCategory.status, 400);
    assert.match(noCategory.body.errorMessages[0], /ResolutionCategory is required/);
    const resolved = await patch([
      { name: 'Status', value: 'Resolved' },
      { name: 'ResolutionCategory', value: 'IncidentResolutionCategoryEnum.FixedByAnalyst' },
      { name: 'ResolutionDescription', value: 'Alert resolved' },
    ]);
    assert.equal(fieldOf(resolved.body, 'Status').valueDisplayName, 'Resolved');
    assert.notEqual(fieldOf(resolved.body, 'ResolvedDate').value, null);
    const reopened = await patch([{ name: 'Status', value: 'Active' }]);
    assert.equal(fieldOf(reopened.body, 'ResolvedDate').value, null);
    const closed = await patch([{ name: 'Status', value: 'Closed' }]);
    assert.notEqual(fieldOf(closed.body, 'ClosedDate').value, null);
    assert.notEqual(fieldOf(closed.body, 'ResolvedDate').value, null);
  });

  test('single-item routes: an invalid GUID is "busObjId is invalid Guid", an unknown one is 404, a class mismatch is refused', async () => {
    const bad = await api('POST', '/api/workitems/not-a-guid', {});
    assert.equal(bad.status, 400);
    assert.deepEqual(bad.body.errorMessages, ['busObjId is invalid Guid']);
    const missing = await api('POST', '/api/workitems/00000000-0000-4000-8000-000000000000', {});
    assert.equal(missing.status, 404);
    const ir = await createIncident([{ name: 'Title', value: 'Mismatch' }]);
    const wrong = await api('PATCH', `/api/workitems/${ir.bmeId}`, { className: CHANGE, fields: [] });
    assert.equal(wrong.status, 400);
    const noClass = await api('PATCH', `/api/workitems/${ir.bmeId}`, { fields: [] });
    assert.deepEqual(noClass.body.ModelState, { 'request.className': ['The className field is required.'] });
  });

  test('work item numbers come from one counter shared by incidents and change requests', async () => {
    const a = await createIncident([{ name: 'Title', value: 'first' }]);
    const cr = await api('POST', '/api/workitems/create', { className: CHANGE, fields: [{ name: 'Title', value: 'a change' }] });
    const b = await createIncident([{ name: 'Title', value: 'second' }]);
    const n = (v: unknown) => Number(String(v).slice(2));
    assert.equal(n(fieldOf(cr.body, 'Id').value), n(fieldOf(a, 'Id').value) + 1);
    assert.equal(n(fieldOf(b, 'Id').value), n(fieldOf(a, 'Id').value) + 2);
    assert.match(fieldOf(cr.body, 'Id').value as string, /^CR\d+$/);
  });
});
