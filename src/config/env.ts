import path from 'node:path';

/** Every environment variable the connector reads, in one place (the README lists the same). */
export interface Settings {
  port: number;
  host: string;
  dataDir: string;
  databaseUrl?: string;
  adminToken?: string;
  masterKey?: string;
  sandbox: boolean;
  allowedPartnerHosts: string[];
  tlsCert?: string;
  tlsKey?: string;
  bodyLimitBytes: number;
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
}

export function readSettings(env: NodeJS.ProcessEnv = process.env): Settings {
  return {
    port: intOr(env.PORT, 8080),
    host: env.ITSMC_HOST || '0.0.0.0',
    dataDir: path.resolve(env.ITSMC_DATA_DIR || './data'),
    databaseUrl: env.ITSMC_DATABASE_URL || undefined,
    adminToken: env.ITSMC_ADMIN_TOKEN || undefined,
    masterKey: env.ITSMC_MASTER_KEY || undefined,
    sandbox: env.ITSMC_SANDBOX !== '0',
    allowedPartnerHosts: (env.ITSMC_ALLOWED_PARTNER_HOSTS || '')
      .split(',')
      .map((h) => h.trim().toLowerCase())
      .filter(Boolean),
    tlsCert: env.ITSMC_TLS_CERT || undefined,
    tlsKey: env.ITSMC_TLS_KEY || undefined,
    bodyLimitBytes: intOr(env.ITSMC_BODY_LIMIT_BYTES, 1024 * 1024),
    logLevel: env.ITSMC_LOG_LEVEL || 'info',
    publicUrl: env.ITSMC_PUBLIC_URL || undefined,
    queryTimeoutMs: Math.max(100, intOr(env.ITSMC_QUERY_TIMEOUT_MS, 30_000)),
    queryRowCap: Math.max(1, intOr(env.ITSMC_QUERY_ROW_CAP, 30_000)),
    syncEnabled: env.ITSMC_SYNC !== '0',
    syncPageSize: Math.min(10_000, Math.max(1, intOr(env.ITSMC_SYNC_PAGE_SIZE, 1000))),
    syncLeaseMs: Math.max(1000, intOr(env.ITSMC_SYNC_LEASE_MS, 60_000)),
  };
}

function intOr(value: string | undefined, fallback: number): number {
  const n = value === undefined || value === '' ? NaN : Number(value);
  return Number.isInteger(n) && n >= 0 ? n : fallback;
}
