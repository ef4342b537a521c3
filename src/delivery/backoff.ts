/**
 * Exponential backoff with "equal jitter": half the exponential delay is fixed, the other half random,
 * so retries of many jobs that failed together spread out but never come back sooner than half the step.
 */
export interface BackoffOptions {
  baseMs: number;
  maxMs: number;
}

export const defaultBackoff: BackoffOptions = { baseMs: 1_000, maxMs: 5 * 60_000 };

/** Delay before attempt `attempt + 1`, given that `attempt` (≥ 1) attempts have failed. */
export function backoffDelay(attempt: number, options: BackoffOptions = defaultBackoff, random: () => number = Math.random): number {
  const exp = Math.min(options.maxMs, options.baseMs * 2 ** Math.min(30, Math.max(0, attempt - 1)));
  return Math.round(exp / 2 + random() * (exp / 2));
}
