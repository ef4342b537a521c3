import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { LogRow, MonitorCondition } from '../core/alert.ts';
import type { Decision, LinkState, NewLinkState } from './grouping.ts';
import { correlationKeyFor, decide, dedupKeyFor, expandAlert, flushPending, MAX_UNITS_PER_ALERT } from './grouping.ts';
import { mkAlert, mkCfg, mkLink } from './testkit.ts';

const NOW = '2024-01-01T10:00:00.000Z';
const ACTION = 'action-1';

function unitOf(p: Parameters<typeof mkAlert>[0] = {}, cfg = mkCfg()) {
  return expandAlert(mkAlert(p), cfg, ACTION)[0];
}

/** Apply a decision's next state like the delivery engine would (partner ids for creates). */
function apply(d: Decision, link: LinkState | null, n = 1): LinkState | null {
  if (d.kind === 'create' || d.kind === 'create-new') {
    const next: NewLinkState = d.next;
    return { ...next, workItem: { type: d.draft.type, id: `sys${n}`, number: `INC00${n}`, closed: false } };
  }
  return d.next ?? link;
}

describe('expandAlert: work units and keys', () => {
  it('makes one unit with all CIs and rows by default', () => {
    const units = expandAlert(mkAlert({ configurationItems: ['a', 'b'] }), mkCfg(), ACTION);
    assert.equal(units.length, 1);
    assert.deepEqual(units[0].cis, ['a', 'b']);
    assert.equal(units[0].ci, undefined);
    assert.equal(units[0].instanceKey, 'alert-1');
  });

  it('makes one unit per CI with CreateOneWIPerCI, each with its own dedup key and rows', () => {
    const rows = [
      { Computer: 'a', v: 1 },
      { Computer: 'B', v: 2 },
      { Computer: 'a', v: 3 },
    ];
    const alert = mkAlert({ configurationItems: ['a', 'b'], logSearch: { rows } });
    const units = expandAlert(alert, mkCfg({ CreateOneWIPerCI: true }), ACTION);
    assert.deepEqual(
      units.map((u) => [u.ci, u.cis, u.rows.length]),
      [
        ['a', ['a'], 2],
        ['b', ['b'], 1],
      ],
    );
    assert.notEqual(units[0].dedupKey, units[1].dedupKey);
  });

  it('falls back to one unit keyed by rule when CreateOneWIPerCI meets an alert without CIs', () => {
    const units = expandAlert(mkAlert({ configurationItems: [] }), mkCfg({ CreateOneWIPerCI: true }), ACTION);
    assert.equal(units.length, 1);
    assert.equal(units[0].dedupKey, dedupKeyFor(ACTION, mkAlert()));
  });

  it('makes one unit per log row with CreateOneWIPerLog, the row CI from Computer/_ResourceId', () => {
    const rows: LogRow[] = [
      { Computer: 'vm-a', n: 1 },
      { _ResourceId: '/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm-b', n: 2 },
      { n: 3 },
    ];
    const units = expandAlert(mkAlert({ logSearch: { rows } }), mkCfg({ CreateOneWIPerLog: true }), ACTION);
    assert.deepEqual(
      units.map((u) => [u.ci, u.cis, u.rowIndex, u.row]),
      [
        ['vm-a', ['vm-a'], 0, rows[0]],
        ['vm-b', ['vm-b'], 1, rows[1]],
        [undefined, [], 2, rows[2]],
      ],
    );
    assert.equal(new Set(units.map((u) => u.dedupKey)).size, 3);
  });

  it('gives the same row the same key in the next evaluation, whatever the column order', () => {
    const cfg = mkCfg({ CreateOneWIPerLog: true });
    const k1 = expandAlert(mkAlert({ alertId: 'x', logSearch: { rows: [{ Computer: 'a', n: 1 }] } }), cfg, ACTION)[0].dedupKey;
    const k2 = expandAlert(mkAlert({ alertId: 'y', logSearch: { rows: [{ n: 1, Computer: 'a' }] } }), cfg, ACTION)[0].dedupKey;
    assert.equal(k1, k2);
  });

  it('makes one unit when CreateOneWIPerLog meets an alert without rows', () => {
    assert.equal(expandAlert(mkAlert(), mkCfg({ CreateOneWIPerLog: true }), ACTION).length, 1);
  });

  it(`caps the units of one alert at ${MAX_UNITS_PER_ALERT}`, () => {
    const rows = Array.from({ length: 1000 }, (_, i) => ({ Computer: `vm-${i}` }));
    assert.equal(expandAlert(mkAlert({ logSearch: { rows } }), mkCfg({ CreateOneWIPerLog: true }), ACTION).length, MAX_UNITS_PER_ALERT);
  });

  it('keys Alertmanager alerts by group key, not rule', () => {
    const a = mkAlert({ rule: 'A', groupKey: '{}:{alertname="A"}' });
    const b = mkAlert({ rule: 'B', groupKey: '{}:{alertname="A"}' });
    assert.equal(dedupKeyFor(ACTION, a), dedupKeyFor(ACTION, b));
    assert.notEqual(dedupKeyFor(ACTION, a), dedupKeyFor(ACTION, mkAlert({ rule: 'A' })));
  });

  it('separates keys by action and by rule, and matches CIs case-insensitively', () => {
    const a = mkAlert();
    assert.notEqual(dedupKeyFor('x', a), dedupKeyFor('y', a));
    assert.notEqual(dedupKeyFor('x', a), dedupKeyFor('x', mkAlert({ rule: 'Other' })));
    assert.equal(dedupKeyFor('x', a, { ci: 'VM-1' }), dedupKeyFor('x', a, { ci: 'vm-1' }));
  });

  it('cannot be forged by separators inside names', () => {
    assert.notEqual(dedupKeyFor('a","rule', mkAlert({ rule: 'x' })), dedupKeyFor('a', mkAlert({ rule: 'rule","x' })));
  });

  it('derives a short, stable correlation key, with a generation suffix after a close', () => {
    const k = correlationKeyFor('some key');
    assert.match(k, /^oitsmc:[a-z2-7]{32}$/);
    assert.equal(k, correlationKeyFor('some key'));
    assert.notEqual(k, correlationKeyFor('some key '));
    assert.equal(correlationKeyFor('some key', 3), `${k}-3`);
    assert.ok(correlationKeyFor('x'.repeat(10_000), 999_999).length <= 100);
  });

  it('uses the alert instance key when ingestion set one', () => {
    assert.equal(unitOf({ instanceKey: 'resourcehealth:/x' }).instanceKey, 'resourcehealth:/x');
  });
});

describe('decide: the decision table (DECISIONS.md)', () => {
  const cfg = mkCfg();

  it('row 1: ignores a Resolved for a key without a work item', () => {
    const d = decide(unitOf({ monitorCondition: 'Resolved' }), null, cfg, NOW);
    assert.deepEqual([d.kind, d.kind === 'ignore' && d.reason, d.kind === 'ignore' && d.next], ['ignore', 'no-open-work-item', null]);
  });

  it('row 2: creates a work item for a first firing, with title, description, CIs and correlation key', () => {
    const u = unitOf();
    const d = decide(u, null, cfg, NOW);
    assert.equal(d.kind, 'create');
    if (d.kind !== 'create') return;
    assert.equal(d.correlationKey, u.correlationKey);
    assert.equal(d.draft.correlationKey, u.correlationKey);
    assert.equal(d.draft.type, 'Incident');
    assert.equal(d.draft.title, '[Sev2] High CPU on vm-1');
    assert.match(d.draft.description, /^Alert rule: High CPU\nSeverity: Sev2\nCondition: Fired\nFired at \(UTC\): 2024-01-01T10:00:00.000Z/);
    assert.deepEqual(d.draft.ciNames, ['vm-1']);
    assert.deepEqual(d.draft.fields, { impact: '2', urgency: '2' });
    assert.deepEqual(d.next, {
      lastAlertId: 'alert-1',
      lastCondition: 'Fired',
      lastNoteAt: NOW,
      pendingOccurrences: 0,
      cis: ['vm-1'],
      generation: 0,
      firing: ['alert-1'],
      seen: ['Fired:alert-1'],
    });
  });

  it('row 3: ignores a redelivery (same alert id and condition as the last event)', () => {
    const link = mkLink({ lastAlertId: 'alert-1', lastCondition: 'Fired', seen: [] });
    const d = decide(unitOf(), link, cfg, NOW);
    assert.deepEqual([d.kind, d.kind === 'ignore' && d.reason, d.kind === 'ignore' && d.next], ['ignore', 'redelivery', null]);
  });

  it('row 3: ignores a redelivery of an earlier event that is no longer the last one', () => {
    const link = mkLink({ lastAlertId: 'alert-9', seen: ['Fired:alert-1', 'Resolved:alert-1', 'Fired:alert-9'], firing: ['alert-9'] });
    for (const c of ['Fired', 'Resolved'] as MonitorCondition[]) {
      const d = decide(unitOf({ monitorCondition: c }), link, cfg, NOW);
      assert.equal(d.kind === 'ignore' && d.reason, 'redelivery', c);
    }
  });

  it('row 3: ignores a redelivery even when the work item is closed', () => {
    const link = mkLink({ lastAlertId: 'alert-1', workItem: { ...mkLink().workItem, closed: true }, closedAt: NOW });
    assert.equal(decide(unitOf(), link, cfg, NOW).kind, 'ignore');
  });

  it('row 4: ignores a Fired that arrives after the same alert resolved (out of order)', () => {
    const link = mkLink({ lastAlertId: 'alert-2', seen: ['Resolved:alert-1', 'Fired:alert-2'] });
    const d = decide(unitOf(), link, cfg, NOW);
    assert.equal(d.kind === 'ignore' && d.reason, 'stale');
  });

  it('row 5: ignores an Alertmanager repeat notification of a still-firing alert', () => {
    const link = mkLink({ lastAlertId: 'other', firing: ['fp1@t', 'other'], seen: [] });
    const d = decide(unitOf({ alertId: 'fp1@t', groupKey: 'g' }), link, cfg, NOW);
    assert.equal(d.kind === 'ignore' && d.reason, 'redelivery');
  });

  it('row 6: ignores a Resolved when the work item is already closed, and forgets the instance', () => {
    const link = mkLink({ workItem: { ...mkLink().workItem, closed: true }, closedAt: NOW, firing: ['alert-1', 'x'] });
    const d = decide(unitOf({ monitorCondition: 'Resolved' }), link, cfg, NOW);
    assert.equal(d.kind === 'ignore' && d.reason, 'no-open-work-item');
    assert.deepEqual(d.kind === 'ignore' && d.next?.firing, ['x']);
  });

  it('row 7: reopens a work item closed within the reopen window, appending new CIs', () => {
    const closedAt = '2024-01-01T09:30:00.000Z';
    const link = mkLink({ workItem: { ...mkLink().workItem, closed: true }, closedAt, cis: ['vm-0'] });
    const d = decide(unitOf(), link, mkCfg({ reopenWindow: 'PT1H' }), NOW);
    assert.equal(d.kind, 'reopen');
    if (d.kind !== 'reopen') return;
    assert.deepEqual(d.addCis, ['vm-1']);
    assert.match(
      d.note,
      /^Reopened by OpenITSMC: the alert fired again at 2024-01-01T10:00:00.000Z \(Sev2\): High CPU on vm-1, within the reopen window after closing at 2024-01-01T09:30:00.000Z\./,
    );
    assert.equal(d.next.workItem.closed, false);
    assert.equal(d.next.closedAt, undefined);
    assert.deepEqual(d.next.cis, ['vm-0', 'vm-1']);
    assert.deepEqual(d.next.firing, ['alert-1']);
    assert.equal(d.correlationKey, correlationKeyFor(d.dedupKey, 0));
  });

  it('row 7: the reopen window is inclusive at its end', () => {
    const link = mkLink({ workItem: { ...mkLink().workItem, closed: true }, closedAt: '2024-01-01T09:00:00.000Z' });
    assert.equal(decide(unitOf(), link, mkCfg({ reopenWindow: 3600 }), NOW).kind, 'reopen');
    assert.equal(decide(unitOf(), link, mkCfg({ reopenWindow: 3599 }), NOW).kind, 'create-new');
  });

  it('row 8: creates a new work item (next generation) when closed outside the window', () => {
    const link = mkLink({ workItem: { ...mkLink().workItem, closed: true }, closedAt: '2023-12-01T00:00:00.000Z', generation: 2, cis: ['old'] });
    const u = unitOf();
    const d = decide(u, link, mkCfg({ reopenWindow: 'P1D' }), NOW);
    assert.equal(d.kind, 'create-new');
    if (d.kind !== 'create-new') return;
    assert.equal(d.correlationKey, correlationKeyFor(u.dedupKey, 3));
    assert.equal(d.draft.correlationKey, d.correlationKey);
    assert.notEqual(d.correlationKey, u.correlationKey);
    assert.deepEqual(d.previous, link.workItem);
    assert.equal(d.next.generation, 3);
    assert.deepEqual(d.next.cis, ['vm-1']);
    assert.deepEqual(d.next.firing, ['alert-1']);
    assert.ok(!('workItem' in d.next) && !('closedAt' in d.next));
  });

  it('row 8: never reopens with the default window 0', () => {
    const link = mkLink({ workItem: { ...mkLink().workItem, closed: true }, closedAt: NOW });
    assert.equal(decide(unitOf(), link, cfg, NOW).kind, 'create-new');
  });

  it('row 8: creates new when closed at an unknown time even with a window', () => {
    const link = mkLink({ workItem: { ...mkLink().workItem, closed: true } });
    assert.equal(decide(unitOf(), link, mkCfg({ reopenWindow: 'P90D' }), NOW).kind, 'create-new');
  });

  it('row 9: ignores resolves with autoResolve none, but tracks them', () => {
    const link = mkLink({ firing: ['alert-1'] });
    const d = decide(unitOf({ monitorCondition: 'Resolved' }), link, mkCfg({ autoResolve: { mode: 'none' } }), NOW);
    assert.equal(d.kind === 'ignore' && d.reason, 'auto-resolve-off');
    assert.deepEqual(d.kind === 'ignore' && d.next?.firing, []);
    assert.equal(d.kind === 'ignore' && d.next?.lastCondition, 'Resolved');
  });

  it('row 10: resolves the work item when the last firing alert resolves (default mode)', () => {
    const link = mkLink({ firing: ['alert-1'] });
    const u = unitOf({ monitorCondition: 'Resolved', resolvedAt: '2024-01-01T09:59:00.000Z' });
    const d = decide(
      u,
      link,
      mkCfg({
        autoResolve: { mode: 'resolve', state: '6', closeCode: 'Solution provided', closeNotes: 'Cleared: {{alert.rule}} on {{alert.configurationItems}}' },
      }),
      NOW,
    );
    assert.equal(d.kind, 'resolve');
    if (d.kind !== 'resolve') return;
    assert.equal(d.mode, 'resolve');
    assert.deepEqual(d.resolve, { state: '6', closeCode: 'Solution provided', closeNotes: 'Cleared: High CPU on vm-1' });
    assert.match(d.note, /^Alert resolved at 2024-01-01T09:59:00.000Z: High CPU on vm-1\.\nResolved automatically by OpenITSMC/);
    assert.equal(d.next.workItem.closed, true);
    assert.equal(d.next.closedAt, NOW);
    assert.deepEqual(d.next.firing, []);
  });

  it('row 10: resolves with a default close note when the action has none', () => {
    const d = decide(unitOf({ monitorCondition: 'Resolved' }), mkLink({ firing: ['alert-1'] }), cfg, NOW);
    assert.equal(d.kind === 'resolve' && d.resolve?.closeNotes, 'Alert "High CPU" resolved at 2024-01-01T10:00:00.000Z; resolved automatically by OpenITSMC.');
  });

  it('row 10: resolves a link without firing tracking when its last event was that firing', () => {
    const link = mkLink({ firing: undefined, seen: undefined, lastAlertId: 'alert-1', lastCondition: 'Fired' });
    // Same alert id, other condition: not a redelivery.
    assert.equal(decide(unitOf({ monitorCondition: 'Resolved' }), link, cfg, NOW).kind, 'resolve');
  });

  it('row 10: resolves health alerts whose Resolved has its own alert id, via the instance key', () => {
    const fired = unitOf({ alertId: 'ev-1', instanceKey: 'resourcehealth:/vm' });
    const created = decide(fired, null, cfg, NOW);
    const link = apply(created, null);
    const resolved = unitOf({ alertId: 'ev-2', instanceKey: 'resourcehealth:/vm', monitorCondition: 'Resolved' });
    assert.equal(decide(resolved, link, cfg, '2024-01-01T10:20:00Z').kind, 'resolve');
  });

  it('row 11: only notes the resolve with autoResolve note, leaving the work item open', () => {
    const d = decide(unitOf({ monitorCondition: 'Resolved' }), mkLink({ firing: ['alert-1'] }), mkCfg({ autoResolve: { mode: 'note' } }), NOW);
    assert.equal(d.kind, 'resolve');
    if (d.kind !== 'resolve') return;
    assert.equal(d.mode, 'note');
    assert.equal(d.resolve, undefined);
    assert.match(d.note, /left open/);
    assert.equal(d.next.workItem.closed, false);
  });

  it('row 12: notes a partial resolve while other alerts of the key still fire', () => {
    const link = mkLink({ firing: ['alert-1', 'alert-2'] });
    const d = decide(unitOf({ monitorCondition: 'Resolved' }), link, cfg, NOW);
    assert.equal(d.kind, 'update');
    if (d.kind !== 'update') return;
    assert.match(d.note ?? '', /1 alert still firing for this work item; it stays open\./);
    assert.deepEqual(d.next.firing, ['alert-2']);
    assert.equal(d.next.workItem.closed, false);
  });

  it('row 13: folds a firing within the coalescing window into the pending count (no partner call)', () => {
    const link = mkLink({ lastNoteAt: '2024-01-01T09:59:30.000Z' });
    const d = decide(unitOf(), link, cfg, NOW);
    assert.equal(d.kind, 'update');
    if (d.kind !== 'update') return;
    assert.equal(d.note, null);
    assert.equal(d.coalesced, true);
    assert.deepEqual(d.addCis, []);
    assert.equal(d.flushAt, '2024-01-01T10:00:30.000Z');
    assert.equal(d.next.pendingOccurrences, 1);
    assert.equal(d.next.pendingSince, NOW);
    assert.deepEqual(d.next.pendingLatest, { alertId: 'alert-1', condition: 'Fired', at: '2024-01-01T10:00:00.000Z' });
    assert.equal(d.next.lastNoteAt, link.lastNoteAt);
  });

  it('row 13: a new CI is sent at once even inside the coalescing window, folding what was pending', () => {
    const link = mkLink({ lastNoteAt: '2024-01-01T09:59:30.000Z', pendingOccurrences: 4, pendingSince: '2024-01-01T09:59:40.000Z', cis: ['vm-0'] });
    const d = decide(unitOf(), link, cfg, NOW);
    assert.equal(d.kind === 'update' && d.coalesced, false);
    if (d.kind !== 'update') return;
    assert.deepEqual(d.addCis, ['vm-1']);
    assert.match(d.note ?? '', /New configuration items: vm-1/);
    assert.match(d.note ?? '', /4 further alert events since 2024-01-01T09:59:40.000Z folded into this note\./);
    assert.equal(d.next.pendingOccurrences, 0);
  });

  it('row 14: adds one work note for a new firing of an open work item', () => {
    const d = decide(unitOf(), mkLink(), cfg, NOW);
    assert.equal(d.kind, 'update');
    if (d.kind !== 'update') return;
    assert.equal(d.coalesced, false);
    assert.match(d.note ?? '', /^Alert fired again at 2024-01-01T10:00:00.000Z \(Sev2\): High CPU on vm-1\./);
    assert.deepEqual(d.addCis, []);
    assert.deepEqual(d.next.firing, ['alert-0', 'alert-1']);
    assert.equal(d.next.lastNoteAt, NOW);
  });

  it('row 14: with noteCoalesceSeconds 0 every occurrence gets its own note', () => {
    const d = decide(unitOf(), mkLink({ lastNoteAt: NOW }), mkCfg({ noteCoalesceSeconds: 0 }), NOW);
    assert.equal(d.kind === 'update' && d.coalesced, false);
  });

  it('row 14: ignores CI case differences when appending', () => {
    const d = decide(unitOf({ configurationItems: ['VM-1', 'vm-2'] }), mkLink(), cfg, NOW);
    assert.deepEqual(d.kind === 'update' && d.addCis, ['vm-2']);
  });
});

describe('decide: exhaustive matrix of link state × condition × autoResolve', () => {
  type LinkKind = 'none' | 'open' | 'open-others-firing' | 'closed-in-window' | 'closed-outside' | 'closed-unknown-time';
  const links: Record<LinkKind, LinkState | null> = {
    none: null,
    open: mkLink({ firing: ['alert-1'], lastNoteAt: '2024-01-01T08:00:00.000Z' }),
    'open-others-firing': mkLink({ firing: ['alert-1', 'alert-7'], lastNoteAt: '2024-01-01T08:00:00.000Z' }),
    'closed-in-window': mkLink({ workItem: { ...mkLink().workItem, closed: true }, closedAt: '2024-01-01T09:50:00.000Z' }),
    'closed-outside': mkLink({ workItem: { ...mkLink().workItem, closed: true }, closedAt: '2024-01-01T08:00:00.000Z' }),
    'closed-unknown-time': mkLink({ workItem: { ...mkLink().workItem, closed: true } }),
  };
  // expected[link][condition][mode] = decision kind (/ mode / reason)
  const expected: Record<LinkKind, Record<MonitorCondition, Record<'resolve' | 'note' | 'none', string>>> = {
    none: {
      Fired: { resolve: 'create', note: 'create', none: 'create' },
      Resolved: { resolve: 'ignore/no-open-work-item', note: 'ignore/no-open-work-item', none: 'ignore/no-open-work-item' },
    },
    open: {
      Fired: { resolve: 'update', note: 'update', none: 'update' },
      Resolved: { resolve: 'resolve/resolve', note: 'resolve/note', none: 'ignore/auto-resolve-off' },
    },
    'open-others-firing': {
      Fired: { resolve: 'update', note: 'update', none: 'update' },
      Resolved: { resolve: 'update', note: 'update', none: 'ignore/auto-resolve-off' },
    },
    'closed-in-window': {
      Fired: { resolve: 'reopen', note: 'reopen', none: 'reopen' },
      Resolved: { resolve: 'ignore/no-open-work-item', note: 'ignore/no-open-work-item', none: 'ignore/no-open-work-item' },
    },
    'closed-outside': {
      Fired: { resolve: 'create-new', note: 'create-new', none: 'create-new' },
      Resolved: { resolve: 'ignore/no-open-work-item', note: 'ignore/no-open-work-item', none: 'ignore/no-open-work-item' },
    },
    'closed-unknown-time': {
      Fired: { resolve: 'create-new', note: 'create-new', none: 'create-new' },
      Resolved: { resolve: 'ignore/no-open-work-item', note: 'ignore/no-open-work-item', none: 'ignore/no-open-work-item' },
    },
  };
  const describeDecision = (d: Decision): string => (d.kind === 'ignore' ? `ignore/${d.reason}` : d.kind === 'resolve' ? `resolve/${d.mode}` : d.kind);

  for (const [lk, link] of Object.entries(links) as Array<[LinkKind, LinkState | null]>) {
    for (const cond of ['Fired', 'Resolved'] as MonitorCondition[]) {
      for (const mode of ['resolve', 'note', 'none'] as const) {
        const want = expected[lk][cond][mode];
        it(`${lk} + ${cond} + autoResolve ${mode} → ${want}; the same event again → ignore/redelivery`, () => {
          const cfg = mkCfg({ autoResolve: { mode }, reopenWindow: 'PT30M' });
          // A Fired is a new alert of the key; a Resolved clears alert-1, which the open links have firing.
          const u = unitOf({ monitorCondition: cond, alertId: cond === 'Fired' ? 'alert-new' : 'alert-1' });
          const d = decide(u, link, cfg, NOW);
          assert.equal(describeDecision(d), want);
          // Feeding the same event to the resulting state is always a no-op.
          const after = apply(d, link);
          if (after) assert.equal(describeDecision(decide(u, after, cfg, NOW)), 'ignore/redelivery');
        });
      }
    }
  }
});

describe('decide: scenarios', () => {
  it('an alert storm on one key costs one create and few notes; flushPending writes what was folded', () => {
    const cfg = mkCfg({ noteCoalesceSeconds: 60 });
    let link: LinkState | null = null;
    let calls = 0;
    const t0 = Date.parse(NOW);
    for (let i = 0; i < 1000; i++) {
      const u = unitOf({ alertId: `a-${i}`, firedAt: new Date(t0 + i * 100).toISOString() });
      const d = decide(u, link, cfg, t0 + i * 100); // 1000 alerts over 100 s
      if (d.kind === 'create' || (d.kind === 'update' && d.note !== null)) calls++;
      link = apply(d, link);
    }
    assert.equal(calls, 2, 'create at 0 s, one note at 60 s');
    assert.ok(link && link.pendingOccurrences > 0);
    assert.equal(flushPending(link, cfg, t0 + 100_000), null, 'window still open');
    const flushed = flushPending(link, cfg, t0 + 200_000);
    assert.ok(flushed);
    assert.match(flushed.note, /^\d+ further alert events since /);
    assert.equal(flushed.next.pendingOccurrences, 0);
    assert.equal(flushPending(flushed.next, cfg, t0 + 300_000), null, 'nothing left');
  });

  it('an Alertmanager group: two alerts fire, repeats are ignored, the work item resolves when both resolved', () => {
    const cfg = mkCfg({ noteCoalesceSeconds: 0 });
    const am = (fp: string, status: MonitorCondition) =>
      unitOf({ family: 'alertmanager-v4', groupKey: 'g', rule: 'DiskFull', alertId: `${fp}@t0`, monitorCondition: status, configurationItems: [fp] });
    const steps: Array<[string, MonitorCondition, string]> = [
      ['db1', 'Fired', 'create'],
      ['db2', 'Fired', 'update'],
      ['db1', 'Fired', 'ignore'], // repeat_interval re-send
      ['db2', 'Fired', 'ignore'],
      ['db1', 'Resolved', 'update'], // db2 still firing
      ['db1', 'Resolved', 'ignore'],
      ['db2', 'Resolved', 'resolve'],
      ['db2', 'Resolved', 'ignore'],
    ];
    let link: LinkState | null = null;
    steps.forEach(([fp, status, want], i) => {
      const d = decide(am(fp, status), link, cfg, Date.parse(NOW) + i * 1000);
      assert.equal(d.kind, want, `step ${i}: ${fp} ${status}`);
      link = apply(d, link);
    });
    assert.deepEqual(link!.cis, ['db1', 'db2']);
  });

  it('flapping: resolve, then fire again within the reopen window reopens the same work item', () => {
    const cfg = mkCfg({ reopenWindow: 'PT10M' });
    let link: LinkState | null = null;
    const seq: Array<[string, MonitorCondition, number, string]> = [
      ['x1', 'Fired', 0, 'create'],
      ['x1', 'Resolved', 60, 'resolve'],
      ['x2', 'Fired', 120, 'reopen'],
      ['x2', 'Resolved', 180, 'resolve'],
      ['x3', 'Fired', 3600, 'create-new'],
    ];
    for (const [id, c, s, want] of seq) {
      const d = decide(unitOf({ alertId: id, monitorCondition: c }), link, cfg, Date.parse(NOW) + s * 1000);
      assert.equal(d.kind, want, `${id} ${c}`);
      link = apply(d, link);
    }
    assert.equal(link!.generation, 1);
  });

  it('service health: update communications for one tracking id are occurrences, the resolved stage resolves', () => {
    const cfg = mkCfg({ noteCoalesceSeconds: 0 });
    let link: LinkState | null = null;
    const mk = (id: string, c: MonitorCondition) =>
      unitOf({ alertId: id, instanceKey: 'servicehealth:abc', monitorCondition: c, family: 'azure-common-servicehealth' });
    for (const [u, want] of [
      [mk('e1', 'Fired'), 'create'],
      [mk('e2', 'Fired'), 'update'],
      [mk('e3', 'Resolved'), 'resolve'],
    ] as const) {
      const d = decide(u, link, cfg, NOW);
      assert.equal(d.kind, want);
      link = apply(d, link);
    }
  });
});

describe('decide: the work item draft', () => {
  it('renders WorkItemData placeholders and maps severity to impact/urgency for incidents', () => {
    const cfg = mkCfg({
      WorkItemData: { category: 'software', assignment_group: '{{alert.labels.team}}', short_description: '{{alert.rule}} ({{alert.severity}})' },
    });
    const d = decide(unitOf({ severity: 'Sev0' }), null, cfg, NOW);
    assert.deepEqual(d.kind === 'create' && d.draft.fields, {
      category: 'software',
      assignment_group: 'ops',
      short_description: 'High CPU (Sev0)',
      impact: '1',
      urgency: '1',
    });
  });

  it("accepts ITSMC's WorkItemData JSON string and lets it override the mapping", () => {
    const cfg = mkCfg({ WorkItemData: '{"contact_type":"email","impact":"3","urgency":"2"}' });
    const d = decide(unitOf({ severity: 'Sev0' }), null, cfg, NOW);
    assert.deepEqual(d.kind === 'create' && d.draft.fields, { contact_type: 'email', impact: '3', urgency: '2' });
  });

  it('leaves impact/urgency to the template unless the action set a mapping', () => {
    const t = mkCfg({ UseTemplate: true, TemplateName: 'Azure VM' });
    const d1 = decide(unitOf(), null, t, NOW);
    assert.deepEqual(d1.kind === 'create' && [d1.draft.fields, d1.draft.templateName], [{}, 'Azure VM']);
    const t2 = mkCfg({ UseTemplate: true, TemplateName: 'Azure VM', severityMapping: { Sev2: { impact: '3', urgency: '3' } } });
    const d2 = decide(unitOf(), null, t2, NOW);
    assert.deepEqual(d2.kind === 'create' && d2.draft.fields, { impact: '3', urgency: '3' });
  });

  it("gives Event work items the partner scale's event severity and no impact/urgency", () => {
    const scale = (s: string, c: string) => (c === 'Resolved' ? '0' : String(Number(s.slice(3)) + 1));
    const d = decide(unitOf({ severity: 'Sev1' }), null, mkCfg({ WorkItemType: 'Event' }), NOW, { eventSeverity: scale });
    assert.deepEqual(d.kind === 'create' && [d.draft.type, d.draft.eventSeverity, d.draft.fields], ['Event', '2', {}]);
  });

  it('puts the log row into per-row work items and {{row.X}} into fields', () => {
    const rows = [{ Computer: 'vm-a', Disk: 'C:', Free: 3.5 }];
    const cfg = mkCfg({ CreateOneWIPerLog: true, WorkItemType: 'Event', WorkItemData: { resource: '{{row.Disk}}', node: '{{row.computer}}' } });
    const u = expandAlert(mkAlert({ family: 'azure-common-logsearch', logSearch: { query: 'Perf', rows } }), cfg, ACTION)[0];
    const d = decide(u, null, cfg, NOW);
    assert.equal(d.kind, 'create');
    if (d.kind !== 'create') return;
    assert.deepEqual(d.draft.fields, { resource: 'C:', node: 'vm-a' });
    assert.match(d.draft.description, /<-- Log Entry -->\nComputer: vm-a\nDisk: C:\nFree: 3.5/);
    assert.equal(d.draft.title, '[Sev2] High CPU on vm-a');
  });

  it('rejects an invalid processing time loudly (programming error)', () => {
    assert.throws(() => decide(unitOf(), null, mkCfg(), 'not a time'), RangeError);
  });
});
