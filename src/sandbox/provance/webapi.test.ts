import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { NAMES } from '../../partners/provance/mapping.ts';
import type { ProvanceSandbox } from './index.ts';
import { startProvanceSandbox } from './index.ts';
import { accessToken, adminCall, api, FORMATTED, SMALL, startSmall } from './test-support.ts';

const I = NAMES.incident;
const ANNOTATIONS = { Prefer: 'odata.include-annotations="OData.Community.Display.V1.FormattedValue"' };

describe('Provance sandbox: Dataverse Web API', () => {
  let sb: ProvanceSandbox;
  let token: string;
  before(async () => {
    sb = await startSmall();
    token = await accessToken(sb);
  });
  after(() => sb.close());

  const get = (path: string, headers: Record<string, string> = {}) => api(sb, token, 'GET', path, { headers });

  test('a collection answers @odata.context and value, with OData-Version 4.0', async () => {
    const r = await get('incidents?$select=title,statecode&$top=3');
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('odata-version'), '4.0');
    assert.match(r.headers.get('content-type') ?? '', /^application\/json/);
    assert.equal(r.body['@odata.context'], `${sb.apiUrl}/$metadata#incidents(title,statecode,incidentid)`);
    assert.equal(r.body.value.length, 3);
    assert.deepEqual(Object.keys(r.body.value[0]).sort(), ['@odata.etag', 'incidentid', 'statecode', 'title']);
    assert.match(r.body.value[0]['@odata.etag'], /^W\/"\d+"$/);
    assert.equal(r.body['@odata.nextLink'], undefined, '$top never pages');
  });

  test('Prefer odata.maxpagesize pages with @odata.nextLink until every row was returned exactly once', async () => {
    const seen = new Set<string>();
    let url: string | undefined = 'incidents?$select=incidentid&$orderby=modifiedon desc';
    let pages = 0;
    while (url) {
      const r = await get(url, { Prefer: 'odata.maxpagesize=70' });
      assert.equal(r.status, 200);
      assert.equal(r.headers.get('preference-applied'), 'odata.maxpagesize=70');
      for (const row of r.body.value) {
        assert.ok(!seen.has(row.incidentid), 'no row twice');
        seen.add(row.incidentid);
      }
      url = r.body['@odata.nextLink'];
      if (url) assert.match(url, /\$skiptoken=%3Ccookie%20pagenumber%3D%22\d+%22/);
      pages++;
    }
    assert.equal(seen.size, SMALL.incidents);
    assert.equal(pages, Math.ceil(SMALL.incidents / 70));
  });

  test('$count=true adds @odata.count; /$count answers a plain number', async () => {
    const r = await get('incidents?$select=incidentid&$filter=statecode eq 0&$count=true', { Prefer: 'odata.maxpagesize=1' });
    const n = r.body['@odata.count'];
    assert.ok(n > 0 && n < SMALL.incidents);
    const plain = await get('incidents/$count');
    assert.equal(plain.text, String(SMALL.incidents));
  });

  test('$filter supports eq ne gt ge lt le, and/or/not, parentheses, contains, startswith, endswith and null', async () => {
    const all = (await get('incidents?$select=incidentid,statecode,prioritycode,title,modifiedon,_prov_configurationitemid_value')).body.value as any[];
    const count = async (f: string) => (await get(`incidents?$select=incidentid&$filter=${encodeURIComponent(f)}`)).body.value.length;
    const mid = all.map((r) => r.modifiedon).sort()[150];
    const expect: [string, number][] = [
      ['statecode eq 1', all.filter((r) => r.statecode === 1).length],
      ['statecode ne 1', all.filter((r) => r.statecode !== 1).length],
      [`modifiedon gt ${mid}`, all.filter((r) => r.modifiedon > mid).length],
      [`modifiedon ge ${mid}`, all.filter((r) => r.modifiedon >= mid).length],
      [`modifiedon lt ${mid}`, all.filter((r) => r.modifiedon < mid).length],
      [`modifiedon le ${mid}`, all.filter((r) => r.modifiedon <= mid).length],
      ['statecode eq 0 and (prioritycode eq 1 or prioritycode eq 3)', all.filter((r) => r.statecode === 0 && r.prioritycode !== 2).length],
      ['not (statecode eq 0)', all.filter((r) => r.statecode !== 0).length],
      ["contains(title,'CPU')", all.filter((r) => r.title.includes('CPU')).length],
      ["startswith(title,'Disk')", all.filter((r) => r.title.startsWith('Disk')).length],
      ["endswith(title,'request')", all.filter((r) => r.title.endsWith('request')).length],
      ['_prov_configurationitemid_value eq null', all.filter((r) => r._prov_configurationitemid_value === null).length],
    ];
    for (const [f, n] of expect) assert.equal(await count(f), n, f);
    assert.ok(expect.every(([, n]) => n < SMALL.incidents));
  });

  test('$orderby sorts, descending too', async () => {
    const r = await get('incidents?$select=ticketnumber&$orderby=ticketnumber desc&$top=5');
    const numbers = r.body.value.map((x: any) => x.ticketnumber);
    assert.deepEqual(numbers, [...numbers].sort().reverse());
  });

  test('bad queries answer 400 with the OData error body {"error":{"code","message"}}', async () => {
    const cases: [string, RegExp][] = [
      ['incidents?$select=nosuchfield', /Could not find a property named 'nosuchfield' on type 'Microsoft.Dynamics.CRM.incident'/],
      ['incidents?$filter=statecode eq', /Syntax error/],
      ["incidents?$filter=statecode eq 'x'", /incompatible types/],
      ['incidents?$skip=10', /Skip Clause is not supported in CRM/],
      ['incidents?$top=-1', /\$top/],
    ];
    for (const [path, message] of cases) {
      const r = await get(path);
      assert.equal(r.status, 400, path);
      assert.deepEqual(Object.keys(r.body.error).sort(), ['code', 'message']);
      assert.match(r.body.error.message, message);
    }
    const unknownSet = await get('Incident');
    assert.equal(unknownSet.status, 404);
    assert.equal(unknownSet.body.error.code, '0x8006088a');
  });

  test('Prefer odata.include-annotations returns option labels, lookup names and dates as formatted values', async () => {
    const r = await get(`incidents?$select=statecode,prioritycode,isescalated,createdon,_ownerid_value&$top=1`, ANNOTATIONS);
    assert.equal(r.headers.get('preference-applied'), 'odata.include-annotations="OData.Community.Display.V1.FormattedValue"');
    const row = r.body.value[0];
    assert.ok(['Active', 'Resolved', 'Canceled'].includes(row[`statecode${FORMATTED}`]));
    assert.ok(['High', 'Normal', 'Low'].includes(row[`prioritycode${FORMATTED}`]));
    assert.ok(['Yes', 'No'].includes(row[`isescalated${FORMATTED}`]));
    assert.match(row[`createdon${FORMATTED}`], /^\d{1,2}\/\d{1,2}\/\d{4} \d{1,2}:\d{2} [AP]M$/);
    assert.match(row[`_ownerid_value${FORMATTED}`], /^\S+ \S+$/);
    const plain = (await get(`incidents?$select=statecode&$top=1`)).body.value[0];
    assert.equal(plain[`statecode${FORMATTED}`], undefined, 'no annotations unless asked');
  });

  test('POST creates: 204 + OData-EntityId, or 201 with the record under Prefer return=representation', async () => {
    const r = await api(sb, token, 'POST', 'incidents', { body: { title: 'Created by test', description: 'x', prioritycode: 1 } });
    assert.equal(r.status, 204);
    const entityId = r.headers.get('odata-entityid') ?? '';
    assert.match(entityId, new RegExp(`^${sb.apiUrl.replace(/[.]/g, '\\.')}/incidents\\([0-9a-f-]{36}\\)$`));
    const again = await get(entityId, ANNOTATIONS);
    assert.equal(again.body.title, 'Created by test');
    assert.equal(again.body.statecode, 0);
    assert.equal(again.body.statuscode, 1);
    assert.match(again.body.ticketnumber, /^CAS-\d{5}-[A-Z0-9]{6}$/);
    assert.equal(again.body[`_createdby_value${FORMATTED}`], 'ITSMC Integration');

    const rep = await api(sb, token, 'POST', 'incidents?$select=title,ticketnumber', {
      body: { title: 'With representation' },
      headers: { Prefer: 'return=representation' },
    });
    assert.equal(rep.status, 201);
    assert.equal(rep.headers.get('preference-applied'), 'return=representation');
    assert.equal(rep.body.title, 'With representation');
    assert.match(rep.body['@odata.context'], /\$metadata#incidents\(title,ticketnumber,incidentid\)\/\$entity$/);
  });

  test('invalid writes are refused with the property and the rule named', async () => {
    const cases: [unknown, number, RegExp][] = [
      [{ nosuch: 1 }, 400, /The property 'nosuch' does not exist on type 'Microsoft.Dynamics.CRM.incident'/],
      [{ prioritycode: 99 }, 400, /The value 99 of 'prioritycode' .* is outside the valid range/],
      [{ title: 'x'.repeat(201) }, 400, /length of the 'title' attribute .* maximum allowed length of '200'/],
      [{ title: 5 }, 400, /Cannot convert the literal '5'/],
      [{ [`${I.ciNav}@odata.bind`]: '/prov_configurationitems(00000000-0000-0000-0000-000000000001)' }, 404, /Does Not Exist/],
    ];
    for (const [body, status, message] of cases) {
      const r = await api(sb, token, 'POST', 'incidents', { body });
      assert.equal(r.status, status, JSON.stringify(body));
      assert.match(r.body.error.message, message);
    }
    const notJson = await fetch(`${sb.apiUrl}/incidents`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
      body: '{oops',
    });
    assert.equal(notJson.status, 400);
  });

  test('PATCH updates and moves modifiedon; a missing record is 404 0x80040217', async () => {
    const [row] = (await get('incidents?$select=incidentid,modifiedon&$filter=statecode eq 0&$orderby=modifiedon asc&$top=1')).body.value;
    const r = await api(sb, token, 'PATCH', `incidents(${row.incidentid})`, { body: { description: 'patched' } });
    assert.equal(r.status, 204);
    const after = (await get(`incidents(${row.incidentid})?$select=description,modifiedon`)).body;
    assert.equal(after.description, 'patched');
    assert.ok(after.modifiedon > row.modifiedon);
    const missing = await api(sb, token, 'PATCH', 'incidents(00000000-0000-0000-0000-00000000abcd)', { body: { title: 'x' }, headers: { 'If-Match': '*' } });
    assert.equal(missing.status, 404);
    assert.equal(missing.body.error.code, '0x80040217');
  });

  test('a case is resolved only through CloseIncident; reactivating it works through PATCH', async () => {
    const created = await api(sb, token, 'POST', 'incidents', { body: { title: 'to resolve' } });
    const id = /\(([^)]+)\)$/.exec(created.headers.get('odata-entityid')!)![1];
    const direct = await api(sb, token, 'PATCH', `incidents(${id})`, { body: { statecode: 1, statuscode: 5 } });
    assert.equal(direct.status, 400);
    assert.match(direct.body.error.message, /use the CloseIncidentRequest message instead/);
    const close = await api(sb, token, 'POST', 'CloseIncident', {
      body: { IncidentResolution: { subject: 'Fixed', description: 'done', 'incidentid@odata.bind': `/incidents(${id})` }, Status: 5 },
    });
    assert.equal(close.status, 204);
    const resolved = (await get(`incidents(${id})?$select=statecode,statuscode,prov_resolvedon`, ANNOTATIONS)).body;
    assert.deepEqual([resolved.statecode, resolved.statuscode, resolved[`statecode${FORMATTED}`]], [1, 5, 'Resolved']);
    assert.ok(resolved.prov_resolvedon);
    const edit = await api(sb, token, 'PATCH', `incidents(${id})`, { body: { title: 'changed while resolved' } });
    assert.equal(edit.status, 400);
    const twice = await api(sb, token, 'POST', 'CloseIncident', {
      body: { IncidentResolution: { subject: 'again', 'incidentid@odata.bind': `/incidents(${id})` }, Status: 5 },
    });
    assert.equal(twice.status, 400);
    const reopen = await api(sb, token, 'PATCH', `incidents(${id})`, { body: { statecode: 0, statuscode: 1 } });
    assert.equal(reopen.status, 204);
    const open = (await get(`incidents(${id})?$select=statecode,prov_resolvedon`)).body;
    assert.deepEqual([open.statecode, open.prov_resolvedon], [0, null]);
    const wrongStatus = await api(sb, token, 'PATCH', `incidents(${id})`, { body: { statuscode: 6 } });
    assert.equal(wrongStatus.status, 400);
  });

  test('CIs are bound through the single-valued navigation property and associated through the N:N one', async () => {
    const cis = (await get('prov_configurationitems?$select=prov_name&$top=3')).body.value;
    const created = await api(sb, token, 'POST', 'incidents?$select=incidentid', {
      body: { title: 'with CI', [`${I.ciNav}@odata.bind`]: `/prov_configurationitems(${cis[0].prov_configurationitemid})` },
      headers: { Prefer: 'return=representation' },
    });
    const id = created.body.incidentid;
    for (const ci of cis) {
      const r = await api(sb, token, 'POST', `incidents(${id})/${I.cisNav}/$ref`, {
        body: { '@odata.id': `${sb.apiUrl}/prov_configurationitems(${ci.prov_configurationitemid})` },
      });
      assert.equal(r.status, 204);
    }
    const dup = await api(sb, token, 'POST', `incidents(${id})/${I.cisNav}/$ref`, {
      body: { '@odata.id': `prov_configurationitems(${cis[0].prov_configurationitemid})` },
    });
    assert.equal(dup.status, 400);
    assert.equal(dup.body.error.code, '0x80040237');
    const related = await get(`incidents(${id})/${I.cisNav}?$select=prov_name`);
    assert.deepEqual(related.body.value.map((x: any) => x.prov_name).sort(), cis.map((x: any) => x.prov_name).sort());
    const rec = (await get(`incidents(${id})?$select=_prov_configurationitemid_value`, ANNOTATIONS)).body;
    assert.equal(rec[`_prov_configurationitemid_value${FORMATTED}`], cis[0].prov_name);
    const gone = await api(sb, token, 'DELETE', `incidents(${id})/${I.cisNav}(${cis[1].prov_configurationitemid})/$ref`);
    assert.equal(gone.status, 204);
    assert.equal((await get(`incidents(${id})/${I.cisNav}`)).body.value.length, 2);
  });

  test('$metadata is CSDL XML naming the entity types, sets, WhoAmI and CloseIncident', async () => {
    const r = await fetch(`${sb.apiUrl}/$metadata`);
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-type') ?? '', /^application\/xml/);
    const xml = await r.text();
    assert.match(xml, /<edmx:Edmx Version="4\.0"/);
    assert.match(xml, /<EntityType Name="incident" BaseType="mscrm\.crmbaseentity"><Key><PropertyRef Name="incidentid"\/><\/Key>/);
    assert.match(xml, /<EntitySet Name="prov_changerequests" EntityType="Microsoft\.Dynamics\.CRM\.prov_changerequest"\/>/);
    assert.match(xml, /<NavigationProperty Name="prov_incident_configurationitem" Type="Collection\(mscrm\.prov_configurationitem\)"/);
    assert.match(xml, /<Function Name="WhoAmI">/);
    assert.match(xml, /<Action Name="CloseIncident">/);
  });

  test('WhoAmI names the calling user; option sets are readable through EntityDefinitions', async () => {
    const who = await get('WhoAmI');
    assert.deepEqual(Object.keys(who.body).sort(), ['@odata.context', 'BusinessUnitId', 'OrganizationId', 'UserId']);
    const me = await get(`systemusers(${who.body.UserId})?$select=fullname`);
    assert.equal(me.body.fullname, 'ITSMC Integration');
    const picklists = await get(
      "EntityDefinitions(LogicalName='incident')/Attributes/Microsoft.Dynamics.CRM.PicklistAttributeMetadata?$select=LogicalName&$expand=OptionSet($select=Options)",
    );
    const priority = picklists.body.value.find((a: any) => a.LogicalName === 'prioritycode');
    assert.deepEqual(
      priority.OptionSet.Options.map((o: any) => [o.Value, o.Label.UserLocalizedLabel.Label]),
      [
        [1, 'High'],
        [2, 'Normal'],
        [3, 'Low'],
      ],
    );
  });

  test('service protection: over the request limit answers 429 with Retry-After and code 0x80072322', async () => {
    await adminCall(sb, 'PUT', 'service-protection', { maxRequests: 3, windowSec: 300 });
    try {
      for (let i = 0; i < 3; i++) assert.equal((await get('WhoAmI')).status, 200);
      const r = await get('WhoAmI');
      assert.equal(r.status, 429);
      assert.equal(r.body.error.code, '0x80072322');
      assert.equal(r.body.error.message, 'Number of requests exceeded the limit of 3 over time window of 300 seconds.');
      assert.ok(Number(r.headers.get('retry-after')) > 0);
    } finally {
      await adminCall(sb, 'POST', 'service-protection/reset');
    }
  });

  test('fault injection (common model): scripted 429 and 503 in the Dataverse error body, held requests, then normal again', async () => {
    await adminCall(sb, 'PUT', 'faults', { rateLimitNext: { count: 1, retryAfterSec: 7 }, failNext: 1 });
    const throttled = await get('WhoAmI');
    assert.deepEqual([throttled.status, throttled.headers.get('retry-after'), throttled.body.error.code], [429, '7', '0x80072322']);
    const failed = await get('WhoAmI');
    assert.deepEqual([failed.status, typeof failed.body.error.message], [503, 'string']);
    assert.equal((await get('WhoAmI')).status, 200);
    await adminCall(sb, 'PUT', 'faults', { timeoutRate: 1, timeoutMs: 50 });
    await assert.rejects(get('WhoAmI'));
    await adminCall(sb, 'POST', 'reset_faults');
    assert.equal((await get('WhoAmI')).status, 200);
    const bad = await adminCall(sb, 'PUT', 'faults', { errorRate: 7 });
    assert.equal(bad.status, 400);
    assert.equal((await adminCall(sb, 'GET', 'stats')).body.tokenGrants.password > 0, true);
  });

  test('change requests keep statecode in step with the Provance change state', async () => {
    const r = await api(sb, token, 'POST', 'prov_changerequests?$select=prov_name,statecode,prov_changestate', {
      body: { prov_title: 'Patch' },
      headers: { Prefer: 'return=representation' },
    });
    assert.equal(r.status, 201);
    assert.match(r.body.prov_name, /^CHG-\d{5}$/);
    assert.deepEqual([r.body.statecode, r.body.prov_changestate], [0, 100000000]);
    await api(sb, token, 'PATCH', `prov_changerequests(${r.body.prov_changerequestid})`, { body: { prov_changestate: 100000006 } });
    const closed = (await get(`prov_changerequests(${r.body.prov_changerequestid})?$select=statecode,statuscode,prov_closedon`)).body;
    assert.deepEqual([closed.statecode, closed.statuscode], [1, 2]);
    assert.ok(closed.prov_closedon);
  });
});

describe('Provance sandbox: seed', () => {
  test('the same seed and anchor time give the same data; another seed differs', async () => {
    const now = '2026-06-01T00:00:00Z';
    const read = async (seed: number) => {
      const sb = await startProvanceSandbox({ seed, now, volume: { incidents: 40, changeRequests: 10, cis: 10 } });
      try {
        const t = await accessToken(sb);
        const r = await api(sb, t, 'GET', 'incidents?$select=incidentid,ticketnumber,title,statecode,createdon,modifiedon&$orderby=ticketnumber');
        return r.body.value.map(({ ['@odata.etag']: _e, ...rest }: any) => rest);
      } finally {
        await sb.close();
      }
    };
    const a = await read(7);
    assert.deepEqual(await read(7), a);
    assert.notDeepEqual(await read(8), a);
    assert.ok(
      a.every((r: any) => r.createdon <= now && r.createdon >= '2026-02-01T00:00:00Z'),
      'within 120 days before the anchor',
    );
  });
});
