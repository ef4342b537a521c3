/**
 * Per-connection flow control for partner calls: a concurrency limit, a token bucket whose rate adapts
 * to 429s (multiplicative decrease, slow additive recovery, a hard pause until `Retry-After`), and a
 * circuit breaker that stops claiming a connection's jobs after repeated failures.
 *
 * States of the breaker: closed (normal) → open after `failureThreshold` consecutive retryable failures
 * (nothing is sent for `openMs`, doubling per consecutive opening up to `maxOpenMs`) → half-open (one
 * probe call) → closed on success, open again on failure.
 */
export interface GateOptions {
  /** Calls in flight at once per connection. */
  concurrency: number;
  /** Sustained calls per second (token refill rate) and burst size. */
  ratePerSecond: number;
  burst: number;
  /** Lowest rate the bucket adapts down to after 429s. */
  minRatePerSecond: number;
  failureThreshold: number;
  openMs: number;
  maxOpenMs: number;
}

/**
 * Defaults: 16 calls in flight and 500 calls/s per connection. ServiceNow's rate limits are per instance
 * and hour and differ per customer, so the bucket starts generous and learns from 429s (it halves on each
 * one and waits out Retry-After / X-RateLimit-Reset).
 */
export const defaultGateOptions: GateOptions = {
  concurrency: 16,
  ratePerSecond: 500,
  burst: 500,
  minRatePerSecond: 1,
  failureThreshold: 5,
  openMs: 2_000,
  maxOpenMs: 60_000,
};

export type BreakerState = 'closed' | 'open' | 'half-open';

export interface GateEvent {
  kind: 'circuit-opened' | 'circuit-closed' | 'rate-limited';
  message: string;
}

export class ConnectionGate {
  private inFlight = 0;
  private tokens: number;
  private rate: number;
  private lastRefill = Date.now();
  private pausedUntil = 0;
  private consecutiveFailures = 0;
  private openings = 0;
  private state: BreakerState = 'closed';
  private openUntil = 0;
  private probing = false;
  private readonly waiters: (() => void)[] = [];

  constructor(
    private readonly options: GateOptions,
    private readonly onEvent: (e: GateEvent) => void = () => {},
  ) {
    this.tokens = options.burst;
    this.rate = options.ratePerSecond;
  }

  /** Free slots for new claims, 0 while the breaker is open or a 429 pause runs. */
  freeSlots(now = Date.now()): number {
    if (this.blockedUntil(now) > now) return 0;
    if (this.state === 'half-open' || (this.state === 'open' && now >= this.openUntil)) return this.probing || this.inFlight > 0 ? 0 : 1;
    return Math.max(0, this.options.concurrency - this.inFlight);
  }

  /** When the connection may be called again (0 = now). */
  blockedUntil(now = Date.now()): number {
    const until = Math.max(this.pausedUntil, this.state === 'open' ? this.openUntil : 0);
    return until > now ? until : 0;
  }

  get breaker(): BreakerState {
    if (this.state === 'open' && Date.now() >= this.openUntil) return 'half-open';
    return this.state;
  }

  get currentRate(): number {
    return this.rate;
  }

  /**
   * Waits for a slot, the end of a pause and a token; then the caller makes exactly one partner call and
   * reports it with `success`/`failure`. Returns false when the breaker is open (caller reschedules).
   */
  async acquire(): Promise<boolean> {
    for (;;) {
      const now = Date.now();
      if (this.state === 'open') {
        if (now < this.openUntil) return false;
        this.state = 'half-open';
      }
      if (this.state === 'half-open') {
        if (this.probing) return false;
        this.probing = true;
      }
      if (this.pausedUntil > now) {
        await sleep(this.pausedUntil - now);
        if (this.state === 'half-open') this.probing = false;
        continue;
      }
      if (this.inFlight >= this.options.concurrency) {
        if (this.state === 'half-open') this.probing = false;
        await new Promise<void>((resolve) => this.waiters.push(resolve));
        continue;
      }
      this.refill(now);
      if (this.tokens < 1) {
        if (this.state === 'half-open') this.probing = false;
        await sleep(Math.ceil(((1 - this.tokens) / this.rate) * 1000));
        continue;
      }
      this.tokens -= 1;
      this.inFlight += 1;
      return true;
    }
  }

  /** The call got an answer that is not the connection's fault (2xx, or a 4xx about our data). */
  success(): void {
    this.release();
    this.consecutiveFailures = 0;
    if (this.state !== 'closed') {
      this.state = 'closed';
      this.probing = false;
      this.openings = 0;
      this.onEvent({ kind: 'circuit-closed', message: 'the connection answers again; delivery resumed' });
    }
    // Additive recovery after a 429 slowed us down.
    if (this.rate < this.options.ratePerSecond) this.rate = Math.min(this.options.ratePerSecond, this.rate + Math.max(0.5, this.options.ratePerSecond / 50));
  }

  /** 5xx, timeout, connection refused, hibernating instance. */
  failure(message: string): void {
    this.release();
    this.consecutiveFailures += 1;
    if (this.state === 'half-open' || this.consecutiveFailures >= this.options.failureThreshold) this.open(message);
  }

  /** 429: pause until the partner's `Retry-After` and halve the rate. */
  rateLimited(retryAfterMs: number | undefined): void {
    this.release();
    if (this.state === 'half-open') {
      this.state = 'closed';
      this.probing = false;
    }
    const wait = Math.max(100, Math.min(retryAfterMs ?? 1000, 15 * 60_000));
    this.pausedUntil = Math.max(this.pausedUntil, Date.now() + wait);
    this.rate = Math.max(this.options.minRatePerSecond, this.rate / 2);
    this.tokens = Math.min(this.tokens, 1);
    this.onEvent({ kind: 'rate-limited', message: `rate limited by the partner: pausing ${wait} ms, then ${this.rate.toFixed(1)} calls/s` });
  }

  /** Sign-in failed for good: hold the connection for a while without opening the breaker's backoff ladder. */
  pause(ms: number): void {
    this.release();
    this.pausedUntil = Math.max(this.pausedUntil, Date.now() + ms);
  }

  /**
   * The connection is known to work again (a connection test, sync or new sign-in succeeded): the sign-in and
   * 429 pauses end and an open breaker closes, so the backlog goes now instead of at the next timer.
   */
  resume(): void {
    this.pausedUntil = 0;
    this.consecutiveFailures = 0;
    this.openings = 0;
    if (this.state !== 'closed') {
      this.state = 'closed';
      this.probing = false;
      this.onEvent({ kind: 'circuit-closed', message: 'the connection answered a test or sync; delivery resumed' });
    }
  }

  /** The call was not made after all (acquired, then abandoned). */
  cancel(): void {
    this.release();
    if (this.state === 'half-open') this.probing = false;
  }

  private open(message: string): void {
    this.openings += 1;
    const ms = Math.min(this.options.maxOpenMs, this.options.openMs * 2 ** (this.openings - 1));
    this.state = 'open';
    this.probing = false;
    this.openUntil = Date.now() + ms;
    this.onEvent({
      kind: 'circuit-opened',
      message: `circuit opened after ${this.consecutiveFailures} consecutive failures (${message}); next try in ${ms} ms`,
    });
  }

  private release(): void {
    if (this.inFlight > 0) this.inFlight -= 1;
    const next = this.waiters.shift();
    if (next) next();
  }

  private refill(now: number): void {
    const elapsed = (now - this.lastRefill) / 1000;
    this.lastRefill = now;
    this.tokens = Math.min(this.options.burst, this.tokens + elapsed * this.rate);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(1, ms)));
}
