import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Faults, RateLimiter } from './faults.ts';

const api = (p: string) => p.startsWith('/api/');
const draws = (f: Faults, n: number) => Array.from({ length: n }, () => f.decide(0).kind);

describe('common fault model', () => {
  it('answers scripted faults in order: 429s with their Retry-After, then failNext errors, then nothing', () => {
    const f = new Faults(1, api, '/admin');
    assert.deepEqual(f.merge({ rateLimitNext: { count: 1, retryAfterSec: 7 }, failNext: 2, errorStatus: 502 }), []);
    assert.deepEqual(f.decide(0), { kind: 'ratelimit', retryAfterSec: 7 });
    assert.deepEqual(
      [f.decide(0), f.decide(0)],
      [
        { kind: 'error', status: 502 },
        { kind: 'error', status: 502 },
      ],
    );
    assert.deepEqual(f.decide(0), { kind: 'none' });
  });

  it('draws random faults from its seed: the same seed fails the same requests', () => {
    const a = new Faults(42, api, '/admin');
    const b = new Faults(42, api, '/admin');
    for (const f of [a, b]) f.merge({ errorRate: 0.3 });
    assert.deepEqual(draws(a, 50), draws(b, 50));
    assert.ok(draws(a, 200).includes('error'));
  });

  it('never applies to the admin API and applies to the product API by default', () => {
    const f = new Faults(1, api, '/api/x_admin');
    assert.equal(f.applies('/api/x_admin/faults'), false);
    assert.equal(f.applies('/api/table/x'), true);
    assert.equal(f.applies('/login'), false);
    f.merge({ paths: ['/login'] });
    assert.equal(f.applies('/login'), true);
  });

  it('refuses unknown or malformed settings and keeps the previous ones', () => {
    const f = new Faults(1, api, '/admin');
    assert.deepEqual(f.merge({ errorRate: 2, bogus: 1 }), ['errorRate', 'bogus']);
    assert.equal(f.config.errorRate, 0);
  });

  it('limits a user per hour and says when to come back', () => {
    const limiter = new RateLimiter();
    assert.equal(limiter.set({ rules: [{ user: 'u', perHour: 1, window: 'rolling' }] }), null);
    const user = { sysId: '1', userName: 'u', roles: new Set<string>() };
    assert.equal(limiter.check(user, 'GET', '/api/x', 0, true)?.exceeded, false);
    const second = limiter.check(user, 'GET', '/api/x', 1000, true);
    assert.equal(second?.exceeded, true);
    assert.equal(second?.retryAfterSec, 3599);
  });
});
