/**
 * Delivery settings from the environment (all optional; the defaults suit production):
 *
 * | variable | default | meaning |
 * |---|---|---|
 * | ITSMC_DELIVERY | 1 | 0 = do not start delivery workers in this process (ingest still stores alerts) |
 * | ITSMC_DELIVERY_MAX_ATTEMPTS | 10 | attempts before a job is dead-lettered |
 * | ITSMC_DELIVERY_BACKOFF_BASE_MS / _MAX_MS | 1000 / 300000 | exponential backoff with jitter |
 * | ITSMC_DELIVERY_LEASE_MS | 30000 | job lease (renewed while working; a crashed worker's jobs return after it) |
 * | ITSMC_DELIVERY_POLL_MS | 250 | idle poll for due retries and other processes' jobs |
 * | ITSMC_DELIVERY_CONCURRENCY | 16 | partner calls in flight per connection |
 * | ITSMC_DELIVERY_RATE | 500 | partner calls per second per connection (token bucket; halves on 429) |
 * | ITSMC_DELIVERY_BREAKER_FAILURES / _OPEN_MS | 5 / 2000 | circuit breaker: consecutive failures to open, first open time (doubles, max 60 s) |
 * | ITSMC_DELIVERY_AUTH_PAUSE_MS | 30000 | wait after a failed sign-in before trying the connection again |
 * | ITSMC_INGEST_BATCH / ITSMC_INGEST_BATCH_MS | 512 / 0 | group commit: most alerts per transaction; how long an idle committer waits for more (0 = same event-loop turn; batches form while a commit is written) |
 * | ITSMC_PARTNER_TIMEOUT_MS | 30000 | per-request timeout of partner calls |
 */
import type { DeliveryOptions } from './engine.ts';
import type { IngestOptions } from './ingest.ts';
import { defaultBackoff } from './backoff.ts';
import { defaultGateOptions } from './gate.ts';
import { defaultGroupCommit } from './group-commit.ts';

export interface DeliverySettings {
  enabled: boolean;
  engine: Partial<DeliveryOptions>;
  ingest: IngestOptions;
  partnerTimeoutMs?: number;
}

function int(v: string | undefined, fallback: number, min = 0): number {
  const n = v === undefined || v === '' ? NaN : Number(v);
  return Number.isFinite(n) && n >= min ? Math.floor(n) : fallback;
}

export function readDeliverySettings(env: NodeJS.ProcessEnv = process.env): DeliverySettings {
  return {
    enabled: env.ITSMC_DELIVERY !== '0',
    engine: {
      leaseMs: int(env.ITSMC_DELIVERY_LEASE_MS, 30_000, 100),
      pollMs: int(env.ITSMC_DELIVERY_POLL_MS, 250, 5),
      backoff: { baseMs: int(env.ITSMC_DELIVERY_BACKOFF_BASE_MS, defaultBackoff.baseMs, 1), maxMs: int(env.ITSMC_DELIVERY_BACKOFF_MAX_MS, defaultBackoff.maxMs, 1) },
      authPauseMs: int(env.ITSMC_DELIVERY_AUTH_PAUSE_MS, 30_000, 10),
      gate: {
        ...defaultGateOptions,
        concurrency: int(env.ITSMC_DELIVERY_CONCURRENCY, defaultGateOptions.concurrency, 1),
        ratePerSecond: int(env.ITSMC_DELIVERY_RATE, defaultGateOptions.ratePerSecond, 1),
        burst: int(env.ITSMC_DELIVERY_RATE, defaultGateOptions.burst, 1),
        failureThreshold: int(env.ITSMC_DELIVERY_BREAKER_FAILURES, defaultGateOptions.failureThreshold, 1),
        openMs: int(env.ITSMC_DELIVERY_BREAKER_OPEN_MS, defaultGateOptions.openMs, 10),
      },
    },
    ingest: {
      maxAttempts: int(env.ITSMC_DELIVERY_MAX_ATTEMPTS, 10, 1),
      groupCommit: { maxItems: int(env.ITSMC_INGEST_BATCH, defaultGroupCommit.maxItems, 1), maxDelayMs: int(env.ITSMC_INGEST_BATCH_MS, defaultGroupCommit.maxDelayMs, 0) },
    },
    partnerTimeoutMs: env.ITSMC_PARTNER_TIMEOUT_MS ? int(env.ITSMC_PARTNER_TIMEOUT_MS, 30_000, 100) : undefined,
  };
}
