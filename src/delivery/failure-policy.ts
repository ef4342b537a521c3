/**
 * What a failed partner call does to its jobs: a pure decision, table-tested in failure-policy.test.ts.
 * The engine carries it out (store writes, connection status, dead letters).
 */
import { PartnerError } from '../partners/partner.ts';
import { backoffDelay, type BackoffOptions } from './backoff.ts';

export type FailureOutcome =
  /** Wait until `runAt` without using an attempt (the partner asked us to, or the connection is paused). */
  | { kind: 'wait'; runAt: number; markConnection: boolean }
  /** Give up on the failing job (dead letter); the jobs behind it go on. */
  | { kind: 'dead-letter'; message: string }
  /** Use an attempt and try again at `runAt` (backoff). */
  | { kind: 'retry'; runAt: number }
  /** Another worker owns the jobs now: do nothing. */
  | { kind: 'ignore' };

export interface FailureInput {
  /** What the call threw: a PartnerError, a paused connection ({ blockedUntil }), a lost lease, anything else. */
  error: PartnerError | { blockedUntil: number } | { leaseLost: true } | Error;
  attempts: number;
  maxAttempts: number;
  now: number;
  authPauseMs: number;
  backoff: BackoffOptions;
  random?: () => number;
}

/** Errors a retry cannot fix: the partner refused the data or the access, or the record is gone. */
function isPermanent(err: unknown): boolean {
  return err instanceof PartnerError && (err.kind === 'invalid' || err.kind === 'forbidden' || err.kind === 'not-found');
}

export function errorText(err: unknown): string {
  if (err instanceof PartnerError) return `${err.kind}: ${err.message}`;
  return err instanceof Error ? err.message : String(err);
}

export function failurePolicy(f: FailureInput): FailureOutcome {
  const err = f.error;
  if ('leaseLost' in err) return { kind: 'ignore' };
  if ('blockedUntil' in err) return { kind: 'wait', runAt: Math.max(err.blockedUntil, f.now + 50), markConnection: false };
  if (err instanceof PartnerError && err.kind === 'rate-limited')
    return { kind: 'wait', runAt: f.now + Math.max(100, err.details.retryAfterMs ?? 1000), markConnection: false };
  if (err instanceof PartnerError && err.kind === 'auth') return { kind: 'wait', runAt: f.now + f.authPauseMs, markConnection: true };
  const message = errorText(err);
  if (isPermanent(err)) return { kind: 'dead-letter', message };
  if (f.attempts >= f.maxAttempts) return { kind: 'dead-letter', message: `gave up after ${f.attempts} attempts: ${message}` };
  return { kind: 'retry', runAt: f.now + backoffDelay(f.attempts, f.backoff, f.random) };
}
