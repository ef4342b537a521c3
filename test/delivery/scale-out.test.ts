/**
 * Scale-out on PostgreSQL (SPEC 2.10): two connector instances on one schema share the delivery queue
 * (`FOR UPDATE SKIP LOCKED`). Alerts posted to both are each delivered once; both instances do work; per
 * key one job at a time keeps a storm on one key down to one incident.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { countByCorrelation, drained, fastDelivery, metricAlert, ourIncidents, postHook, putGroup, startRig, type Rig } from './helpers.ts';

describe('two processes on one PostgreSQL queue', () => {
  let a: Rig & { pgSchema?: string };
  let b: Rig;
  before(async () => {
    const masterKey = 'scale-out-test-master-key-0123456789abcdef';
    a = await startRig('postgres', fastDelivery(), { masterKey });
    b = await startRig('postgres', fastDelivery(), { masterKey, pgSchema: a.pgSchema, sandbox: a.sandbox, connection: false });
  });
  after(async () => {
    await b?.cleanup();
    await a?.cleanup();
  });

  it('delivers each alert once with work spread over both instances', async () => {
    const g = await putGroup(a, 'shared', [{ name: 'inc', ticketConfiguration: { WorkItemType: 'Incident' } }]);
    const hookB = g.webhookUrl.replace(new URL(a.c.url).host, new URL(b.c.url).host);
    const posts: Promise<unknown>[] = [];
    for (let i = 0; i < 120; i++) {
      const body = metricAlert({ rule: `shared-${i % 60}`, alertId: `s-${i}`, cis: [] });
      posts.push(postHook(i % 2 ? hookB : g.webhookUrl, body));
      // The same alert through the other instance is a duplicate, whichever stores it first.
      if (i % 10 === 0) posts.push(postHook(i % 2 ? g.webhookUrl : hookB, body));
    }
    const answers = (await Promise.all(posts)) as { status: number; body: { status: string } }[];
    assert.ok(answers.every((r) => r.status === 202));
    assert.equal(answers.filter((r) => r.body.status === 'accepted').length, 120, 'each alert stored once');
    await drained(a.c, 60_000);
    await drained(b.c, 60_000);
    const incidents = (await ourIncidents(a.sandbox)).filter((i) => /\] shared-\d+/.test(i.short_description));
    assert.deepEqual(
      [...countByCorrelation(incidents).values()].filter((n) => n > 1),
      [],
      'no duplicates',
    );
    assert.equal(incidents.length, 60, 'one incident per rule');
    assert.ok(
      a.c.delivery.stats.acked > 0 && b.c.delivery.stats.acked > 0,
      `both instances delivered (${a.c.delivery.stats.acked} / ${b.c.delivery.stats.acked})`,
    );
  });
});
