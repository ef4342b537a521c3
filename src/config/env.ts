import path from 'node:path';
import type { DeliverySettings } from '../delivery/settings.ts';
import { defaultBackoff } from '../delivery/backoff.ts';
import { defaultGateOptions } from '../delivery/gate.ts';
import { defaultGroupCommit } from '../delivery/group-commit.ts';
import { sandboxedPartners } from '../partners/registry.ts';

/** Every environment variable the connector reads, in one place (the README lists the same). */
export interface Settings {
  port: number;
  host: string;
  dataDir: string;
  databaseUrl?: string;
  adminToken?: string;
  masterKey?: string;
  /** Former master key(s) still accepted for decryption during a key rotation (ITSMC_MASTER_KEY_PREVIOUS). */
  masterKeyPrevious?: string;
  sandbox: boolean;
  /** Port of each bundled partner sandbox on 127.0.0.1, by partner type (its descriptor names the variable). */
  sandboxPorts: Record<string, number>;
  allowedPartnerHosts: string[];
  tlsCert?: string;
  tlsKey?: string;
  bodyLimitBytes: number;
  /** Time allowed to receive a whole request, headers and body (ITSMC_REQUEST_TIMEOUT_MS). */
  requestTimeoutMs: number;
  logLevel: string;
  publicUrl?: string;
  /** KQL query API: statement timeout (ITSMC_QUERY_TIMEOUT_MS) and row cap (ITSMC_QUERY_ROW_CAP). */
  queryTimeoutMs: number;
  queryRowCap: number;
  /** Data sync scheduler on (ITSMC_SYNC=0 turns it off; on-demand sync still works). */
  syncEnabled: boolean;
  /** Records per partner page during data sync (ITSMC_SYNC_PAGE_SIZE). */
  syncPageSize: number;
  /** Sync lease time to live (ITSMC_SYNC_LEASE_MS): how long a crashed process on another host blocks a connection. */
  syncLeaseMs: number;
  /** Delivery workers, ingest group commit and partner calls (ITSMC_DELIVERY_*, ITSMC_INGEST_*, ITSMC_PARTNER_TIMEOUT_MS). */
  delivery: DeliverySettings;
}

export function readSettings(env: NodeJS.ProcessEnv = process.env): Settings {
  return {
    port: intOr(env.PORT, 8080),
    host: env.ITSMC_HOST || '0.0.0.0',
    dataDir: path.resolve(env.ITSMC_DATA_DIR || './data'),
    databaseUrl: env.ITSMC_DATABASE_URL || undefined,
    adminToken: env.ITSMC_ADMIN_TOKEN || undefined,
    masterKey: env.ITSMC_MASTER_KEY || undefined,
    masterKeyPrevious: env.ITSMC_MASTER_KEY_PREVIOUS || undefined,
    sandbox: env.ITSMC_SANDBOX !== '0',
    sandboxPorts: Object.fromEntries(sandboxedPartners().map((p) => [p.type, intOr(env[p.sandbox.quickStart.portEnv], p.sandbox.quickStart.defaultPort)])),
    allowedPartnerHosts: (env.ITSMC_ALLOWED_PARTNER_HOSTS || '')
      .split(',')
      .map((h) => h.trim().toLowerCase())
      .filter(Boolean),
    tlsCert: env.ITSMC_TLS_CERT || undefined,
    tlsKey: env.ITSMC_TLS_KEY || undefined,
    bodyLimitBytes: intOr(env.ITSMC_BODY_LIMIT_BYTES, 1024 * 1024),
    requestTimeoutMs: Math.max(100, intOr(env.ITSMC_REQUEST_TIMEOUT_MS, 30_000)),
    logLevel: env.ITSMC_LOG_LEVEL || 'info',
    publicUrl: env.ITSMC_PUBLIC_URL || undefined,
    queryTimeoutMs: Math.max(100, intOr(env.ITSMC_QUERY_TIMEOUT_MS, 30_000)),
    queryRowCap: Math.max(1, intOr(env.ITSMC_QUERY_ROW_CAP, 30_000)),
    syncEnabled: env.ITSMC_SYNC !== '0',
    syncPageSize: Math.min(10_000, Math.max(1, intOr(env.ITSMC_SYNC_PAGE_SIZE, 1000))),
    syncLeaseMs: Math.max(1000, intOr(env.ITSMC_SYNC_LEASE_MS, 60_000)),
    delivery: readDeliverySettings(env),
  };
}

/** The delivery variables (see the README's configuration table and src/delivery/settings.ts). */
function readDeliverySettings(env: NodeJS.ProcessEnv): DeliverySettings {
  const int = (v: string | undefined, fallback: number, min = 0): number => {
    const n = v === undefined || v === '' ? NaN : Number(v);
    return Number.isFinite(n) && n >= min ? Math.floor(n) : fallback;
  };
  return {
    enabled: env.ITSMC_DELIVERY !== '0',
    engine: {
      leaseMs: int(env.ITSMC_DELIVERY_LEASE_MS, 30_000, 100),
      pollMs: int(env.ITSMC_DELIVERY_POLL_MS, 250, 5),
      backoff: {
        baseMs: int(env.ITSMC_DELIVERY_BACKOFF_BASE_MS, defaultBackoff.baseMs, 1),
        maxMs: int(env.ITSMC_DELIVERY_BACKOFF_MAX_MS, defaultBackoff.maxMs, 1),
      },
      authPauseMs: int(env.ITSMC_DELIVERY_AUTH_PAUSE_MS, 30_000, 10),
      // Deliveries in flight get this long on shutdown, so `serve` stops within its 9 s deadline.
      stopTimeoutMs: 6_000,
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
      groupCommit: {
        maxItems: int(env.ITSMC_INGEST_BATCH, defaultGroupCommit.maxItems, 1),
        maxDelayMs: int(env.ITSMC_INGEST_BATCH_MS, defaultGroupCommit.maxDelayMs, 0),
      },
    },
    partnerTimeoutMs: env.ITSMC_PARTNER_TIMEOUT_MS ? int(env.ITSMC_PARTNER_TIMEOUT_MS, 30_000, 100) : undefined,
  };
}

function intOr(value: string | undefined, fallback: number): number {
  const n = value === undefined || value === '' ? NaN : Number(value);
  return Number.isInteger(n) && n >= 0 ? n : fallback;
}
