/**
 * A resolve never waits for a work note's coalescing window (issue 9 item 2): occurrences still pending are
 * folded into the resolve note and the work item is resolved at once. The windows here are 60 s and 10 minutes;
 * the resolve must come long before them. Alertmanager-shaped traffic (group notifications, every alert of the
 * group in each one) against the ServiceNow sandbox over HTTP, with the real store on SQLite and PostgreSQL.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { testDialects } from '../helpers/stores.ts';
import { alertmanagerGroup, drained, fastDelivery, ourIncidents, postHook, putGroup, startRig, workNotes, type Rig, type SnIncident } from './helpers.ts';
import { storeInternals } from '../../src/store/testkit.ts';
import { startAlertmanager, type AmAlertInput } from '../helpers/alertmanager.ts';
import { eventually } from '../helpers/wait.ts';

type AmAlert = { fingerprint: string; instance: string; status?: 'firing' | 'resolved' };

/** One Alertmanager notification of group `name` (groupKey `{}:{alertname="name"}`) carrying `alerts`. */
async function notify(hook: string, name: string, alerts: AmAlert[]): Promise<void> {
  const res = await postHook(hook, alertmanagerGroup({ groupKey: `{}:{alertname="${name}"}`, alertname: name, alerts }));
  assert.equal(res.status, 202, `notification of ${name}: ${res.status} ${JSON.stringify(res.body)}`);
}

/** The coalesced-note flush jobs waiting in the queue (one per key whose note is pending), with their due times. */
async function flushJobs(rig: Rig): Promise<{ ordering_key: string; run_at: number }[]> {
  const rows = await storeInternals(rig.c.store)
    .db.selectFrom('jobs')
    .select(['ordering_key', 'run_at'])
    .where('kind', '=', 'flush')
    .where('state', '=', 'pending')
    .execute();
  return rows.map((r) => ({ ordering_key: r.ordering_key, run_at: Number(r.run_at) }));
}

async function resolvedSoon(rig: Rig, name: string, timeoutMs = 15_000): Promise<SnIncident> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const [inc] = (await ourIncidents(rig.sandbox)).filter((i) => i.short_description.includes(name));
    if (inc?.state === '6') return inc;
    if (Date.now() > end)
      throw new Error(
        `incident for ${name} not resolved after ${timeoutMs} ms (state ${inc?.state}); jobs: ${JSON.stringify(await rig.c.store.jobs.counts())}`,
      );
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The resolve did not wait for the coalescing window: each group's flush job is still waiting for its end. */
async function stillInWindow(flushes: { ordering_key: string; run_at: number }[]): Promise<void> {
  assert.equal(flushes.length, 2, `one coalesced-note flush per group: ${JSON.stringify(flushes)}`);
  const now = Date.now();
  for (const f of flushes) assert.ok(f.run_at > now, `resolved before the window of ${f.ordering_key} ended`);
}

for (const dialect of testDialects) {
  describe(`resolves go at once on ${dialect}`, () => {
    let rig: Rig;
    let hook: string;
    let hook60: string;
    before(async () => {
      rig = await startRig(dialect, fastDelivery());
      hook = (await putGroup(rig, 'am', [{ name: 'inc', ticketConfiguration: { WorkItemType: 'Incident', noteCoalesceSeconds: 600 } }])).webhookUrl;
      hook60 = (await putGroup(rig, 'am-60s', [{ name: 'inc', ticketConfiguration: { WorkItemType: 'Incident', noteCoalesceSeconds: 60 } }])).webhookUrl;
    });
    after(async () => rig.cleanup());

    it('resolves an Alertmanager group at once although occurrences are waiting for the coalescing window', async () => {
      const name = `NodeDown-${dialect}`;
      const group = (alerts: { fingerprint: string; instance: string; status?: 'firing' | 'resolved' }[]) =>
        alertmanagerGroup({ groupKey: `{}:{alertname="${name}"}`, alertname: name, alerts });
      await postHook(hook, group([{ fingerprint: 'a', instance: 'node-a' }]));
      await drained(rig.c);
      await postHook(
        hook,
        group([
          { fingerprint: 'a', instance: 'node-a' },
          { fingerprint: 'b', instance: 'node-a' },
        ]),
      );
      await drained(rig.c);
      await postHook(
        hook,
        group([
          { fingerprint: 'a', instance: 'node-a', status: 'resolved' },
          { fingerprint: 'b', instance: 'node-a' },
        ]),
      );
      await postHook(hook, group([{ fingerprint: 'b', instance: 'node-a', status: 'resolved' }]));
      const inc = await resolvedSoon(rig, name);
      const notes = await workNotes(rig.sandbox, inc.sys_id);
      assert.ok(
        notes.some((n) => /further alert event/i.test(n)),
        `the pending occurrences are folded into a note: ${JSON.stringify(notes)}`,
      );
    });

    it('resolves at once when the whole group resolves in one notification while a note waits', async () => {
      const name = `DiskFull-${dialect}`;
      const group = (alerts: { fingerprint: string; instance: string; status?: 'firing' | 'resolved' }[]) =>
        alertmanagerGroup({ groupKey: `{}:{alertname="${name}"}`, alertname: name, alerts });
      await postHook(hook, group([{ fingerprint: 'c', instance: 'node-c' }]));
      await drained(rig.c);
      await postHook(
        hook,
        group([
          { fingerprint: 'c', instance: 'node-c' },
          { fingerprint: 'd', instance: 'node-c' },
        ]),
      );
      await postHook(
        hook,
        group([
          { fingerprint: 'c', instance: 'node-c', status: 'resolved' },
          { fingerprint: 'd', instance: 'node-c', status: 'resolved' },
        ]),
      );
      await resolvedSoon(rig, name);
    });

    it('resolves two Alertmanager groups within seconds while each has a note pending in its 60 s window, folding the pending events into the resolve note', async (t) => {
      // Alertmanager with group_wait 1s and group_interval 2s: each group's first notification (the incident), then
      // one per interval as alerts join (re-fires on the same node: no new CI, so the note is coalesced and a flush
      // job waits for the end of the 60 s window), then the notification that resolves the whole group.
      const groups = ['NodeDown', 'DiskFull'].map((n) => `${n}-pair-${dialect}`);
      const earlier = new Set((await flushJobs(rig)).map((f) => f.ordering_key));
      const newFlushJobs = async () => (await flushJobs(rig)).filter((f) => !earlier.has(f.ordering_key));
      const alerts = (name: string, ids: string[], status?: 'resolved'): AmAlert[] =>
        ids.map((id) => ({ fingerprint: `${name}-${id}`, instance: 'node-1', ...(status ? { status } : {}) }));
      await Promise.all(groups.map((g) => notify(hook60, g, alerts(g, ['a']))));
      await drained(rig.c);
      await Promise.all(groups.map((g) => notify(hook60, g, alerts(g, ['a', 'b']))));
      for (const end = Date.now() + 10_000; (await newFlushJobs()).length < 2;) {
        if (Date.now() > end) throw new Error(`no coalesced note waiting: ${JSON.stringify(await flushJobs(rig))}`);
        await new Promise((r) => setTimeout(r, 25));
      }
      await Promise.all(groups.map((g) => notify(hook60, g, alerts(g, ['a', 'b', 'c']))));

      // The state the defect needs: per group one flush job not due before the window ends, no note written yet.
      const waiting = await newFlushJobs();
      assert.equal(waiting.length, 2, `one coalesced-note flush per group: ${JSON.stringify(waiting)}`);
      for (const f of waiting) assert.ok(f.run_at > Date.now() + 45_000, `the flush waits for the end of the 60 s window: due in ${f.run_at - Date.now()} ms`);
      const open = (await ourIncidents(rig.sandbox)).filter((i) => groups.some((g) => i.short_description.includes(g)));
      assert.equal(open.length, 2, `one incident per group: ${JSON.stringify(open)}`);
      for (const inc of open) {
        assert.equal(inc.state, '1', `${inc.number} is open`);
        assert.deepEqual(await workNotes(rig.sandbox, inc.sys_id), [], `${inc.number}: the re-fires wait in the coalescing window`);
      }

      const t0 = Date.now();
      await Promise.all(groups.map((g) => notify(hook60, g, alerts(g, ['a', 'b', 'c'], 'resolved'))));
      const resolved = await Promise.all(groups.map((g) => resolvedSoon(rig, g, 5_000)));
      t.diagnostic(`${dialect}: both incidents resolved ${Date.now() - t0} ms after the resolving notifications`);
      await stillInWindow(await newFlushJobs());

      const notesAtResolve = new Map<string, string[]>();
      for (const inc of resolved) {
        const notes = await workNotes(rig.sandbox, inc.sys_id);
        notesAtResolve.set(inc.sys_id, notes);
        // b and c fired, then a and b resolved while the window was open: four events, all in the one resolve note.
        assert.equal(notes.length, 1, `${inc.number}: one note, the resolve note: ${JSON.stringify(notes)}`);
        assert.match(notes[0], /^Alert resolved at /);
        assert.match(notes[0], /\n4 further alert events since \S+ folded into this note\./);
      }

      // The window ends (its flush jobs made due now): nothing is written after the resolve, no separate later note.
      const keys = waiting.map((f) => f.ordering_key);
      await storeInternals(rig.c.store)
        .db.updateTable('jobs')
        .set({ run_at: Date.now() })
        .where('kind', '=', 'flush')
        .where('ordering_key', 'in', keys)
        .execute();
      const end = Date.now() + 10_000;
      const left = async () =>
        (
          await storeInternals(rig.c.store)
            .db.selectFrom('jobs')
            .select('id')
            .where('ordering_key', 'in', keys)
            .where('state', 'in', ['pending', 'running'])
            .execute()
        ).length;
      while ((await left()) > 0) {
        if (Date.now() > end) throw new Error(`queue not empty: ${JSON.stringify(await rig.c.store.jobs.counts())}`);
        await new Promise((r) => setTimeout(r, 25));
      }
      for (const inc of resolved) {
        assert.deepEqual(await workNotes(rig.sandbox, inc.sys_id), notesAtResolve.get(inc.sys_id), `${inc.number}: no note after the resolve`);
        const [after] = (await ourIncidents(rig.sandbox)).filter((i) => i.sys_id === inc.sys_id);
        assert.equal(after.state, '6', `${inc.number} stays resolved`);
      }
    });

    it('resolves two groups sent by a real Alertmanager (group_wait 1s, group_interval 2s) within seconds, with notes pending in their 60 s windows', async (t) => {
      const am = await startAlertmanager(hook60, { groupWait: '1s', groupInterval: '2s' });
      try {
        const groups = ['NodeDown', 'DiskFull'].map((n) => `Am${n}-${dialect}`);
        const earlier = new Set((await flushJobs(rig)).map((f) => f.ordering_key));
        const started = new Map<string, string>();
        // As Prometheus sends them: every firing alert again with an end in the future; a resolved one with its end.
        const alerts = (devices: string[], endsAt: string): AmAlertInput[] =>
          groups.flatMap((g) =>
            devices.map((d) => {
              const key = `${g}/${d}`;
              if (!started.has(key)) started.set(key, new Date().toISOString());
              return { labels: { alertname: g, instance: 'node-1', device: d, severity: 'critical' }, startsAt: started.get(key)!, endsAt };
            }),
          );
        const firing = () => new Date(Date.now() + 5 * 60_000).toISOString();
        const ours = async () => (await ourIncidents(rig.sandbox)).filter((i) => groups.some((g) => i.short_description.includes(g)));

        await am.push(alerts(['d1'], firing()));
        await eventually('one incident per group', async () => ((await ours()).length === 2 ? true : undefined), 20_000, 100);
        // A second alert joins each group: its notification is a re-fire on the same node, coalesced into the window.
        await am.push(alerts(['d1', 'd2'], firing()));
        const newFlushJobs = async () => (await flushJobs(rig)).filter((f) => !earlier.has(f.ordering_key));
        await eventually('a coalesced note waiting in each group', async () => ((await newFlushJobs()).length === 2 ? true : undefined), 20_000, 100);
        for (const inc of await ours()) {
          assert.equal(inc.state, '1', `${inc.number} is open`);
          assert.deepEqual(await workNotes(rig.sandbox, inc.sys_id), [], `${inc.number}: the re-fire waits in the coalescing window`);
        }

        const resolvedAt = Date.now();
        await am.push(alerts(['d1', 'd2'], new Date(resolvedAt).toISOString()));
        const resolved = await Promise.all(groups.map((g) => resolvedSoon(rig, g, 15_000)));
        t.diagnostic(`${dialect}: both incidents resolved ${Date.now() - resolvedAt} ms after Alertmanager was told (its group_interval is 2 s)`);
        await stillInWindow(await newFlushJobs());
        for (const inc of resolved) {
          const notes = await workNotes(rig.sandbox, inc.sys_id);
          assert.equal(notes.length, 1, `${inc.number}: one note, the resolve note: ${JSON.stringify(notes)}`);
          assert.match(notes[0], /^Alert resolved at /);
          assert.match(notes[0], /\n\d+ further alert events? since \S+ folded into this note\./);
        }
      } catch (err) {
        throw new Error(`${String(err)}\nAlertmanager said:\n${am.log().slice(-3000)}`, { cause: err });
      } finally {
        await am.stop();
      }
    });
  });
}
