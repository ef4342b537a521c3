/**
 * Run-time fault injection, inbound rate-limit rules and request statistics, the same for every partner
 * sandbox. Driven through the admin API (admin.ts); draws come from a seeded RNG.
 */
import { createHash } from 'node:crypto';
import { Rng } from './rng.ts';

/** Who a request is from, as far as rate-limit rules care. */
export interface RateSubject {
  /** Stable id of the user (per-user counters). */
  sysId: string;
  userName: string;
  roles: ReadonlySet<string>;
}

export interface FaultConfig {
  latencyMs: number;
  errorRate: number;
  errorStatus: number;
  timeoutRate: number;
  timeoutMs: number;
  /** ISO time; until then every matching request answers 503. */
  outageUntil: string | null;
  /** Every matching request answers 200 with the product's HTML maintenance page ("instance is hibernating"). */
  hibernating: boolean;
  /** Path prefixes the faults apply to; null = every API and OAuth path (never the admin API). */
  paths: string[] | null;
  /** Fail exactly the next N matching requests with errorStatus. */
  failNext: number;
  /** Answer the next `count` matching requests with 429 + Retry-After: retryAfterSec. */
  rateLimitNext: { count: number; retryAfterSec: number } | null;
}

export const DEFAULT_FAULTS: FaultConfig = {
  latencyMs: 0,
  errorRate: 0,
  errorStatus: 503,
  timeoutRate: 0,
  timeoutMs: 30000,
  outageUntil: null,
  hibernating: false,
  paths: null,
  failNext: 0,
  rateLimitNext: null,
};

export type FaultAction =
  | { kind: 'none' }
  | { kind: 'hibernate' }
  | { kind: 'outage' }
  | { kind: 'ratelimit'; retryAfterSec: number }
  | { kind: 'error'; status: number }
  | { kind: 'timeout'; ms: number };

export class Faults {
  config: FaultConfig = structuredClone(DEFAULT_FAULTS);
  private rng: Rng;

  /**
   * @param isPartnerApi which paths faults apply to when `paths` is null (the product's API and token
   *   endpoints; never the admin API).
   */
  constructor(
    private readonly seed: number,
    private readonly isPartnerApi: (path: string) => boolean,
    private readonly adminPrefix: string,
  ) {
    this.rng = new Rng((seed ^ 0x5eedfa17) >>> 0);
  }

  reset(): void {
    this.config = structuredClone(DEFAULT_FAULTS);
    this.rng = new Rng((this.seed ^ 0x5eedfa17) >>> 0);
  }

  /** Merges a PUT body; returns the names of keys that were rejected. */
  merge(patch: unknown): string[] {
    if (!patch || typeof patch !== 'object' || Array.isArray(patch)) return ['(body must be a JSON object)'];
    const bad: string[] = [];
    const next = structuredClone(this.config);
    for (const [k, v] of Object.entries(patch as Record<string, unknown>)) {
      switch (k) {
        case 'latencyMs':
        case 'errorStatus':
        case 'timeoutMs':
        case 'failNext':
          if (typeof v === 'number' && Number.isFinite(v) && v >= 0) next[k] = Math.floor(v);
          else bad.push(k);
          break;
        case 'errorRate':
        case 'timeoutRate':
          if (typeof v === 'number' && v >= 0 && v <= 1) next[k] = v;
          else bad.push(k);
          break;
        case 'outageUntil':
          if (v === null) next.outageUntil = null;
          else if (typeof v === 'string' && !Number.isNaN(Date.parse(v))) next.outageUntil = new Date(v).toISOString();
          else bad.push(k);
          break;
        case 'hibernating':
          if (typeof v === 'boolean') next.hibernating = v;
          else bad.push(k);
          break;
        case 'paths':
          if (v === null) next.paths = null;
          else if (Array.isArray(v) && v.every((p) => typeof p === 'string')) next.paths = v as string[];
          else bad.push(k);
          break;
        case 'rateLimitNext': {
          if (v === null) next.rateLimitNext = null;
          else if (v && typeof v === 'object') {
            const o = v as Record<string, unknown>;
            const count = Number(o.count);
            const retry = Number(o.retryAfterSec ?? 1);
            if (Number.isFinite(count) && count >= 0 && Number.isFinite(retry) && retry >= 0) {
              next.rateLimitNext = { count: Math.floor(count), retryAfterSec: Math.floor(retry) };
            } else bad.push(k);
          } else bad.push(k);
          break;
        }
        default:
          bad.push(k);
      }
    }
    if (bad.length === 0) this.config = next;
    return bad;
  }

  applies(path: string): boolean {
    if (path.startsWith(this.adminPrefix)) return false;
    const p = this.config.paths;
    if (p === null) return this.isPartnerApi(path);
    return p.some((prefix) => path.startsWith(prefix));
  }

  /** Decides what happens to one matching request (consumes scripted counts and RNG draws). */
  decide(nowMs: number): FaultAction {
    const c = this.config;
    if (c.hibernating) return { kind: 'hibernate' };
    if (c.outageUntil && Date.parse(c.outageUntil) > nowMs) return { kind: 'outage' };
    if (c.rateLimitNext && c.rateLimitNext.count > 0) {
      c.rateLimitNext.count--;
      const retryAfterSec = c.rateLimitNext.retryAfterSec;
      if (c.rateLimitNext.count === 0) c.rateLimitNext = null;
      return { kind: 'ratelimit', retryAfterSec };
    }
    if (c.failNext > 0) {
      c.failNext--;
      return { kind: 'error', status: c.errorStatus };
    }
    if (c.timeoutRate > 0 && this.rng.next() < c.timeoutRate) return { kind: 'timeout', ms: c.timeoutMs };
    if (c.errorRate > 0 && this.rng.next() < c.errorRate) return { kind: 'error', status: c.errorStatus };
    return { kind: 'none' };
  }
}

// ------------------------------------------------------------------ rate limits

export interface RateRule {
  /** A single user (user_name). */
  user?: string;
  /** Users with this role. */
  role?: string;
  /** Requests allowed per hour. */
  perHour: number;
  /** Only requests whose path starts with this (e.g. "/api/now/table/incident"); default all API paths. */
  path?: string;
  /** Only this HTTP method. */
  method?: string;
  /** "fixed" (count resets at the top of each hour, the default) or "rolling" (last 3600 s). */
  window?: 'fixed' | 'rolling';
}

export interface RateDecision {
  headers: Record<string, string>;
  exceeded: boolean;
  retryAfterSec: number;
  limit: number;
}

const HOUR = 3_600_000;

export class RateLimiter {
  private rules: (RateRule & { sysId: string })[] = [];
  private fixed = new Map<string, { start: number; count: number }>();
  private rolling = new Map<string, number[]>();

  get(): { rules: (RateRule & { sysId: string })[] } {
    return { rules: this.rules.map((r) => ({ ...r })) };
  }

  /** Replaces the rules; returns an error text or null. */
  set(body: unknown): string | null {
    const rules = (body as { rules?: unknown } | null)?.rules;
    if (!Array.isArray(rules)) return 'body must be {"rules":[…]}';
    const next: (RateRule & { sysId: string })[] = [];
    for (const [i, r] of rules.entries()) {
      if (!r || typeof r !== 'object') return `rule ${i} must be an object`;
      const o = r as Record<string, unknown>;
      const perHour = Number(o.perHour);
      if (!Number.isFinite(perHour) || perHour < 0) return `rule ${i}: perHour must be a number >= 0`;
      if (o.window !== undefined && o.window !== 'fixed' && o.window !== 'rolling') return `rule ${i}: window must be fixed or rolling`;
      const rule: RateRule = { perHour: Math.floor(perHour) };
      if (typeof o.user === 'string') rule.user = o.user;
      if (typeof o.role === 'string') rule.role = o.role;
      if (typeof o.path === 'string') rule.path = o.path;
      if (typeof o.method === 'string') rule.method = o.method.toUpperCase();
      if (o.window) rule.window = o.window as 'fixed' | 'rolling';
      const sysId = createHash('md5')
        .update(JSON.stringify([i, rule]))
        .digest('hex');
      next.push({ ...rule, sysId });
    }
    this.rules = next;
    this.fixed.clear();
    this.rolling.clear();
    return null;
  }

  reset(): void {
    this.rules = [];
    this.fixed.clear();
    this.rolling.clear();
  }

  private match(user: RateSubject, method: string, path: string): (RateRule & { sysId: string }) | undefined {
    const applicable = this.rules.filter((r) => (!r.path || path.startsWith(r.path)) && (!r.method || r.method === method));
    const lowest = (list: (RateRule & { sysId: string })[]) => (list.length ? list.reduce((a, b) => (b.perHour < a.perHour ? b : a)) : undefined);
    return (
      lowest(applicable.filter((r) => r.user === user.userName)) ??
      lowest(applicable.filter((r) => !r.user && r.role && user.roles.has(r.role))) ??
      lowest(applicable.filter((r) => !r.user && !r.role))
    );
  }

  /** null when no rule matches (then no X-RateLimit-* headers at all). */
  check(user: RateSubject, method: string, path: string, nowMs: number, withRemaining: boolean): RateDecision | null {
    if (this.rules.length === 0) return null;
    const rule = this.match(user, method, path);
    if (!rule) return null;
    const key = `${rule.sysId}\u0000${user.sysId}`;
    let resetMs: number;
    let used: number;
    let exceeded: boolean;
    if (rule.window === 'rolling') {
      const stamps = (this.rolling.get(key) ?? []).filter((t) => t > nowMs - HOUR);
      exceeded = stamps.length >= rule.perHour;
      if (!exceeded) stamps.push(nowMs);
      this.rolling.set(key, stamps);
      used = stamps.length;
      resetMs = stamps.length ? stamps[0] + HOUR : nowMs + HOUR;
    } else {
      const start = Math.floor(nowMs / HOUR) * HOUR;
      let c = this.fixed.get(key);
      if (!c || c.start !== start) {
        c = { start, count: 0 };
        this.fixed.set(key, c);
      }
      exceeded = c.count >= rule.perHour;
      if (!exceeded) c.count++;
      used = c.count;
      resetMs = start + HOUR;
    }
    const headers: Record<string, string> = {
      'X-RateLimit-Limit': String(rule.perHour),
      'X-RateLimit-Reset': String(Math.ceil(resetMs / 1000)),
      'X-RateLimit-Rule': rule.sysId,
    };
    if (withRemaining) headers['X-RateLimit-Remaining'] = String(Math.max(0, rule.perHour - used));
    const retryAfterSec = Math.max(1, Math.ceil((resetMs - nowMs) / 1000));
    return { headers, exceeded, retryAfterSec, limit: rule.perHour };
  }
}

// ------------------------------------------------------------------ stats

export class Stats {
  requests = 0;
  /** @param routeKey groups paths into routes (ids replaced by a placeholder). */
  constructor(private readonly routeKey: (path: string) => string = (p) => p) {}

  byRoute: Record<string, number> = {};
  tokenGrants: Record<string, number> = { password: 0, refresh_token: 0 };

  count(method: string, path: string): void {
    this.requests++;
    const key = `${method} ${this.routeKey(path)}`;
    this.byRoute[key] = (this.byRoute[key] ?? 0) + 1;
  }

  grant(kind: string): void {
    this.tokenGrants[kind] = (this.tokenGrants[kind] ?? 0) + 1;
  }

  reset(): void {
    this.requests = 0;
    this.byRoute = {};
    this.tokenGrants = { password: 0, refresh_token: 0 };
  }

  toJSON(): Record<string, unknown> {
    return { requests: this.requests, byRoute: { ...this.byRoute }, tokenGrants: { ...this.tokenGrants } };
  }
}
