import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { ServiceNowSandbox } from './index.ts';
import { parseEncodedQuery } from './query.ts';
import { call, q, SMALL, startSmall } from './test-support.ts';

let sb: ServiceNowSandbox;
/** Known incidents created by the test: short_description QT-<n>. */
const rows = [
  { short_description: 'QT-1 VPN down', category: 'network', impact: '1', urgency: '1', description: 'alpha' },
  { short_description: 'QT-2 disk full', category: 'hardware', impact: '2', urgency: '2', description: 'beta ^ caret' },
  { short_description: 'QT-3 email slow', category: 'software', impact: '3', urgency: '3' },
  { short_description: 'QT-4 vpn flaky', category: 'network', impact: '2', urgency: '3', correlation_id: 'corr-4' },
  { short_description: 'QT-5 printer', category: 'hardware', impact: '3', urgency: '1', correlation_id: 'corr-5' },
];

before(async () => {
  sb = await startSmall();
  for (const r of rows) assert.equal((await call(sb, 'POST', '/api/now/table/incident', { body: r })).status, 201);
});
after(async () => {
  await sb?.close();
});

async function numbersOf(query: string, extra = ''): Promise<string[]> {
  const r = await call(sb, 'GET', `/api/now/table/incident?sysparm_fields=short_description&sysparm_limit=1000&sysparm_query=${q(query)}${extra}`);
  assert.equal(r.status, 200, r.text);
  return r.body.result.map((x: { short_description: string }) => x.short_description.slice(0, 4));
}

const QT = 'short_descriptionSTARTSWITHQT-';

describe('encoded query parser', () => {
  test('splits ^ (AND), ^OR (with the neighbour), ^NQ (new group) and ORDERBY terms; ^^ is a literal caret', () => {
    const p = parseEncodedQuery('active=true^priority=1^ORpriority=2^NQcategory=hardware^ORDERBYnumber^ORDERBYDESCsys_updated_on^descriptionLIKEa^^b');
    assert.deepEqual(p.orderBy, [
      { field: 'number', desc: false },
      { field: 'sys_updated_on', desc: true },
    ]);
    assert.equal(p.groups.length, 2);
    assert.deepEqual(p.groups[0], [
      [{ field: 'active', op: '=', value: 'true' }],
      [
        { field: 'priority', op: '=', value: '1' },
        { field: 'priority', op: '=', value: '2' },
      ],
    ]);
    assert.deepEqual(p.groups[1], [[{ field: 'category', op: '=', value: 'hardware' }], [{ field: 'description', op: 'LIKE', value: 'a^b' }]]);
  });

  test('recognises every operator of the reference list', () => {
    const ops = [
      '=',
      '!=',
      '>',
      '>=',
      '<',
      '<=',
      'LIKE',
      'NOT LIKE',
      'STARTSWITH',
      'ENDSWITH',
      'IN',
      'NOT IN',
      'ISEMPTY',
      'ISNOTEMPTY',
      'ANYTHING',
      'EMPTYSTRING',
      'BETWEEN',
      'ON',
      'INSTANCEOF',
      'DYNAMIC',
    ];
    for (const op of ops) {
      const p = parseEncodedQuery(`state${op}x`);
      assert.equal(p.groups[0][0][0].op, op, op);
      assert.equal(p.groups[0][0][0].field, 'state');
    }
  });
});

describe('encoded query over HTTP', () => {
  test('= != > >= < <= on choice integers', async () => {
    assert.deepEqual(await numbersOf(`${QT}^impact=2^ORDERBYshort_description`), ['QT-2', 'QT-4']);
    assert.deepEqual(await numbersOf(`${QT}^impact!=2^ORDERBYshort_description`), ['QT-1', 'QT-3', 'QT-5']);
    assert.deepEqual(await numbersOf(`${QT}^priority<=2^ORDERBYshort_description`), ['QT-1']);
    assert.deepEqual(await numbersOf(`${QT}^priority>3^ORDERBYshort_description`), ['QT-3', 'QT-4']);
    assert.deepEqual(await numbersOf(`${QT}^priority>=3^priority<4^ORDERBYshort_description`), ['QT-2', 'QT-5']);
  });

  test('^OR binds to its neighbour, ^NQ starts a new OR group', async () => {
    assert.deepEqual(await numbersOf(`${QT}^category=network^ORcategory=software^ORDERBYshort_description`), ['QT-1', 'QT-3', 'QT-4']);
    assert.deepEqual(await numbersOf(`${QT}^impact=1^NQ${QT}^urgency=1^impact=3^ORDERBYshort_description`), ['QT-1', 'QT-5']);
  });

  test('ORDERBY and ORDERBYDESC, several keys applied in order', async () => {
    assert.deepEqual(await numbersOf(`${QT}^ORDERBYDESCshort_description`), ['QT-5', 'QT-4', 'QT-3', 'QT-2', 'QT-1']);
    assert.deepEqual(await numbersOf(`${QT}^ORDERBYcategory^ORDERBYDESCshort_description`), ['QT-5', 'QT-2', 'QT-4', 'QT-1', 'QT-3']);
  });

  test('LIKE (case-insensitive contains), NOT LIKE, STARTSWITH, ENDSWITH', async () => {
    assert.deepEqual(await numbersOf(`${QT}^short_descriptionLIKEvpn^ORDERBYshort_description`), ['QT-1', 'QT-4']);
    assert.deepEqual(await numbersOf(`${QT}^short_descriptionNOT LIKEvpn^ORDERBYshort_description`), ['QT-2', 'QT-3', 'QT-5']);
    assert.deepEqual(await numbersOf(`short_descriptionENDSWITHprinter^${QT}`), ['QT-5']);
    assert.deepEqual(await numbersOf(`${QT}^short_descriptionLIKE100%`), []);
  });

  test('IN and NOT IN with comma lists', async () => {
    assert.deepEqual(await numbersOf(`${QT}^categoryINnetwork,software^ORDERBYshort_description`), ['QT-1', 'QT-3', 'QT-4']);
    assert.deepEqual(await numbersOf(`${QT}^categoryNOT INnetwork,software^ORDERBYshort_description`), ['QT-2', 'QT-5']);
    assert.deepEqual(await numbersOf(`${QT}^correlation_idINcorr-5,corr-x`), ['QT-5']);
  });

  test('ISEMPTY and ISNOTEMPTY (also field= with an empty value)', async () => {
    assert.deepEqual(await numbersOf(`${QT}^correlation_idISNOTEMPTY^ORDERBYshort_description`), ['QT-4', 'QT-5']);
    assert.deepEqual(await numbersOf(`${QT}^correlation_idISEMPTY^ORDERBYshort_description`), ['QT-1', 'QT-2', 'QT-3']);
    assert.deepEqual(await numbersOf(`${QT}^correlation_id=^ORDERBYshort_description`), ['QT-1', 'QT-2', 'QT-3']);
  });

  test('a condition on an unknown field is silently dropped (the rest still applies)', async () => {
    assert.deepEqual(await numbersOf(`no_such_field=1^${QT}^ORDERBYshort_description`), ['QT-1', 'QT-2', 'QT-3', 'QT-4', 'QT-5']);
    const all = await call(sb, 'GET', `/api/now/table/incident?sysparm_limit=1&sysparm_query=${q('u_bogus=7')}`);
    assert.equal(Number(all.headers.get('x-total-count')), SMALL.incidents + rows.length);
  });

  test('with glide.invalid_query.returns_no_rows (rules.invalidQueryReturnsNoRows) an unknown field matches nothing', async () => {
    await call(sb, 'PUT', '/api/x_sandbox/rules', { body: { invalidQueryReturnsNoRows: true } });
    try {
      assert.deepEqual(await numbersOf(`no_such_field=1^${QT}`), []);
    } finally {
      await call(sb, 'PUT', '/api/x_sandbox/rules', { body: { invalidQueryReturnsNoRows: false } });
    }
  });

  test('^^ escapes a caret inside a value; dot-walking through references; javascript:gs.getUserID()', async () => {
    assert.deepEqual(await numbersOf(`${QT}^descriptionLIKEbeta ^^ caret`), ['QT-2']);
    assert.deepEqual(await numbersOf(`${QT}^opened_by.user_name=admin^impact=1`), ['QT-1']);
    assert.deepEqual(await numbersOf(`${QT}^opened_by=javascript:gs.getUserID()^impact=1`), ['QT-1']);
    assert.deepEqual(await numbersOf(`${QT}^opened_by.user_name=nobody`), []);
  });

  test('date comparisons with literal UTC timestamps, BETWEEN and javascript:gs.daysAgoStart', async () => {
    const total = SMALL.incidents + rows.length;
    const count = async (query: string): Promise<number> =>
      Number((await call(sb, 'GET', `/api/now/table/incident?sysparm_limit=1&sysparm_query=${q(query)}`)).headers.get('x-total-count'));
    assert.equal(await count('sys_created_on>=2000-01-01 00:00:00'), total);
    assert.equal(await count('sys_created_on<2000-01-01'), 0);
    assert.equal(await count('sys_created_onBETWEEN2000-01-01 00:00:00@2100-01-01 00:00:00'), total);
    assert.equal(await count(`sys_created_on>=javascript:gs.daysAgoStart(0)^${QT}`), rows.length);
    const old = await count('sys_created_on<javascript:gs.daysAgo(30)');
    assert.ok(old > 0 && old < total);
  });

  test('keyset paging with ^NQ (sys_updated_on, sys_id) visits every record exactly once, in order, with consistent X-Total-Count', async () => {
    const seen: string[] = [];
    let last: { on: string; id: string } | undefined;
    const totals: number[] = [];
    for (let page = 0; page < 100; page++) {
      const query = last
        ? `sys_updated_on>${last.on}^NQsys_updated_on=${last.on}^sys_id>${last.id}^ORDERBYsys_updated_on^ORDERBYsys_id`
        : 'sys_updated_on>=2000-01-01 00:00:00^ORDERBYsys_updated_on^ORDERBYsys_id';
      const r = await call(sb, 'GET', `/api/now/table/incident?sysparm_limit=40&sysparm_fields=sys_id,sys_updated_on&sysparm_query=${q(query)}`);
      totals.push(Number(r.headers.get('x-total-count')));
      for (const rec of r.body.result) seen.push(`${rec.sys_updated_on}|${rec.sys_id}`);
      if (r.body.result.length < 40) break;
      const l = r.body.result[r.body.result.length - 1];
      last = { on: l.sys_updated_on, id: l.sys_id };
    }
    const total = SMALL.incidents + rows.length;
    assert.equal(seen.length, total);
    assert.equal(new Set(seen).size, total);
    assert.deepEqual(seen, [...seen].sort());
    totals.forEach((t, i) => assert.equal(t, total - 40 * i, `X-Total-Count on page ${i}`));
    // The same counts as the plain (uncached) OR query would give.
    const [on, id] = seen[99].split('|');
    const direct = await call(
      sb,
      'GET',
      `/api/now/table/incident?sysparm_limit=1&sysparm_query=${q(`sys_updated_on=${on}^sys_id>${id}^NQsys_updated_on>${on}`)}`,
    );
    assert.equal(Number(direct.headers.get('x-total-count')), total - 100);
  });
});
