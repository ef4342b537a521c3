import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import type { ServiceNowSandbox } from './index.ts';
import { startServiceNowSandbox } from './index.ts';
import { ADMIN, call, q } from './test-support.ts';
import { selfSignedCertificate } from '../common/test-support.ts';

const NOW = '2026-06-15T12:00:00Z';
const VOLUME = { incidents: 400, changeRequests: 80, computers: 60 };
const started: ServiceNowSandbox[] = [];
const dirs: string[] = [];
after(async () => {
  for (const s of started) await s.close();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function start(opts: Parameters<typeof startServiceNowSandbox>[0]): Promise<ServiceNowSandbox> {
  const s = await startServiceNowSandbox(opts);
  started.push(s);
  return s;
}

async function all(sb: ServiceNowSandbox, table: string, fields: string, query = ''): Promise<Record<string, string>[]> {
  const r = await call(
    sb,
    'GET',
    `/api/now/table/${table}?sysparm_limit=10000&sysparm_exclude_reference_link=true&sysparm_fields=${fields}&sysparm_query=${q(query)}`,
  );
  assert.equal(r.status, 200);
  return r.body.result;
}

const FIELDS = 'sys_id,number,short_description,state,priority,caller_id,assigned_to,cmdb_ci,sys_created_on,sys_updated_on,resolved_at,closed_at';

describe('deterministic seed data', () => {
  test('the same seed and anchor give the same records; another seed gives different ones', async () => {
    const a = await start({ seed: 7, now: NOW, volume: VOLUME });
    const b = await start({ seed: 7, now: NOW, volume: VOLUME });
    const c = await start({ seed: 8, now: NOW, volume: VOLUME });
    const ia = await all(a, 'incident', FIELDS, 'ORDERBYnumber');
    assert.equal(ia.length, VOLUME.incidents);
    assert.deepEqual(await all(b, 'incident', FIELDS, 'ORDERBYnumber'), ia);
    assert.deepEqual(
      await all(b, 'change_request', 'sys_id,number,state,start_date', 'ORDERBYnumber'),
      await all(a, 'change_request', 'sys_id,number,state,start_date', 'ORDERBYnumber'),
    );
    assert.deepEqual(
      await all(b, 'cmdb_ci', 'sys_id,name,sys_class_name', 'ORDERBYname'),
      await all(a, 'cmdb_ci', 'sys_id,name,sys_class_name', 'ORDERBYname'),
    );
    // Another anchor time moves the timeline but keeps each record's identity and attributes.
    const d = await start({ seed: 7, now: '2026-09-01T08:30:00Z', volume: VOLUME });
    const pick = (rows: Record<string, string>[]) => rows.map((x) => [x.number, x.sys_id, x.short_description, x.category, x.impact, x.urgency]);
    const stable = 'sys_id,number,short_description,category,impact,urgency';
    assert.deepEqual(pick(await all(d, 'incident', stable, 'ORDERBYnumber')), pick(await all(a, 'incident', stable, 'ORDERBYnumber')));
    const ic = await all(c, 'incident', FIELDS, 'ORDERBYnumber');
    assert.notDeepEqual(
      ic.map((x) => x.sys_id),
      ia.map((x) => x.sys_id),
    );
    assert.equal(ia[0].number, 'INC0010001');
    assert.equal(ia[ia.length - 1].number, `INC${String(10000 + VOLUME.incidents).padStart(7, '0')}`);
  });

  test('incidents look like a real instance over the window: states mix by age, stamps consistent, all in the past', async () => {
    const sb = await start({ seed: 3, now: NOW, days: 120, volume: VOLUME });
    const inc = await all(sb, 'incident', `${FIELDS},impact,urgency,close_code,active,category,opened_at,assignment_group`);
    const now = '2026-06-15 12:00:00';
    const windowStart = '2026-02-15 12:00:00';
    const matrix: Record<string, string> = { '11': '1', '12': '2', '13': '3', '21': '2', '22': '3', '23': '4', '31': '3', '32': '4', '33': '5' };
    const states = new Map<string, number>();
    let withCi = 0;
    for (const i of inc) {
      states.set(i.state, (states.get(i.state) ?? 0) + 1);
      assert.ok(i.sys_created_on >= windowStart && i.sys_created_on <= now, i.sys_created_on);
      assert.ok(i.sys_updated_on >= i.sys_created_on && i.sys_updated_on <= now);
      assert.equal(i.opened_at, i.sys_created_on);
      assert.equal(i.priority, matrix[i.impact + i.urgency]);
      if (i.state === '6' || i.state === '7') {
        assert.ok(i.resolved_at >= i.sys_created_on && i.resolved_at <= now);
        assert.notEqual(i.close_code, '');
      } else assert.equal(i.resolved_at, '');
      if (i.state === '7') assert.ok(i.closed_at >= i.resolved_at && i.active === 'false');
      if (['1', '2', '3'].includes(i.state)) assert.equal(i.active, 'true');
      if (i.cmdb_ci) withCi++;
    }
    for (const s of ['2', '6', '7']) assert.ok((states.get(s) ?? 0) > 0, `state ${s} present`);
    assert.ok((states.get('7') ?? 0) > inc.length / 2, 'most incidents are closed');
    const old = inc.filter((i) => i.sys_created_on < '2026-04-01 00:00:00');
    assert.ok(old.filter((i) => ['7', '8'].includes(i.state)).length / old.length > 0.9, 'old incidents are closed');
    assert.ok(withCi > inc.length * 0.4);
    assert.ok(new Set(inc.map((i) => i.category)).size >= 4);
    const groups = await all(sb, 'sys_user_group', 'name');
    assert.equal(groups.length, 8);
    const users = await all(sb, 'sys_user', 'user_name');
    assert.ok(users.length >= 50);
    const changes = await all(sb, 'change_request', 'state,type,start_date,end_date,work_start,closed_at,sys_created_on');
    assert.equal(changes.length, VOLUME.changeRequests);
    for (const c of changes) {
      assert.ok(c.end_date > c.start_date);
      if (c.state === '3') assert.ok(c.closed_at !== '' && c.work_start !== '');
    }
  });

  test('a data directory keeps the instance in servicenow.sqlite and an existing file is not reseeded', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sn-sandbox-'));
    dirs.push(dir);
    const first = await startServiceNowSandbox({ dataDir: dir, seed: 5, volume: { incidents: 50, changeRequests: 5, computers: 10 } });
    assert.ok(existsSync(join(dir, 'servicenow.sqlite')));
    const created = await call(first, 'POST', '/api/now/table/incident', { body: { short_description: 'survives restart' } });
    await first.close();
    const second = await start({ dataDir: dir, seed: 99, volume: { incidents: 10, changeRequests: 1, computers: 1 } });
    const r = await call(second, 'GET', '/api/now/table/incident?sysparm_limit=1');
    assert.equal(r.headers.get('x-total-count'), '51');
    const again = await call(second, 'GET', `/api/now/table/incident/${created.body.result.sys_id}`);
    assert.equal(again.body.result.short_description, 'survives restart');
    const next = await call(second, 'POST', '/api/now/table/incident', { body: { short_description: 'numbering continues' } });
    assert.equal(next.body.result.number, 'INC0010052');
  });
});

describe('HTTPS', () => {
  test('with tls cert/key the sandbox serves HTTPS (self-signed certificate trusted as CA)', async (t) => {
    const tlsCert = selfSignedCertificate('sn-tls-');
    t.after(() => tlsCert.remove());
    const { cert, key } = tlsCert;
    const sb = await start({ tls: { cert, key }, volume: { incidents: 5, changeRequests: 1, computers: 2 } });
    assert.match(sb.url, /^https:\/\/127\.0\.0\.1:\d+$/);
    const res = await new Promise<{ status: number; body: string; authorized: boolean }>((resolve, reject) => {
      const req = request(`${sb.url}/api/now/table/incident?sysparm_limit=1`, { ca: cert, headers: { Authorization: ADMIN } }, (r) => {
        let body = '';
        const authorized = (r.socket as import('node:tls').TLSSocket).authorized;
        r.on('data', (c) => (body += c));
        r.on('end', () => resolve({ status: r.statusCode ?? 0, body, authorized }));
      });
      req.on('error', reject);
      req.end();
    });
    assert.equal(res.status, 200);
    assert.equal(res.authorized, true);
    const body = JSON.parse(res.body);
    assert.equal(body.result.length, 1);
    assert.ok(body.result[0].opened_by.link.startsWith(`${sb.url}/api/now/v2/table/sys_user/`), 'links use the https base URL');
  });
});
