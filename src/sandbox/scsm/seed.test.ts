import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import type { ScsmSandbox, ScsmSandboxOptions } from './index.ts';
import { startScsmSandbox } from './index.ts';
import { call, CHANGE, fieldOf, INCIDENT, token } from './test-support.ts';

const NOW = '2026-06-15T12:00:00Z';
const VOLUME = { incidents: 400, changeRequests: 100, computers: 50 };
const started: ScsmSandbox[] = [];
const dirs: string[] = [];
after(async () => {
  for (const s of started) await s.close();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function start(opts: ScsmSandboxOptions): Promise<ScsmSandbox> {
  const s = await startScsmSandbox(opts);
  started.push(s);
  return s;
}

type Item = { bmeId: string; f: Record<string, { value: unknown; valueDisplayName: unknown }> };

async function all(sb: ScsmSandbox, className: string): Promise<Item[]> {
  const tok = await token(sb);
  const r = await call(sb, 'POST', '/api/workitems', { token: tok, body: { className, pageSize: 2000 } });
  assert.equal(r.status, 200);
  return r.body.businessObjects.map((b: any) => ({ bmeId: b.bmeId, f: Object.fromEntries(b.fields.map((x: any) => [x.name, x])) }));
}

const v = (i: Item, name: string): any => i.f[name].value;
const label = (i: Item, name: string): any => i.f[name].valueDisplayName;

describe('deterministic seed data', () => {
  test('the same seed and anchor give the same records; another seed differs; another anchor keeps identities', async () => {
    const a = await start({ seed: 7, now: NOW, volume: VOLUME });
    const b = await start({ seed: 7, now: NOW, volume: VOLUME });
    const c = await start({ seed: 8, now: NOW, volume: VOLUME });
    const ia = await all(a, INCIDENT);
    assert.equal(ia.length, VOLUME.incidents);
    assert.deepEqual(await all(b, INCIDENT), ia);
    assert.deepEqual(await all(b, CHANGE), await all(a, CHANGE));
    assert.notDeepEqual(
      (await all(c, INCIDENT)).map((i) => i.bmeId),
      ia.map((i) => i.bmeId),
    );
    const d = await start({ seed: 7, now: '2026-09-01T08:30:00Z', volume: VOLUME });
    const pick = (items: Item[]) => items.map((i) => [i.bmeId, v(i, 'Id'), v(i, 'Title'), v(i, 'Urgency'), v(i, 'Impact')]);
    assert.deepEqual(pick(await all(d, INCIDENT)), pick(ia));
  });

  test('incidents over the window: IR ids, statuses mixed by age, priority from the matrix, stamps consistent and in the past', async () => {
    const sb = await start({ seed: 3, now: NOW, days: 120, volume: VOLUME });
    const items = await all(sb, INCIDENT);
    const windowStart = '2026-02-15T12:00:00Z';
    const rank: Record<string, number> = { High: 1, Medium: 2, Low: 3 };
    const statuses = new Map<string, number>();
    for (const i of items) {
      assert.match(v(i, 'Id'), /^IR\d+$/);
      const created = v(i, 'CreatedDate');
      assert.ok(created >= windowStart && created <= NOW, created);
      assert.ok(v(i, 'LastModified') >= created && v(i, 'LastModified') <= NOW);
      assert.equal(v(i, 'Priority'), (rank[label(i, 'Impact')] - 1) * 3 + rank[label(i, 'Urgency')]);
      const s = label(i, 'Status');
      statuses.set(s, (statuses.get(s) ?? 0) + 1);
      if (s === 'Resolved' || s === 'Closed') {
        assert.ok(v(i, 'ResolvedDate') >= created && v(i, 'ResolvedDate') <= NOW);
        assert.ok(label(i, 'ResolutionCategory'));
      } else assert.equal(v(i, 'ResolvedDate'), null);
      if (s === 'Closed') assert.ok(v(i, 'ClosedDate') >= v(i, 'ResolvedDate'));
      for (const e of ['Source', 'TierQueue', 'Classification']) assert.ok(label(i, e), e);
    }
    for (const s of ['Active', 'Pending', 'Resolved', 'Closed']) assert.ok((statuses.get(s) ?? 0) > 0, s);
    assert.ok((statuses.get('Closed') ?? 0) > items.length / 2, 'most incidents are closed');
  });

  test('change requests: CR ids, statuses follow the schedule, actual dates only once work started', async () => {
    const sb = await start({ seed: 3, now: NOW, volume: VOLUME });
    const crs = await all(sb, CHANGE);
    assert.equal(crs.length, VOLUME.changeRequests);
    for (const cr of crs) {
      assert.match(v(cr, 'Id'), /^CR\d+$/);
      assert.ok(v(cr, 'ScheduledEndDate') > v(cr, 'ScheduledStartDate'));
      const s = label(cr, 'Status');
      if (['New', 'Submitted'].includes(s)) assert.equal(v(cr, 'ActualStartDate'), null);
      if (['Completed', 'Closed', 'Failed'].includes(s)) assert.ok(v(cr, 'ActualEndDate'));
      for (const e of ['Risk', 'Category', 'Priority', 'Impact']) assert.ok(label(cr, e), e);
    }
    const ids = [...crs.map((c) => Number(v(c, 'Id').slice(2))), ...(await all(sb, INCIDENT)).map((i) => Number(v(i, 'Id').slice(2)))].sort((x, y) => x - y);
    assert.deepEqual(
      ids,
      Array.from({ length: ids.length }, (_, k) => k + 1),
      'one counter numbers every work item',
    );
  });

  test('action-log comments and affected CIs are seeded; some comments were entered by SM-OMS', async () => {
    const sb = await start({ seed: 5, now: NOW, volume: { incidents: 120, changeRequests: 5, computers: 20 } });
    const tok = await token(sb);
    const items = await all(sb, INCIDENT);
    let comments = 0;
    let byWebApp = 0;
    for (const i of items.slice(0, 60)) {
      const r = await call(sb, 'POST', `/api/workitems/${i.bmeId}`, { token: tok, body: {} });
      const log = fieldOf(r.body, 'ActionLog').value as any[];
      comments += log.length;
      byWebApp += log.filter((c) => c.EnteredBy === 'SM-OMS').length;
    }
    assert.ok(comments > 30 && byWebApp > 0, `${comments} comments, ${byWebApp} by SM-OMS`);
    const cis = await call(sb, 'POST', '/api/affectedci', { token: tok, body: { incidentIds: items.map((i) => v(i, 'Id')), WIType: INCIDENT } });
    assert.ok(cis.body.values.length > items.length / 3);
  });

  test('a data directory keeps the instance across restarts and is seeded only once', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'scsm-seed-'));
    dirs.push(dir);
    const first = await startScsmSandbox({ dataDir: dir, seed: 2, volume: { incidents: 30, changeRequests: 5, computers: 5 } });
    const tok = await token(first);
    const created = await call(first, 'POST', '/api/workitems/create', {
      token: tok,
      body: { className: INCIDENT, fields: [{ name: 'Title', value: 'kept' }] },
    });
    await first.close();
    const second = await start({ dataDir: dir, seed: 99, volume: { incidents: 500 } });
    const items = await all(second, INCIDENT);
    assert.equal(items.length, 31);
    assert.ok(items.some((i) => i.bmeId === created.body.bmeId));
  });
});
