/**
 * Dataverse service protection limits: per user, in a 5-minute sliding window, the number of requests and
 * the concurrent requests; over either → 429 + Retry-After with Dataverse's error codes. (Fault injection
 * is src/sandbox/common's.)
 */
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
