/**
 * Hostile input to the webhook: thousands of malformed payloads (wrong types, deep nesting, huge strings,
 * invalid UTF-8, prototype-pollution keys, wrong content types, oversized bodies). Every answer is a 4xx with
 * the error shape (or a 202 when a mutation is still a valid alert), never a 5xx; the server stays up.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { startTestConnector, api, type TestConnector } from '../helpers/stores.ts';
import { metricAlert } from './helpers.ts';
import { serviceNowWithSandbox } from '../sync/helpers.ts';
import { sandboxConnectionInput } from '../../src/runtime/quickstart.ts';
import type { RunningSandbox } from '../../src/partners/descriptor.ts';
import { seededRandom } from '../../src/core/random.ts';

const HOSTILE_KEYS = ['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'valueOf', '__defineGetter__'];

function randomValue(r: () => number, depth = 0): unknown {
  const k = Math.floor(r() * (depth > 3 ? 6 : 9));
  switch (k) {
    case 0:
      return null;
    case 1:
      return r() < 0.5;
    case 2:
      return [0, -1, 1e308, -1e-308, 2 ** 53 + 1, 3.14][Math.floor(r() * 6)];
    case 3:
      return ['', 'Fired', 'Resolved', 'Sev9', '3/22/2019 1:35:31 PM', '\u0000\u202e', '💥'.repeat(50), 'x'.repeat(Math.floor(r() * 5000))][
        Math.floor(r() * 8)
      ];
    case 4:
      return '{{alert.rule}}';
    case 5:
      return `${r()}`;
    case 6:
      return Array.from({ length: Math.floor(r() * 4) }, () => randomValue(r, depth + 1));
    default: {
      const o: Record<string, unknown> = {};
      for (let i = Math.floor(r() * 5); i > 0; i--)
        o[r() < 0.3 ? HOSTILE_KEYS[Math.floor(r() * HOSTILE_KEYS.length)] : `k${Math.floor(r() * 100)}`] = randomValue(r, depth + 1);
      return o;
    }
  }
}

/** Replaces one random leaf or object of a valid payload with a random value (or deletes it). */
function mutate(payload: any, r: () => number): any {
  const copy = JSON.parse(JSON.stringify(payload));
  const paths: (string | number)[][] = [];
  const walk = (v: any, p: (string | number)[]) => {
    paths.push(p);
    if (v && typeof v === 'object') for (const k of Object.keys(v)) walk(v[k], [...p, Array.isArray(v) ? Number(k) : k]);
  };
  walk(copy, []);
  const path = paths[1 + Math.floor(r() * (paths.length - 1))];
  let parent = copy;
  for (const key of path.slice(0, -1)) parent = parent[key];
  const last = path[path.length - 1];
  if (r() < 0.3 && !Array.isArray(parent)) delete parent[last];
  else parent[last] = randomValue(r);
  return copy;
}

function deep(n: number): string {
  return '{"schemaId":"azureMonitorCommonAlertSchema","data":' + '['.repeat(n) + ']'.repeat(n) + '}';
}

/** Raw HTTP, so bodies can be invalid UTF-8 bytes and headers can lie. */
function rawPost(url: string, body: Buffer, contentType: string | null): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const headers: Record<string, string | number> = { 'content-length': body.length };
    if (contentType) headers['content-type'] = contentType;
    const req = request({ host: u.hostname, port: u.port, path: u.pathname, method: 'POST', headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json: any;
        try {
          json = JSON.parse(text);
        } catch {
          json = text;
        }
        resolve({ status: res.statusCode ?? 0, body: json });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('webhook fuzzing', () => {
  let c: TestConnector;
  let hook: string;
  let sandbox: RunningSandbox;
  before(async () => {
    // A real partner behind the action group; delivery is off, so the fuzzing only exercises ingestion.
    sandbox = await serviceNowWithSandbox.sandbox.start({ port: 0, size: 'small', days: 2 });
    c = await startTestConnector('sqlite', {
      ITSMC_SYNC: '0',
      ITSMC_DELIVERY: '0',
      ITSMC_BODY_LIMIT_BYTES: String(256 * 1024),
      ITSMC_ALLOWED_PARTNER_HOSTS: new URL(sandbox.url).host,
    });
    await c.connections.put('default', 'fuzz', sandboxConnectionInput(serviceNowWithSandbox, sandbox.url));
    const { row } = await c.actionGroups.put('default', 'fuzz', {
      itsmReceivers: [{ name: 'inc', connectionName: 'fuzz', ticketConfiguration: { WorkItemType: 'Incident' } }],
    });
    hook = `${c.url}/hooks/${c.actionGroups.secretOf(row)}`;
  });
  after(async () => {
    await c.cleanup();
    await sandbox.close();
  });

  it('answers thousands of hostile payloads with 4xx and the error shape, never a 5xx, and stays up', async () => {
    const r = seededRandom(4242);
    const valid = metricAlert({ rule: 'fuzz', alertId: 'f-0' });
    const cases: { body: Buffer; type: string | null; expect4xx: boolean }[] = [];
    const json = (v: unknown) => Buffer.from(JSON.stringify(v));
    for (let i = 0; i < 1200; i++) cases.push({ body: json(randomValue(r)), type: 'application/json', expect4xx: true });
    for (let i = 0; i < 1500; i++) cases.push({ body: json(mutate(valid, r)), type: 'application/json', expect4xx: false });
    for (let i = 0; i < 100; i++) {
      cases.push({ body: Buffer.from(deep(1000 + Math.floor(r() * 50_000))), type: 'application/json', expect4xx: true });
      cases.push({
        body: Buffer.concat([Buffer.from('{"schemaId":"'), Buffer.from([0xff, 0xfe, 0xc3, 0x28, 0xa0, 0xa1, 0xed, 0xa0, 0x80]), Buffer.from('","data":1}')]),
        type: 'application/json',
        expect4xx: true,
      });
      cases.push({
        body: Buffer.from(`{"__proto__":{"polluted":"yes"},"schemaId":"azureMonitorCommonAlertSchema","data":${JSON.stringify(valid.data)}}`),
        type: 'application/json',
        expect4xx: true,
      });
      cases.push({
        body: Buffer.from(`{"constructor":{"prototype":{"polluted":"yes"}},"data":{"essentials":{"__proto__":{"x":1}}}}`),
        type: 'application/json',
        expect4xx: true,
      });
      cases.push({ body: Buffer.from(`{"alerts":[{"labels":{"__proto__":{"polluted":"yes"}}}],"version":"4"}`), type: 'application/json', expect4xx: true });
      cases.push({ body: json({ schemaId: 'x'.repeat(200_000) }), type: 'application/json', expect4xx: true });
      cases.push({ body: Buffer.from('x'.repeat(300_000)), type: 'application/json', expect4xx: true });
      cases.push({ body: Buffer.from('{"schemaId": "azureMonitorCommonAlertSchema", '), type: 'application/json', expect4xx: true });
      cases.push({ body: Buffer.from(''), type: 'application/json', expect4xx: true });
      cases.push({ body: Buffer.from('a=1&b=2'), type: 'application/x-www-form-urlencoded', expect4xx: true });
      cases.push({ body: json(valid), type: 'text/plain', expect4xx: true });
      cases.push({ body: json(valid), type: null, expect4xx: true });
    }

    const statuses = new Map<number, number>();
    let next = 0;
    const worker = async () => {
      while (next < cases.length) {
        const k = cases[next++];
        const res = await rawPost(hook, k.body, k.type);
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        assert.ok(res.status < 500, `a ${res.status} for ${k.body.subarray(0, 200).toString()}: ${JSON.stringify(res.body).slice(0, 300)}`);
        if (k.expect4xx) assert.ok(res.status >= 400, `expected a 4xx for ${k.body.subarray(0, 120).toString()}, got ${res.status}`);
        if (res.status >= 400) {
          assert.equal(typeof res.body?.error?.code, 'string', `error shape for ${res.status}`);
          assert.equal(typeof res.body.error.message, 'string');
        } else assert.equal(res.status, 202);
      }
    };
    await Promise.all(Array.from({ length: 16 }, worker));
    assert.ok(cases.length >= 3000);
    assert.ok((statuses.get(400) ?? 0) > 1000, `statuses: ${JSON.stringify([...statuses])}`);
    assert.ok((statuses.get(413) ?? 0) >= 100);
    assert.ok((statuses.get(415) ?? 0) >= 100);
    assert.equal(({} as any).polluted, undefined, 'no prototype pollution in the server process');
    assert.equal((await api(c.url, null, 'GET', '/healthz')).status, 200, 'the server is still up');
    const ok = await rawPost(hook, Buffer.from(JSON.stringify(metricAlert({ rule: 'after-fuzz', alertId: 'f-after' }))), 'application/json');
    assert.equal(ok.status, 202, 'and still accepts alerts');
  });
});
