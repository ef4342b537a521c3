import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { ServiceNowSandbox } from './index.ts';
import { ADMIN, basic, call, INTEGRATION, q, SMALL, startSmall } from './test-support.ts';

const SYS_ID = /^[0-9a-f]{32}$/;
const DATE = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/;

let sb: ServiceNowSandbox;
before(async () => {
  sb = await startSmall();
});
after(async () => {
  await sb?.close();
});

function assertSnValue(key: string, v: unknown, base: string): void {
  if (typeof v === 'string') return;
  assert.ok(v && typeof v === 'object', `${key} must be a string or a reference object`);
  const ref = v as Record<string, unknown>;
  assert.deepEqual(Object.keys(ref).sort(), ['link', 'value'], `${key} reference keys`);
  assert.match(String(ref.value), /^([0-9a-f]{32}|global)$/);
  assert.match(String(ref.link), new RegExp(`^${base.replace(/[.]/g, '\\.')}/api/now/v2/table/[a-z_]+/${String(ref.value)}$`));
}

describe('Table API value encoding', () => {
  test('list answers {"result":[…]} with every value a string or a {link,value} reference, empties as ""', async () => {
    const r = await call(sb, 'GET', '/api/now/table/incident?sysparm_limit=20');
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-type') ?? '', /application\/json/);
    assert.ok(Array.isArray(r.body.result));
    assert.equal(r.body.result.length, 20);
    for (const rec of r.body.result) {
      for (const [k, v] of Object.entries(rec)) assertSnValue(k, v, sb.url);
      assert.match(rec.sys_id, SYS_ID);
      assert.match(rec.number, /^INC\d{7}$/);
      assert.match(rec.sys_created_on, DATE);
      assert.match(rec.sys_updated_on, DATE);
      assert.ok(rec.sys_updated_on >= rec.sys_created_on);
      assert.ok(['true', 'false'].includes(rec.active));
      assert.equal(rec.work_notes, '');
      assert.equal(rec.comments, '');
      assert.equal(rec.sys_class_name, 'incident');
      assert.match(rec.sys_mod_count, /^\d+$/);
      if (rec.resolved_at !== '') assert.match(rec.resolved_at, DATE);
    }
  });

  test('empty references are "" and never null', async () => {
    const r = await call(sb, 'GET', `/api/now/table/incident?sysparm_limit=50&sysparm_query=${q('cmdb_ciISEMPTY')}`);
    assert.ok(r.body.result.length > 0);
    for (const rec of r.body.result) {
      assert.equal(rec.cmdb_ci, '');
      for (const v of Object.values(rec)) assert.notEqual(v, null);
    }
  });

  test('sysparm_exclude_reference_link=true gives plain sys_id strings', async () => {
    const r = await call(sb, 'GET', `/api/now/table/incident?sysparm_limit=5&sysparm_exclude_reference_link=true`);
    for (const rec of r.body.result) {
      for (const v of Object.values(rec)) assert.equal(typeof v, 'string');
      assert.match(rec.opened_by, SYS_ID);
    }
  });

  test('sysparm_fields returns exactly those fields, including dot-walked ones', async () => {
    const r = await call(sb, 'GET', `/api/now/table/incident?sysparm_limit=3&sysparm_fields=number,state,caller_id.user_name,nonexistent`);
    for (const rec of r.body.result) {
      assert.deepEqual(Object.keys(rec), ['number', 'state', 'caller_id.user_name']);
      assert.match(rec['caller_id.user_name'], /^[a-z.]+$/);
    }
  });

  test('display_value=true gives choice labels and reference display names; all gives {display_value,value[,link]}', async () => {
    const query = `sysparm_limit=1&sysparm_query=${q('state=7^ORDERBYnumber')}&sysparm_fields=number,state,priority,caller_id,closed_at`;
    const raw = (await call(sb, 'GET', `/api/now/table/incident?${query}`)).body.result[0];
    const disp = (await call(sb, 'GET', `/api/now/table/incident?${query}&sysparm_display_value=true`)).body.result[0];
    const all = (await call(sb, 'GET', `/api/now/table/incident?${query}&sysparm_display_value=all`)).body.result[0];
    assert.equal(raw.state, '7');
    assert.equal(disp.state, 'Closed');
    assert.match(disp.priority, /^[1-5] - (Critical|High|Moderate|Low|Planning)$/);
    const caller = (await call(sb, 'GET', `/api/now/table/sys_user/${raw.caller_id.value}?sysparm_fields=name`)).body.result;
    assert.deepEqual(disp.caller_id, { display_value: caller.name, link: raw.caller_id.link });
    assert.deepEqual(all.state, { display_value: 'Closed', value: '7' });
    assert.deepEqual(all.caller_id, { display_value: caller.name, link: raw.caller_id.link, value: raw.caller_id.value });
    assert.deepEqual(all.closed_at, { display_value: raw.closed_at, value: raw.closed_at });
    const plain = (await call(sb, 'GET', `/api/now/table/incident?${query}&sysparm_display_value=true&sysparm_exclude_reference_link=true`)).body.result[0];
    assert.equal(plain.caller_id, caller.name);
  });
  test('list pages and single-record reads render identical values in every display mode', async () => {
    const one = (await call(sb, 'GET', `/api/now/table/incident?sysparm_limit=1&sysparm_query=${q('state=7^cmdb_ciISNOTEMPTY')}`)).body.result[0];
    const subset = 'sys_id,number,state,priority,active,caller_id,cmdb_ci,closed_at,sys_class_name,task_effective_number,short_description,sys_domain';
    for (const display of ['false', 'true', 'all']) {
      for (const exclude of ['false', 'true']) {
        for (const fields of [subset, '']) {
          const params = `sysparm_display_value=${display}&sysparm_exclude_reference_link=${exclude}${fields ? `&sysparm_fields=${fields}` : ''}`;
          const list = await call(sb, 'GET', `/api/now/table/incident?${params}&sysparm_query=${q(`sys_id=${one.sys_id}`)}`);
          const single = await call(sb, 'GET', `/api/now/table/incident/${one.sys_id}?${params}`);
          assert.deepEqual(list.body.result[0], single.body.result, params);
        }
      }
    }
    const all = (await call(sb, 'GET', `/api/now/table/incident/${one.sys_id}?sysparm_display_value=all&sysparm_fields=${subset}`)).body.result;
    assert.deepEqual(all.sys_class_name, { display_value: 'Incident', value: 'incident' });
    assert.deepEqual(all.active, { display_value: 'false', value: 'false' });
  });
});

describe('Table API paging headers', () => {
  test('X-Total-Count is the number of matches and Link carries absolute first/next/last, no prev on the first page', async () => {
    const r = await call(sb, 'GET', `/api/now/table/incident?sysparm_limit=100&sysparm_query=${q('ORDERBYnumber')}`);
    assert.equal(r.headers.get('x-total-count'), String(SMALL.incidents));
    const link = r.headers.get('link') ?? '';
    const rels = Object.fromEntries(
      link.split(',').map((p) => {
        const m = /^<([^>]+)>;rel="(\w+)"$/.exec(p);
        assert.ok(m, `bad Link part ${p}`);
        return [m[2], m[1]];
      }),
    );
    assert.deepEqual(Object.keys(rels).sort(), ['first', 'last', 'next']);
    assert.ok(rels.next.startsWith(`${sb.url}/api/now/table/incident?`));
    assert.equal(new URL(rels.first).searchParams.get('sysparm_offset'), '0');
    assert.equal(new URL(rels.next).searchParams.get('sysparm_offset'), '100');
    assert.equal(new URL(rels.last).searchParams.get('sysparm_offset'), '200');
    assert.equal(new URL(rels.next).searchParams.get('sysparm_query'), 'ORDERBYnumber');
    const page2 = await call(sb, 'GET', `/api/now/table/incident?sysparm_limit=100&sysparm_offset=100&sysparm_query=${q('ORDERBYnumber')}`);
    assert.match(page2.headers.get('link') ?? '', /sysparm_offset=0>;rel="prev"/);
    assert.equal(page2.body.result[0].number, 'INC0010101');
    const lastPage = await call(sb, 'GET', `/api/now/table/incident?sysparm_limit=100&sysparm_offset=200`);
    assert.doesNotMatch(lastPage.headers.get('link') ?? '', /rel="next"/);
  });

  test('Link is omitted when one page holds everything; sysparm_no_count drops X-Total-Count', async () => {
    const one = await call(sb, 'GET', `/api/now/table/incident?sysparm_limit=1000`);
    assert.equal(one.headers.get('link'), null);
    assert.equal(one.body.result.length, SMALL.incidents);
    const noCount = await call(sb, 'GET', `/api/now/table/incident?sysparm_limit=10&sysparm_no_count=true`);
    assert.equal(noCount.headers.get('x-total-count'), null);
    assert.equal(noCount.body.result.length, 10);
  });

  test('an empty match is 200 {"result":[]} with X-Total-Count 0', async () => {
    const r = await call(sb, 'GET', `/api/now/table/incident?sysparm_query=${q('number=INC9999999')}`);
    assert.equal(r.status, 200);
    assert.deepEqual(r.body, { result: [] });
    assert.equal(r.headers.get('x-total-count'), '0');
  });

  test('rules.maxLimit clamps sysparm_limit', async () => {
    await call(sb, 'PUT', '/api/x_sandbox/rules', { body: { maxLimit: 7 } });
    try {
      const r = await call(sb, 'GET', `/api/now/table/incident?sysparm_limit=100`);
      assert.equal(r.body.result.length, 7);
    } finally {
      await call(sb, 'PUT', '/api/x_sandbox/rules', { body: { maxLimit: 10000 } });
    }
  });
});

describe('Table API errors', () => {
  test('no credentials or a bad password → 401 "User Not Authenticated"', async () => {
    const expected = { error: { message: 'User Not Authenticated', detail: 'Required to provide Auth information' }, status: 'failure' };
    const none = await call(sb, 'GET', '/api/now/table/incident', { auth: null });
    assert.equal(none.status, 401);
    assert.deepEqual(none.body, expected);
    const bad = await call(sb, 'GET', '/api/now/table/incident', { auth: basic('admin', 'nope') });
    assert.equal(bad.status, 401);
    assert.deepEqual(bad.body, expected);
  });

  test('unknown sys_id → 404 "No Record found" on GET, PATCH and DELETE', async () => {
    const expected = { error: { message: 'No Record found', detail: "Record doesn't exist or ACL restricts the record retrieval" }, status: 'failure' };
    const id = 'f'.repeat(32);
    for (const method of ['GET', 'PATCH', 'DELETE']) {
      const r = await call(sb, method, `/api/now/table/incident/${id}`, method === 'PATCH' ? { body: { state: '2' } } : {});
      assert.equal(r.status, 404, method);
      assert.deepEqual(r.body, expected);
    }
  });

  test('unknown table → 400 "Invalid table"', async () => {
    const r = await call(sb, 'GET', '/api/now/table/sys_nonexistent');
    assert.equal(r.status, 400);
    assert.deepEqual(r.body, { error: { message: 'Invalid table sys_nonexistent', detail: 'Table sys_nonexistent does not exist' }, status: 'failure' });
  });

  test('malformed JSON → 400 with the error envelope', async () => {
    const r = await call(sb, 'POST', '/api/now/table/incident', { raw: '{"short_description": ', headers: { 'Content-Type': 'application/json' } });
    assert.equal(r.status, 400);
    assert.equal(r.body.status, 'failure');
    assert.equal(r.body.error.message, 'Exception while reading request');
  });

  test('unknown API path → 400 envelope', async () => {
    const r = await call(sb, 'GET', '/api/now/nothing_here');
    assert.equal(r.status, 400);
    assert.equal(r.body.status, 'failure');
  });
});

describe('Table API writes and incident business rules', () => {
  test('POST → 201 + absolute v2 Location, full record, defaults, next INC number, opened_by = caller of the API', async () => {
    const r = await call(sb, 'POST', '/api/now/table/incident', { body: { short_description: 'Printer on fire' } });
    assert.equal(r.status, 201);
    const rec = r.body.result;
    assert.equal(r.headers.get('location'), `${sb.url}/api/now/v2/table/incident/${rec.sys_id}`);
    assert.match(rec.sys_id, SYS_ID);
    assert.match(rec.number, /^INC\d{7}$/);
    assert.ok(Number(rec.number.slice(3)) > 10000 + SMALL.incidents);
    assert.equal(rec.state, '1');
    assert.equal(rec.incident_state, '1');
    assert.equal(rec.impact, '3');
    assert.equal(rec.urgency, '3');
    assert.equal(rec.priority, '5');
    assert.equal(rec.category, 'inquiry');
    assert.equal(rec.active, 'true');
    assert.equal(rec.sys_mod_count, '0');
    assert.equal(rec.sys_created_by, 'admin');
    assert.equal(rec.opened_by.value, '6816f79cc0a8016401c5a33be04be441');
    assert.match(rec.opened_at, DATE);
    assert.equal(rec.resolved_at, '');
    const got = await call(sb, 'GET', `/api/now/table/incident/${rec.sys_id}`);
    assert.equal(got.status, 200);
    assert.deepEqual(got.body.result, rec);
  });

  test('priority is computed from the impact × urgency matrix and overrides a priority sent in', async () => {
    const matrix: Record<string, string> = { '11': '1', '12': '2', '13': '3', '21': '2', '22': '3', '23': '4', '31': '3', '32': '4', '33': '5' };
    const created = await call(sb, 'POST', '/api/now/table/incident', { body: { short_description: 'matrix', priority: '1' } });
    assert.equal(created.body.result.priority, '5');
    for (const [iu, p] of Object.entries(matrix)) {
      const r = await call(sb, 'PATCH', `/api/now/table/incident/${created.body.result.sys_id}`, { body: { impact: iu[0], urgency: iu[1] } });
      assert.equal(r.body.result.priority, p, `impact ${iu[0]} urgency ${iu[1]}`);
    }
  });

  test('resolving needs close_code + close_notes (data policy) and stamps resolved_at/resolved_by; closing stamps closed_at/by and active=false', async () => {
    const id = (await call(sb, 'POST', '/api/now/table/incident', { body: { short_description: 'to resolve' } })).body.result.sys_id;
    const refused = await call(sb, 'PATCH', `/api/now/table/incident/${id}`, { body: { state: '6' } });
    assert.equal(refused.status, 403);
    assert.equal(refused.body.status, 'failure');
    assert.equal(refused.body.error.message, 'Operation Failed');
    assert.match(refused.body.error.detail, /Data Policy Exception.*Resolution code, Resolution notes/);
    const resolved = await call(sb, 'PATCH', `/api/now/table/incident/${id}`, {
      body: { state: '6', close_code: 'Solution provided', close_notes: 'rebooted' },
    });
    assert.equal(resolved.status, 200);
    const r = resolved.body.result;
    assert.equal(r.state, '6');
    assert.equal(r.incident_state, '6');
    assert.match(r.resolved_at, DATE);
    assert.equal(r.resolved_by.value, '6816f79cc0a8016401c5a33be04be441');
    assert.equal(r.closed_at, '');
    assert.equal(r.active, 'true');
    assert.equal(r.sys_mod_count, '1');
    const closed = (await call(sb, 'PATCH', `/api/now/table/incident/${id}`, { body: { state: '7' } })).body.result;
    assert.equal(closed.state, '7');
    assert.match(closed.closed_at, DATE);
    assert.equal(closed.closed_by.value, '6816f79cc0a8016401c5a33be04be441');
    assert.equal(closed.active, 'false');
    assert.equal(closed.resolved_at, r.resolved_at);
    const reopened = (await call(sb, 'PATCH', `/api/now/table/incident/${id}`, { body: { state: '2' } })).body.result;
    assert.equal(reopened.reopen_count, '1');
    assert.equal(reopened.resolved_at, '');
    assert.equal(reopened.closed_at, '');
    assert.equal(reopened.active, 'true');
  });

  test('the close-code data policy can be switched off; On Hold requires hold_reason', async () => {
    const id = (await call(sb, 'POST', '/api/now/table/incident', { body: { short_description: 'switch' } })).body.result.sys_id;
    const hold = await call(sb, 'PATCH', `/api/now/table/incident/${id}`, { body: { state: '3' } });
    assert.equal(hold.status, 403);
    assert.match(hold.body.error.detail, /On hold reason/);
    assert.equal((await call(sb, 'PATCH', `/api/now/table/incident/${id}`, { body: { state: '3', hold_reason: '1' } })).status, 200);
    await call(sb, 'PUT', '/api/x_sandbox/rules', { body: { closeCodeRequiredOnResolve: false } });
    try {
      const r = await call(sb, 'PATCH', `/api/now/table/incident/${id}`, { body: { state: '6' } });
      assert.equal(r.status, 200);
      assert.equal(r.body.result.hold_reason, '');
    } finally {
      await call(sb, 'PUT', '/api/x_sandbox/rules', { body: { closeCodeRequiredOnResolve: true } });
    }
  });

  test('comments and work_notes read back "" and are appended to sys_journal_field', async () => {
    const created = await call(sb, 'POST', '/api/now/table/incident', { body: { short_description: 'journal', work_notes: 'first note' } });
    const id = created.body.result.sys_id;
    assert.equal(created.body.result.work_notes, '');
    const upd = await call(sb, 'PATCH', `/api/now/table/incident/${id}`, { body: { comments: 'hello caller', work_notes: 'second note' } });
    assert.equal(upd.body.result.comments, '');
    assert.equal(upd.body.result.work_notes, '');
    assert.equal(upd.body.result.sys_mod_count, '1');
    const j = await call(sb, 'GET', `/api/now/table/sys_journal_field?sysparm_query=${q(`element_id=${id}^ORDERBYvalue`)}`);
    assert.equal(j.status, 200);
    assert.deepEqual(
      j.body.result.map((e: Record<string, string>) => [e.name, e.element, e.value, e.sys_created_by]),
      [
        ['incident', 'work_notes', 'first note', 'admin'],
        ['incident', 'comments', 'hello caller', 'admin'],
        ['incident', 'work_notes', 'second note', 'admin'],
      ],
    );
    for (const e of j.body.result) assert.match(e.sys_created_on, DATE);
    const disp = await call(sb, 'GET', `/api/now/table/incident/${id}?sysparm_display_value=true&sysparm_fields=work_notes,comments`);
    assert.match(disp.body.result.work_notes, /System Administrator \(Work notes\)\nsecond note/);
    assert.match(disp.body.result.comments, /\(Additional comments\)\nhello caller/);
  });

  test('PUT updates only the fields sent (like PATCH); DELETE → 204 then 404', async () => {
    const id = (await call(sb, 'POST', '/api/now/table/incident', { body: { short_description: 'put me', description: 'keep' } })).body.result.sys_id;
    const put = await call(sb, 'PUT', `/api/now/table/incident/${id}`, { body: { short_description: 'was put' } });
    assert.equal(put.status, 200);
    assert.equal(put.body.result.short_description, 'was put');
    assert.equal(put.body.result.description, 'keep');
    const del = await call(sb, 'DELETE', `/api/now/table/incident/${id}`);
    assert.equal(del.status, 204);
    assert.equal(del.text, '');
    assert.equal((await call(sb, 'GET', `/api/now/table/incident/${id}`)).status, 404);
  });

  test('a POST with several records creates only the first', async () => {
    const before = Number((await call(sb, 'GET', '/api/now/table/incident?sysparm_limit=1')).headers.get('x-total-count'));
    const r = await call(sb, 'POST', '/api/now/table/incident', { body: [{ short_description: 'one' }, { short_description: 'two' }] });
    assert.equal(r.status, 201);
    assert.equal(r.body.result.short_description, 'one');
    const afterCount = Number((await call(sb, 'GET', '/api/now/table/incident?sysparm_limit=1')).headers.get('x-total-count'));
    assert.equal(afterCount, before + 1);
  });

  test('sysparm_input_display_value=true resolves references by display name and choices by label', async () => {
    const user = (await call(sb, 'GET', `/api/now/table/sys_user?sysparm_query=${q('user_name=itsmc.integration')}`)).body.result[0];
    const r = await call(sb, 'POST', '/api/now/table/incident?sysparm_input_display_value=true', {
      body: { short_description: 'by display', caller_id: 'ITSMC Integration', impact: '1 - High', urgency: '1 - High', category: 'Network' },
    });
    assert.equal(r.status, 201);
    assert.equal(r.body.result.caller_id.value, user.sys_id);
    assert.equal(r.body.result.impact, '1');
    assert.equal(r.body.result.priority, '1');
    assert.equal(r.body.result.category, 'network');
  });

  test('/api/now/v2/table works like the unversioned path', async () => {
    const r = await call(sb, 'GET', '/api/now/v2/table/change_request?sysparm_limit=2');
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('x-total-count'), String(SMALL.changeRequests));
    for (const c of r.body.result) {
      assert.match(c.number, /^CHG\d{7}$/);
      assert.ok(['-5', '-4', '-3', '-2', '-1', '0', '3', '4'].includes(c.state));
      assert.ok(['normal', 'standard', 'emergency'].includes(c.type));
    }
  });

  test('change_request: Implement stamps work_start, Closed stamps closed_at and active=false', async () => {
    const c = (await call(sb, 'POST', '/api/now/table/change_request', { body: { short_description: 'patch things' } })).body.result;
    assert.equal(c.state, '-5');
    assert.match(c.number, /^CHG\d{7}$/);
    const impl = (await call(sb, 'PATCH', `/api/now/table/change_request/${c.sys_id}`, { body: { state: '-1' } })).body.result;
    assert.match(impl.work_start, DATE);
    const closed = (await call(sb, 'PATCH', `/api/now/table/change_request/${c.sys_id}`, { body: { state: '3', close_code: 'successful' } })).body.result;
    assert.match(closed.closed_at, DATE);
    assert.equal(closed.active, 'false');
  });
});

describe('ACLs and the CMDB class hierarchy', () => {
  test('a user without itil gets 403 with the real ACL bodies; sys_user stays readable', async () => {
    const user = await call(sb, 'POST', '/api/now/table/sys_user?sysparm_input_display_value=true', {
      body: { user_name: 'no.roles', first_name: 'No', last_name: 'Roles', user_password: 'Secret-123' },
    });
    assert.equal(user.status, 201);
    assert.equal(user.body.result.name, 'No Roles');
    assert.equal(user.body.result.user_password, '');
    const auth = basic('no.roles', 'Secret-123');
    const list = await call(sb, 'GET', '/api/now/table/incident', { auth });
    assert.equal(list.status, 403);
    assert.deepEqual(list.body, { error: { message: 'Insufficient rights to query records', detail: null }, status: 'failure' });
    const post = await call(sb, 'POST', '/api/now/table/incident', { auth, body: { short_description: 'x' } });
    assert.equal(post.status, 403);
    assert.deepEqual(post.body, {
      error: { message: 'Operation Failed', detail: 'ACL Exception Insert Failed due to security constraints' },
      status: 'failure',
    });
    const any = (await call(sb, 'GET', '/api/now/table/incident?sysparm_limit=1')).body.result[0];
    const patch = await call(sb, 'PATCH', `/api/now/table/incident/${any.sys_id}`, { auth, body: { state: '2' } });
    assert.equal(patch.status, 403);
    assert.equal(patch.body.error.detail, 'ACL Exception Update Failed due to security constraints');
    assert.equal((await call(sb, 'GET', '/api/now/table/sys_user?sysparm_limit=1', { auth })).status, 200);
    assert.equal((await call(sb, 'GET', '/api/now/table/oauth_entity', { auth })).status, 403);
  });

  test('the integration user has the six ITSMC roles (plus the two Event Management roles) and can work on incidents', async () => {
    const roles = await call(
      sb,
      'GET',
      `/api/now/table/sys_user_has_role?sysparm_display_value=true&sysparm_fields=role&sysparm_query=${q('user.user_name=itsmc.integration')}`,
    );
    const names = roles.body.result.map((r: { role: { display_value: string } }) => r.role.display_value).sort();
    for (const r of ['personalize_choices', 'import_transformer', 'x_mioms_microsoft.user', 'itil', 'template_editor', 'view_changer']) {
      assert.ok(names.includes(r), r);
    }
    assert.ok(names.includes('evt_mgmt_integration'));
    const r = await call(sb, 'POST', '/api/now/table/incident', { auth: basic('itsmc.integration', 'sandbox'), body: { short_description: 'from ITSMC' } });
    assert.equal(r.status, 201);
    assert.equal(r.body.result.sys_created_by, 'itsmc.integration');
  });

  test('task_ci links extra CIs to an incident: the integration user creates and queries them like any table', async () => {
    const inc = await call(sb, 'POST', '/api/now/table/incident', { auth: INTEGRATION, body: { short_description: 'multi-CI' } });
    assert.equal(inc.status, 201);
    const incId = inc.body.result.sys_id;
    const cis = (await call(sb, 'GET', '/api/now/table/cmdb_ci_computer?sysparm_limit=2&sysparm_fields=sys_id,name&sysparm_query=ORDERBYname')).body.result;
    assert.equal(cis.length, 2);
    for (const ci of cis) {
      const r = await call(sb, 'POST', '/api/now/table/task_ci', { auth: INTEGRATION, body: { task: incId, ci_item: ci.sys_id } });
      assert.equal(r.status, 201);
      assert.match(r.headers.get('location') ?? '', /\/api\/now\/v2\/table\/task_ci\/[0-9a-f]{32}$/);
      assert.match(r.body.result.sys_id, SYS_ID);
      assert.equal(r.body.result.task.value, incId);
      assert.equal(r.body.result.task.link, `${sb.url}/api/now/v2/table/task/${incId}`);
      assert.equal(r.body.result.ci_item.value, ci.sys_id);
      assert.equal(r.body.result.sys_created_by, 'itsmc.integration');
      assert.equal(r.body.result.sys_updated_by, 'itsmc.integration');
      assert.match(r.body.result.sys_created_on, DATE);
      assert.match(r.body.result.sys_updated_on, DATE);
      assert.equal(r.body.result.sys_mod_count, '0');
    }
    const list = await call(sb, 'GET', `/api/now/table/task_ci?sysparm_display_value=all&sysparm_query=${q(`task=${incId}^ORDERBYci_item.name`)}`, {
      auth: INTEGRATION,
    });
    assert.equal(list.status, 200);
    assert.equal(list.headers.get('x-total-count'), '2');
    assert.deepEqual(
      list.body.result.map((r: Record<string, { value: string; display_value: string }>) => [r.task.display_value, r.ci_item.value, r.ci_item.display_value]),
      cis.map((ci: { sys_id: string; name: string }) => [inc.body.result.number, ci.sys_id, ci.name]),
    );
    const byCi = await call(sb, 'GET', `/api/now/table/task_ci?sysparm_fields=task&sysparm_query=${q(`ci_item=${cis[0].sys_id}`)}`, { auth: INTEGRATION });
    assert.ok(byCi.body.result.some((r: { task: { value: string } }) => r.task.value === incId));
    const noRoles = await call(sb, 'POST', '/api/now/table/sys_user?sysparm_input_display_value=true', {
      body: { user_name: 'no.itil', user_password: 'Secret-456' },
    });
    assert.equal(noRoles.status, 201);
    const denied = await call(sb, 'POST', '/api/now/table/task_ci', { auth: basic('no.itil', 'Secret-456'), body: { task: incId, ci_item: cis[0].sys_id } });
    assert.equal(denied.status, 403);
    assert.equal((await call(sb, 'GET', '/api/now/table/task_ci', { auth: basic('no.itil', 'Secret-456') })).status, 403);
  });

  test('cmdb_ci returns records of every subclass with their sys_class_name; a subclass table returns only its classes', async () => {
    const all = await call(sb, 'GET', '/api/now/table/cmdb_ci?sysparm_fields=sys_class_name,name&sysparm_limit=5000');
    const classes = new Set(all.body.result.map((r: { sys_class_name: string }) => r.sys_class_name));
    for (const c of ['cmdb_ci_computer', 'cmdb_ci_win_server', 'cmdb_ci_linux_server', 'cmdb_ci_service', 'cmdb_ci_netgear']) assert.ok(classes.has(c), c);
    const servers = await call(sb, 'GET', '/api/now/table/cmdb_ci_server?sysparm_fields=sys_class_name,os&sysparm_limit=5000');
    assert.ok(servers.body.result.length > 0);
    for (const s of servers.body.result) assert.ok(['cmdb_ci_server', 'cmdb_ci_win_server', 'cmdb_ci_linux_server'].includes(s.sys_class_name));
    const viaInstanceof = await call(sb, 'GET', `/api/now/table/cmdb_ci?sysparm_limit=1&sysparm_query=${q('sys_class_nameINSTANCEOFcmdb_ci_server')}`);
    assert.equal(viaInstanceof.headers.get('x-total-count'), String(servers.body.result.length));
    const computers = await call(sb, 'GET', '/api/now/table/cmdb_ci_computer?sysparm_limit=1');
    assert.equal(Number(computers.headers.get('x-total-count')), SMALL.computers);
    const created = await call(sb, 'POST', '/api/now/table/cmdb_ci_linux_server', { body: { name: 'lnx-new-001', ip_address: '10.9.9.9' } });
    assert.equal(created.body.result.sys_class_name, 'cmdb_ci_linux_server');
    const viaBase = await call(sb, 'GET', `/api/now/table/cmdb_ci/${created.body.result.sys_id}`);
    assert.equal(viaBase.body.result.sys_class_name, 'cmdb_ci_linux_server');
    assert.equal(viaBase.body.result.os, undefined, 'the base table shows base fields only');
    assert.equal((await call(sb, 'GET', `/api/now/table/cmdb_ci_win_server/${created.body.result.sys_id}`)).status, 404);
    const rels = await call(sb, 'GET', `/api/now/table/cmdb_rel_ci?sysparm_limit=3&sysparm_display_value=true`);
    assert.equal(rels.body.result.length, 3);
    assert.match(rels.body.result[0].type.display_value, /::/);
  });

  test('choice lists and templates are readable tables', async () => {
    const states = await call(sb, 'GET', `/api/now/table/sys_choice?sysparm_query=${q('name=incident^element=state^ORDERBYsequence')}`);
    assert.deepEqual(
      states.body.result.map((c: Record<string, string>) => [c.value, c.label]),
      [
        ['1', 'New'],
        ['2', 'In Progress'],
        ['3', 'On Hold'],
        ['6', 'Resolved'],
        ['7', 'Closed'],
        ['8', 'Canceled'],
      ],
    );
    const t = await call(sb, 'GET', `/api/now/table/sys_template?sysparm_query=${q('table=incident')}`, { auth: ADMIN });
    assert.ok(t.body.result.length >= 3);
    for (const tpl of t.body.result) assert.match(tpl.template, /^([a-z_]+=[^^]*\^)+EQ$/);
    const chg = await call(sb, 'GET', `/api/now/table/sys_choice?sysparm_query=${q('name=change_request^element=state')}`);
    assert.equal(chg.body.result.length, 8);
  });
});
