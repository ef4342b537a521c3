/**
 * Fuzz: thousands of random and hostile payloads (random JSON trees with `__proto__`/`constructor`/`prototype`
 * keys, deep nesting, huge strings, wrong types, and mutations of the golden fixtures). parseAlertPayload must
 * either return well-formed alerts or throw IngestError — nothing else — and must never pollute Object.prototype.
 * Deterministic (seeded PRNG).
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { NormalizedAlert } from '../core/alert.ts';
import { parseAlertPayload } from './detect.ts';
import { IngestError } from './errors.ts';
import { seededRandom } from '../core/random.ts';

const HOSTILE_KEYS = ['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'valueOf', '__defineGetter__'];
const KEYS = [
  'schemaId',
  'SchemaId',
  'data',
  'Data',
  'essentials',
  'alertContext',
  'alertRule',
  'alertId',
  'severity',
  'monitorCondition',
  'firedDateTime',
  'alertTargetIDs',
  'configurationItems',
  'version',
  'alerts',
  'status',
  'labels',
  'annotations',
  'groupKey',
  'startsAt',
  'endsAt',
  'fingerprint',
  'context',
  'activityLog',
  'AlertRuleName',
  'SearchQuery',
  'SearchResult',
  'tables',
  'columns',
  'rows',
  'name',
  'condition',
  'allOf',
  'dimensions',
  'properties',
  'orgId',
  'state',
  ...HOSTILE_KEYS,
];
const STRINGS = [
  'azureMonitorCommonAlertSchema',
  'AzureMonitorMetricAlert',
  'Microsoft.Insights/activityLogs',
  'Microsoft.Insights/LogAlert',
  '4',
  '1',
  'firing',
  'resolved',
  'Fired',
  'Resolved',
  'Activated',
  'Sev0',
  'Sev9',
  'critical',
  '',
  ' ',
  '0001-01-01T00:00:00Z',
  '3/22/2019 1:36:31 PM',
  '2024-02-30T00:00:00Z',
  '/subscriptions/x/providers/a/b/c',
  '{{alert.rule}}',
  '\u0000\uD800',
  '😀👩‍👩‍👧',
  '__proto__',
  'PrimaryResult',
  'Computer',
  '_ResourceId',
];

function randomValue(r: () => number, depth: number): unknown {
  const k = r();
  if (depth > 6 || k < 0.35) {
    const s = r();
    if (s < 0.2) return null;
    if (s < 0.3) return r() < 0.5;
    if (s < 0.45) return [0, -1, 1.5, 1e308, -0, 4, 3, Number.MAX_SAFE_INTEGER][Math.floor(r() * 8)];
    return STRINGS[Math.floor(r() * STRINGS.length)];
  }
  if (k < 0.6) {
    const n = Math.floor(r() * 4);
    return Array.from({ length: n }, () => randomValue(r, depth + 1));
  }
  // Objects built through JSON so that __proto__ becomes an own key, as it does for real request bodies.
  const n = Math.floor(r() * 6);
  const entries: string[] = [];
  for (let i = 0; i < n; i++) {
    const key = KEYS[Math.floor(r() * KEYS.length)];
    entries.push(`${JSON.stringify(key)}:${JSON.stringify(randomValue(r, depth + 1)) ?? 'null'}`);
  }
  return JSON.parse(`{${entries.join(',')}}`);
}

const fixturesDir = fileURLToPath(new URL('../../test/fixtures/alerts/', import.meta.url));
const seeds: unknown[] = readdirSync(fixturesDir)
  .filter((f) => f.endsWith('.json'))
  .flatMap((f) => (JSON.parse(readFileSync(fixturesDir + f, 'utf8')) as { cases: Array<{ payload: unknown }> }).cases.map((c) => c.payload));

/** Replace, delete or re-type one random node of a JSON tree (works on a JSON copy). */
function mutate(r: () => number, value: unknown, steps: number): unknown {
  const root = JSON.parse(JSON.stringify(value)) as unknown;
  for (let s = 0; s < steps; s++) {
    let node = root;
    for (let d = 0; d < 8; d++) {
      if (typeof node !== 'object' || node === null) break;
      const keys = Object.keys(node);
      if (keys.length === 0) break;
      const key = keys[Math.floor(r() * keys.length)];
      const child = (node as Record<string, unknown>)[key];
      if (r() < 0.3 || typeof child !== 'object' || child === null) {
        const op = r();
        if (op < 0.3) delete (node as Record<string, unknown>)[key];
        else if (op < 0.5) (node as Record<string, unknown>)[key] = randomValue(r, 4);
        else if (op < 0.6) (node as Record<string, unknown>)[key] = JSON.parse('{"__proto__":{"polluted":1},"constructor":{"prototype":{"polluted":1}}}');
        else if (op < 0.7) (node as Record<string, unknown>)[key] = typeof child === 'string' ? Number(child) || 7 : (JSON.stringify(child) ?? 'x');
        else if (op < 0.8) (node as Record<string, unknown>)[key] = 'x'.repeat(100_000);
        else (node as Record<string, unknown>)[key] = [child, child];
        break;
      }
      node = child;
    }
  }
  return root;
}

function deep(levels: number): unknown {
  let v: unknown = 'bottom';
  for (let i = 0; i < levels; i++) v = { a: v, b: [v] };
  return v;
}

function deepArray(levels: number): unknown {
  let v: unknown = 1;
  for (let i = 0; i < levels; i++) v = [v];
  return v;
}

const SEVERITIES = new Set(['Sev0', 'Sev1', 'Sev2', 'Sev3', 'Sev4']);
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

function checkAlert(a: NormalizedAlert): void {
  assert.ok(SEVERITIES.has(a.severity), `severity ${a.severity}`);
  assert.ok(a.monitorCondition === 'Fired' || a.monitorCondition === 'Resolved');
  assert.match(a.firedAt, ISO);
  if (a.resolvedAt !== undefined) assert.match(a.resolvedAt, ISO);
  assert.equal(typeof a.alertId, 'string');
  assert.ok(a.alertId.length > 0);
  assert.equal(typeof a.rule, 'string');
  assert.ok(a.rule.length > 0);
  assert.ok(Array.isArray(a.targets) && a.targets.every((t) => typeof t === 'string'));
  assert.ok(Array.isArray(a.configurationItems) && a.configurationItems.every((t) => typeof t === 'string' && t.length > 0));
  for (const [k, v] of Object.entries(a.labels)) {
    assert.ok(!['__proto__', 'constructor', 'prototype'].includes(k));
    assert.equal(typeof v, 'string');
  }
  for (const row of a.logSearch?.rows ?? []) for (const k of Object.keys(row)) assert.notEqual(k, '__proto__');
}

function run(body: unknown): 'ok' | 'rejected' {
  try {
    const out = parseAlertPayload(body, { receivedAt: '2030-01-01T00:00:00Z' });
    assert.ok(Array.isArray(out));
    out.forEach(checkAlert);
    return 'ok';
  } catch (e) {
    if (e instanceof IngestError) {
      assert.ok(e.shapesTried.length > 0 && typeof e.firstMismatch.path === 'string');
      return 'rejected';
    }
    throw e;
  }
}

function assertNoPollution(): void {
  const probe = {} as Record<string, unknown>;
  assert.equal(probe.polluted, undefined);
  assert.deepEqual(Object.getOwnPropertyNames(Object.prototype).sort(), PROTO_KEYS);
  assert.equal(Object.getPrototypeOf(probe), Object.prototype);
}
const PROTO_KEYS = Object.getOwnPropertyNames(Object.prototype).sort();

describe('fuzz: hostile and random payloads', () => {
  it('random JSON trees (3,000): only IngestError, no pollution', () => {
    const r = seededRandom(1);
    const tally = { ok: 0, rejected: 0 };
    for (let i = 0; i < 3000; i++) tally[run(randomValue(r, 0))]++;
    assertNoPollution();
    assert.ok(tally.rejected > 0);
  });

  it('mutated golden payloads (3,000): only IngestError, well-formed alerts otherwise, no pollution', () => {
    const r = seededRandom(2);
    const tally = { ok: 0, rejected: 0 };
    for (let i = 0; i < 3000; i++) {
      const seed = seeds[i % seeds.length];
      tally[run(mutate(r, seed, 1 + Math.floor(r() * 4)))]++;
    }
    assertNoPollution();
    assert.ok(tally.ok > 500, `many mutations still parse (${tally.ok})`);
    assert.ok(tally.rejected > 100, `many are rejected (${tally.rejected})`);
  });

  it('deeply nested values anywhere (objects and arrays, 50,000 levels) are harmless', () => {
    const d = deep(50_000);
    const a = deepArray(50_000);
    for (const body of [
      d,
      a,
      { version: '4', alerts: [{ status: 'firing', labels: { alertname: 'x', deep: d }, annotations: { summary: a } }] },
      { AlertRuleName: 'R', SearchQuery: 'q', SearchResult: { tables: [{ columns: [{ name: 'Computer' }], rows: [[d], [a]] }] } },
      { schemaId: 'azureMonitorCommonAlertSchema', data: { essentials: { alertRule: 'r' }, customProperties: { deep: d }, alertContext: d } },
    ])
      run(body);
    assertNoPollution();
  });

  it('cyclic objects (not JSON, but possible from code) are harmless', () => {
    const cyc: Record<string, unknown> = { alertname: 'x' };
    cyc.self = cyc;
    assert.equal(run({ version: '4', alerts: [{ status: 'firing', labels: cyc }] }), 'ok');
  });

  it('huge strings are accepted but capped', () => {
    const big = 'é'.repeat(2_000_000);
    const [a] = parseAlertPayload({ version: '4', alerts: [{ status: 'firing', labels: { alertname: big }, annotations: { description: big } }] });
    assert.ok(a.rule.length <= 32_768 && a.description.length <= 32_768);
  });

  it('many alerts and many rows stay bounded', () => {
    const rows = Array.from({ length: 20_000 }, (_, i) => [`vm-${i}`]);
    const [a] = parseAlertPayload({ AlertRuleName: 'R', SearchQuery: 'q', SearchResult: { tables: [{ columns: [{ name: 'Computer' }], rows }] } });
    assert.equal(a.logSearch?.rows.length, 5000);
  });
});
