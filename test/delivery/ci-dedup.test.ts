/**
 * One CI per name per connection (issue 9): with "create new configuration items" on, an alert routed to an
 * action group with four actions creates its computer once in cmdb_ci — also with two connector processes on
 * one PostgreSQL queue. Over HTTP against the ServiceNow sandbox.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { testDialects } from '../helpers/stores.ts';
import { drained, fastDelivery, metricAlert, postHook, putGroup, sandboxGet, startRig, type Rig } from './helpers.ts';

const FOUR = ['a', 'b', 'c', 'd'].map((n) => ({ name: `inc-${n}`, ticketConfiguration: { WorkItemType: 'Incident' } }));

async function cisNamed(rig: Rig, name: string): Promise<string[]> {
  const page = await sandboxGet(rig.sandbox, '/api/now/table/cmdb_ci', { sysparm_query: `name=${name}`, sysparm_fields: 'sys_id', sysparm_limit: '100' });
  return page.result.map((r: { sys_id: string }) => r.sys_id);
}

for (const dialect of testDialects) {
  describe(`one CI per name per connection on ${dialect}`, () => {
    let rig: Rig;
    before(async () => {
      rig = await startRig(dialect, fastDelivery());
    });
    after(async () => rig.cleanup());

    it('creates a new computer once when four actions of one action group need it at the same time', async () => {
      const g = await putGroup(rig, 'four-actions', FOUR);
      const names = [1, 2, 3].map((i) => `new-host-${dialect}-${i}`);
      await Promise.all(names.map((ci, i) => postHook(g.webhookUrl, metricAlert({ rule: `four-${i}`, alertId: `f-${i}`, cis: [ci] }))));
      await drained(rig.c);
      for (const ci of names) assert.equal((await cisNamed(rig, ci)).length, 1, `one cmdb_ci row named ${ci}`);
    });
  });
}

describe('one CI per name per connection with two processes on PostgreSQL', () => {
  let a: Rig & { pgSchema?: string };
  let b: Rig;
  before(async () => {
    const masterKey = 'ci-dedup-test-master-key-0123456789abcdef';
    a = await startRig('postgres', fastDelivery(), { masterKey });
    b = await startRig('postgres', fastDelivery(), { masterKey, pgSchema: a.pgSchema, sandbox: a.sandbox, connection: false });
  });
  after(async () => {
    await b?.cleanup();
    await a?.cleanup();
  });

  it('creates each new computer once when both processes deliver actions that need it', async () => {
    const g = await putGroup(a, 'four-shared', FOUR);
    const hookB = g.webhookUrl.replace(new URL(a.c.url).host, new URL(b.c.url).host);
    const names = Array.from({ length: 8 }, (_, i) => `shared-host-${i}`);
    await Promise.all(names.map((ci, i) => postHook(i % 2 ? hookB : g.webhookUrl, metricAlert({ rule: `shared-ci-${i}`, alertId: `sc-${i}`, cis: [ci] }))));
    await drained(a.c, 60_000);
    await drained(b.c, 60_000);
    for (const ci of names) assert.equal((await cisNamed(a, ci)).length, 1, `one cmdb_ci row named ${ci}`);
  });
});
