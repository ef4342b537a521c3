/**
 * Dataverse service protection limits (per user, 5-minute sliding window: number of requests and
 * concurrent requests → 429 + Retry-After) and run-time fault injection of the Provance sandbox.
 * Fault draws come from a seeded PRNG so a chaos run can be replayed.
 */
import { seededRandom } from '../../core/random.ts';
import { CODE, DvError } from './odata.ts';

export interface ServiceProtection {
  /** Requests per user in the window (Dataverse: 6000 per 300 s). */
  maxRequests: number;
  windowSec: number;
  /** Concurrent requests per user (Dataverse: 52). */
  maxConcurrent: number;
}

export const DEFAULT_PROTECTION: ServiceProtection = { maxRequests: 6000, windowSec: 300, maxConcurrent: 52 };

export class ServiceProtectionLimiter {
  settings: ServiceProtection = { ...DEFAULT_PROTECTION };
  private readonly stamps = new Map<string, number[]>();
  private readonly inFlight = new Map<string, number>();

  /** Counts one request of `user`; throws the Dataverse 429 when a limit is hit. Returns a release function. */
  enter(user: string, nowMs: number): { release: () => void; burstRemaining: number } {
    const s = this.settings;
    const windowMs = s.windowSec * 1000;
    const stamps = (this.stamps.get(user) ?? []).filter((t) => t > nowMs - windowMs);
    this.stamps.set(user, stamps);
    if (stamps.length >= s.maxRequests) {
      const retryAfter = Math.max(1, Math.ceil((stamps[0] + windowMs - nowMs) / 1000));
      throw new DvError(429, CODE.requests, `Number of requests exceeded the limit of ${s.maxRequests} over time window of ${s.windowSec} seconds.`, {
        'Retry-After': String(retryAfter),
      });
    }
    const running = this.inFlight.get(user) ?? 0;
    if (running >= s.maxConcurrent) {
      throw new DvError(429, CODE.concurrency, `Number of concurrent requests exceeded the limit of ${s.maxConcurrent}.`, { 'Retry-After': '1' });
    }
    stamps.push(nowMs);
    this.inFlight.set(user, running + 1);
    let released = false;
    return {
      burstRemaining: s.maxRequests - stamps.length,
      release: () => {
        if (released) return;
        released = true;
        this.inFlight.set(user, Math.max(0, (this.inFlight.get(user) ?? 1) - 1));
      },
    };
  }

  reset(): void {
    this.stamps.clear();
    this.inFlight.clear();
  }
}

export interface FaultConfig {
  latencyMs: number;
  /** Share of matching requests answered with errorStatus. */
  errorRate: number;
  errorStatus: number;
  /** Fail exactly the next N matching requests with errorStatus. */
  failNext: number;
  /** Destroy the connection of the next N matching requests without answering. */
  dropNext: number;
  /** Share of matching requests held for timeoutMs and then dropped unanswered (client timeouts). */
  timeoutRate: number;
  timeoutMs: number;
  /** ISO time; until then every matching request answers 503. */
  outageUntil: string | null;
  /** Answer the next `count` matching requests with the service protection 429 and this Retry-After. */
  throttleNext: { count: number; retryAfterSec: number } | null;
  /** Path prefixes the faults apply to; null = the Web API and the token endpoints. */
  paths: string[] | null;
}

export const DEFAULT_FAULTS: FaultConfig = {
  latencyMs: 0,
  errorRate: 0,
  errorStatus: 503,
  failNext: 0,
  dropNext: 0,
  timeoutRate: 0,
  timeoutMs: 30_000,
  outageUntil: null,
  throttleNext: null,
  paths: null,
};

export type FaultAction =
  | { kind: 'none' }
  | { kind: 'drop' }
  | { kind: 'timeout'; ms: number }
  | { kind: 'error'; status: number }
  | { kind: 'throttle'; retryAfterSec: number };

export class Faults {
  config: FaultConfig = structuredClone(DEFAULT_FAULTS);
  private random: () => number;

  constructor(private readonly seed: number) {
    this.random = seededRandom(seed ^ 0x9e3779b9);
  }

  reset(): void {
    this.config = structuredClone(DEFAULT_FAULTS);
    this.random = seededRandom(this.seed ^ 0x9e3779b9);
  }

  /** Merges a PUT body; returns the rejected keys (nothing is applied when any is rejected). */
  merge(patch: unknown): string[] {
    if (!patch || typeof patch !== 'object' || Array.isArray(patch)) return ['(body must be a JSON object)'];
    const next = structuredClone(this.config);
    const bad: string[] = [];
    const count = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0;
    for (const [k, v] of Object.entries(patch as Record<string, unknown>)) {
      if ((k === 'latencyMs' || k === 'errorStatus' || k === 'failNext' || k === 'dropNext' || k === 'timeoutMs') && count(v)) next[k] = v;
      else if ((k === 'errorRate' || k === 'timeoutRate') && typeof v === 'number' && v >= 0 && v <= 1) next[k] = v;
      else if (k === 'outageUntil' && (v === null || (typeof v === 'string' && Number.isFinite(Date.parse(v))))) next.outageUntil = v;
      else if (k === 'paths' && (v === null || (Array.isArray(v) && v.every((p) => typeof p === 'string')))) next.paths = v as string[] | null;
      else if (k === 'throttleNext' && v === null) next.throttleNext = null;
      else if (k === 'throttleNext' && v && typeof v === 'object' && count((v as Record<string, unknown>).count) && count((v as Record<string, unknown>).retryAfterSec ?? 1)) {
        const o = v as { count: number; retryAfterSec?: number };
        next.throttleNext = { count: o.count, retryAfterSec: o.retryAfterSec ?? 1 };
      } else bad.push(k);
    }
    if (bad.length === 0) this.config = next;
    return bad;
  }

  applies(path: string): boolean {
    if (path.startsWith('/_sandbox')) return false;
    const p = this.config.paths;
    if (p === null) return path.startsWith('/api/data/') || path.includes('/oauth2/');
    return p.some((prefix) => path.startsWith(prefix));
  }

  decide(nowMs: number): FaultAction {
    const c = this.config;
    if (c.outageUntil && Date.parse(c.outageUntil) > nowMs) return { kind: 'error', status: 503 };
    if (c.throttleNext && c.throttleNext.count > 0) {
      const retryAfterSec = c.throttleNext.retryAfterSec;
      c.throttleNext.count--;
      if (c.throttleNext.count === 0) c.throttleNext = null;
      return { kind: 'throttle', retryAfterSec };
    }
    if (c.dropNext > 0) {
      c.dropNext--;
      return { kind: 'drop' };
    }
    if (c.failNext > 0) {
      c.failNext--;
      return { kind: 'error', status: c.errorStatus };
    }
    if (c.timeoutRate > 0 && this.random() < c.timeoutRate) return { kind: 'timeout', ms: c.timeoutMs };
    if (c.errorRate > 0 && this.random() < c.errorRate) return { kind: 'error', status: c.errorStatus };
    return { kind: 'none' };
  }
}
