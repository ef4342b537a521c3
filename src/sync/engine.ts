/**
 * The data sync engine: per connection and scope, an initial backfill of `sync_data_days` and then
 * incremental runs by last-modified watermark. Partner-generic: it only sees PartnerClient.listChangedSince.
 *
 * Guarantees:
 * - Exactly one process runs a connection's sync at a time: a lease row (`sync:<connection id>`) taken
 *   before the run, renewed by a heartbeat and, as a fence, inside every page-commit transaction.
 * - Nothing lost, nothing duplicated across crashes: rows, content hashes and the sync position
 *   (watermark + paging cursor) commit in one transaction per page; a restarted run resumes at the page
 *   after the last committed one, and a record already stored with the same content adds no row.
 * - Incremental runs start at `watermark - overlap`: records the partner commits late with an older
 *   last-modified time are still read; the content hash keeps the overlap from adding rows.
 * - Rate limits: a 429 asking for a short wait is waited out; a longer one stops the run (the position is
 *   committed) and the next run resumes.
 */
import type { Store } from '../store/store.ts';
import type { ConnectionsTable } from '../store/schema.ts';
import type { SyncPageRecord } from '../store/workspace-rows.ts';
import { LeaseLostError } from '../store/lease-lost.ts';
import type { SyncCursor } from '../store/sync-state.ts';
import { PartnerError, type ChangedPage, type PartnerClient, type SyncScope } from '../partners/partner.ts';
import { holderIsDead, newHolderId } from './holder.ts';
import type { ConnectorLog } from './connector-log.ts';

export const SYNC_SCOPES: readonly SyncScope[] = ['Incident', 'ChangeRequest'];
export const DEFAULT_INTERVAL_SECONDS = 300;
export const MIN_INTERVAL_SECONDS = 30;
export const MAX_SYNC_DAYS = 120;
const DAY_MS = 86_400_000;

export interface SyncEngineOptions {
  /** Lease holder id of this process (default host:pid:random). */
  holder?: string;
  /** Lease time to live; the heartbeat renews it every third of that. Default 60 s. */
  leaseTtlMs?: number;
  /** Records per partner page. Default 1000. */
  pageSize?: number;
  /** Incremental runs re-read this much before the watermark. Default 120 s. */
  overlapMs?: number;
  /** A 429 asking to wait at most this long is waited out; a longer one stops the run. Default 30 s. */
  maxRateLimitWaitMs?: number;
  /** Retries of a page on `unavailable` (5xx, timeout) within a run, with backoff. Default 2. */
  unavailableRetries?: number;
  /** Base of that backoff. Default 1 s. */
  retryBaseMs?: number;
  /** Where failures and status changes go (ServiceDeskLog_CL). */
  log?: ConnectorLog;
  /** A client for a stored connection (ConnectionService.client). */
  client: (row: ConnectionsTable) => Promise<PartnerClient>;
  /** Puts the connection in Degraded/Error and logs the status change (ConnectionService.recordFailure). */
  recordFailure?: (row: ConnectionsTable, err: unknown) => Promise<void>;
  /** The partner answered a whole run (ConnectionService.reachable: delivery resumes at once). */
  recordSuccess?: (row: ConnectionsTable) => Promise<void>;
}

export interface ScopeResult {
  scope: SyncScope;
  /** Records read from the partner in this run. */
  fetched: number;
  /** Rows added to ServiceDesk_CL (new or changed records). */
  appended: number;
  /** Records read again with unchanged content (overlap, retries): no row added. */
  unchanged: number;
  pages: number;
  /** Start of the window read: records changed at or after this time (ISO). */
  since: string;
  /** This run was (part of) the initial backfill. */
  backfill: boolean;
  /** The run reached the end of the changes; false when it stopped early (rate limit, error). */
  complete: boolean;
  watermark: string | null;
  error?: string;
}

export type RunStatus = 'ok' | 'partial' | 'failed' | 'busy';

export interface SyncRunResult {
  workspace: string;
  connection: string;
  status: RunStatus;
  startedAt: string;
  durationMs: number;
  fetched: number;
  appended: number;
  unchanged: number;
  scopes: ScopeResult[];
  error?: string;
  /** When the next run should start at the earliest (rate limit), epoch ms. */
  retryAt?: number;
}

class StopRun extends Error {
  constructor(
    readonly partnerError: PartnerError,
    readonly retryAt?: number,
  ) {
    super(partnerError.message);
  }
}

class Aborted extends Error {
  constructor() {
    super('the connector is shutting down');
  }
}

export function leaseName(connectionId: string): string {
  return `sync:${connectionId}`;
}

/** The scopes a connection syncs (its data_sync_scope), in a fixed order. */
export function connectionScopes(row: ConnectionsTable): SyncScope[] {
  let scopes: unknown;
  try {
    scopes = JSON.parse(row.data_sync_scope);
  } catch {
    scopes = [];
  }
  const wanted = new Set(Array.isArray(scopes) ? scopes.map(String) : []);
  return SYNC_SCOPES.filter((s) => wanted.has(s));
}

export function syncDays(row: ConnectionsTable): number {
  const d = Number(row.sync_data_days);
  return Number.isFinite(d) ? Math.min(MAX_SYNC_DAYS, Math.max(1, Math.floor(d))) : MAX_SYNC_DAYS;
}

export function intervalMs(row: ConnectionsTable): number {
  const s = Number(row.sync_interval_seconds);
  return Math.max(MIN_INTERVAL_SECONDS, Number.isFinite(s) && s > 0 ? s : DEFAULT_INTERVAL_SECONDS) * 1000;
}

function maxIso(a: string | null, b: string | null): string | null {
  if (a === null) return b;
  if (b === null) return a;
  return Date.parse(a) >= Date.parse(b) ? a : b;
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export class SyncEngine {
  readonly holder: string;
  private readonly ttl: number;
  private readonly pageSize: number;
  private readonly overlapMs: number;
  private readonly maxWait: number;
  private readonly retries: number;
  private readonly retryBase: number;
  private readonly running = new Map<string, Promise<SyncRunResult>>();
  private readonly abort = new AbortController();
  /** TimeGenerated of the last committed page: strictly increasing, so arg_max never ties within a process. */
  private lastTime = 0;

  constructor(
    private readonly store: Store,
    private readonly options: SyncEngineOptions,
  ) {
    this.holder = options.holder ?? newHolderId();
    this.ttl = options.leaseTtlMs ?? 60_000;
    this.pageSize = options.pageSize ?? 1000;
    this.overlapMs = options.overlapMs ?? 120_000;
    this.maxWait = options.maxRateLimitWaitMs ?? 30_000;
    this.retries = options.unavailableRetries ?? 2;
    this.retryBase = options.retryBaseMs ?? 1000;
  }

  /** True while this process runs the connection's sync. */
  isRunning(connectionId: string): boolean {
    return this.running.has(connectionId);
  }

  /** Stops taking new work, interrupts waits and lets running pages finish; resolves when all runs ended. */
  async close(): Promise<void> {
    this.abort.abort();
    await Promise.allSettled([...this.running.values()]);
  }

  /**
   * Runs a sync of the connection unless one is already running in this process (then that run's
   * result). When another process holds the lease the result is `busy`.
   */
  run(row: ConnectionsTable): Promise<SyncRunResult> {
    const existing = this.running.get(row.id);
    if (existing) return existing;
    const promise = this.runLeased(row).finally(() => this.running.delete(row.id));
    this.running.set(row.id, promise);
    return promise;
  }

  /**
   * Sync now (on demand): waits for a run already under way in this process and then runs a fresh one,
   * so the caller sees changes made before the call; waits up to `waitMs` for another process's lease.
   */
  async runNow(row: ConnectionsTable, waitMs = 30_000): Promise<SyncRunResult> {
    const deadline = Date.now() + waitMs;
    for (;;) {
      const existing = this.running.get(row.id);
      if (existing) {
        await existing.catch(() => undefined);
        continue;
      }
      const fresh = (await this.store.connections.getById(row.id)) ?? row;
      const result = await this.run(fresh);
      if (result.status !== 'busy' || Date.now() >= deadline || this.abort.signal.aborted) return result;
      await this.sleep(Math.min(500, Math.max(50, deadline - Date.now()))).catch(() => undefined);
    }
  }

  /** Runs `fn` under the connection's lease (configuration refresh); false when another process holds it. */
  async withLease(row: ConnectionsTable, fn: () => Promise<void>): Promise<boolean> {
    const name = leaseName(row.id);
    if (!(await this.acquire(name))) return false;
    try {
      await fn();
    } finally {
      await this.store.leases.release(name, this.holder).catch(() => undefined);
    }
    return true;
  }

  private async acquire(name: string): Promise<boolean> {
    if (await this.store.leases.tryAcquire(name, this.holder, this.ttl)) return true;
    const lease = await this.store.leases.get(name);
    if (lease && lease.holder !== this.holder && holderIsDead(lease.holder)) return this.store.leases.takeOver(name, lease.holder, this.holder, this.ttl);
    return false;
  }

  private async runLeased(row: ConnectionsTable): Promise<SyncRunResult> {
    const started = Date.now();
    const base = { workspace: row.workspace, connection: row.name, startedAt: new Date(started).toISOString() };
    const name = leaseName(row.id);
    if (this.abort.signal.aborted || !(await this.acquire(name))) {
      return { ...base, status: 'busy', durationMs: Date.now() - started, fetched: 0, appended: 0, unchanged: 0, scopes: [] };
    }
    let leaseLost = false;
    const heartbeat = setInterval(
      () => {
        this.store.leases.renew(name, this.holder, this.ttl).then(
          (ok) => {
            if (!ok) leaseLost = true;
          },
          () => undefined,
        );
      },
      Math.max(250, Math.floor(this.ttl / 3)),
    );
    heartbeat.unref();
    try {
      const runId = await this.store.syncRuns.start(row.id, this.holder, Date.now());
      const result = await this.runScopes(row, base, started, () => leaseLost);
      // Recorded before the lease is released: the history never shows two runs of a connection overlapping.
      await this.store.syncRuns.finish(runId, Date.now(), result.status, result.fetched, result.appended, result.error ?? null).catch(() => undefined);
      return result;
    } finally {
      clearInterval(heartbeat);
      await this.store.leases.release(name, this.holder).catch(() => undefined);
    }
  }

  private async runScopes(
    row: ConnectionsTable,
    base: { workspace: string; connection: string; startedAt: string },
    started: number,
    lost: () => boolean,
  ): Promise<SyncRunResult> {
    const scopes: ScopeResult[] = [];
    let failure: unknown;
    let retryAt: number | undefined;
    let client: PartnerClient | undefined;
    try {
      client = await this.options.client(row);
    } catch (err) {
      failure = err;
    }
    for (const scope of client ? connectionScopes(row) : []) {
      const outcome = await this.syncScope(row, client!, scope, started, lost);
      scopes.push(outcome.scope);
      if (outcome.failure === undefined) continue;
      failure = outcome.failure instanceof StopRun ? outcome.failure.partnerError : outcome.failure;
      if (outcome.failure instanceof StopRun) retryAt = outcome.failure.retryAt;
      // Credentials, permissions, rate limits or a shutdown stop every scope; a scope-specific failure lets the next one run.
      if (!(failure instanceof PartnerError && (failure.kind === 'not-found' || failure.kind === 'invalid'))) break;
    }
    const totals = scopes.reduce((t, s) => ({ fetched: t.fetched + s.fetched, appended: t.appended + s.appended, unchanged: t.unchanged + s.unchanged }), {
      fetched: 0,
      appended: 0,
      unchanged: 0,
    });
    const status: RunStatus = failure === undefined ? 'ok' : scopes.some((s) => s.pages > 0) ? 'partial' : 'failed';
    const result: SyncRunResult = { ...base, status, durationMs: Date.now() - started, ...totals, scopes, ...(retryAt ? { retryAt } : {}) };
    if (failure !== undefined) result.error = message(failure);
    await this.afterRun(row, result, failure);
    return result;
  }

  /** Connection status, last sync time and the connector log. */
  private async afterRun(row: ConnectionsTable, result: SyncRunResult, failure: unknown): Promise<void> {
    const log = this.options.log;
    if (failure === undefined) {
      const now = Date.now();
      const healed = row.status !== 'Healthy';
      await this.store.connections.update(row.id, { last_sync_at: now, ...(healed ? { status: 'Healthy', last_error: null } : {}) });
      await this.options.recordSuccess?.(row);
      if (log && (result.appended > 0 || healed)) {
        const detail = result.scopes.map((s) => `${s.scope}: ${s.fetched} read, ${s.appended} new rows${s.backfill ? ' (initial sync)' : ''}`).join('; ');
        await log.write({
          workspace: row.workspace,
          connection: row.name,
          logType: 'INFO',
          message: healed ? `data sync succeeded; connection ${row.name} is Healthy again (was ${row.status}). ${detail}` : `data sync completed. ${detail}`,
          status: true,
          connectionState: 'Healthy',
          partnerType: row.partner_type,
        });
      }
      return;
    }
    if (failure instanceof Aborted || failure instanceof LeaseLostError) return;
    const err = failure;
    if (log) {
      await log.write({
        workspace: row.workspace,
        connection: row.name,
        logType: err instanceof PartnerError && err.kind === 'rate-limited' ? 'WARNING' : 'ERROR',
        message:
          err instanceof PartnerError && err.kind === 'rate-limited'
            ? `data sync paused by the ITSM rate limit; it resumes where it stopped${result.retryAt ? ` after ${new Date(result.retryAt).toISOString()}` : ''}`
            : `data sync failed${result.status === 'partial' ? ' part way; committed pages are kept and the next run resumes' : ''}`,
        exception: message(err),
        status: false,
        connectionState: err instanceof PartnerError && err.retryable ? 'Degraded' : 'Error',
        partnerType: row.partner_type,
      });
    }
    await this.options.recordFailure?.(row, err);
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const signal = this.abort.signal;
      if (signal.aborted) return reject(new Aborted());
      const timer = setTimeout(() => {
        signal.removeEventListener('abort', onAbort);
        resolve();
      }, ms);
      const onAbort = () => {
        clearTimeout(timer);
        reject(new Aborted());
      };
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** One page, waiting out short rate limits and retrying brief outages. */
  private async fetchPage(client: PartnerClient, scope: SyncScope, since: string, next: string | undefined, lost: () => boolean): Promise<ChangedPage> {
    let waited = 0;
    for (let attempt = 0; ; attempt++) {
      if (this.abort.signal.aborted) throw new Aborted();
      if (lost()) throw new LeaseLostError('the sync lease was taken over by another process; this run stops without committing');
      try {
        return await client.listChangedSince(scope, since, next, this.pageSize);
      } catch (err) {
        if (!(err instanceof PartnerError)) throw err;
        if (err.kind === 'rate-limited') {
          const wait = Math.max(0, err.details.retryAfterMs ?? 5_000);
          if (waited + wait > this.maxWait) throw new StopRun(err, Date.now() + wait);
          waited += wait;
          await this.sleep(wait);
          continue;
        }
        if (err.kind === 'unavailable' && attempt < this.retries) {
          await this.sleep(this.retryBase * 2 ** attempt);
          continue;
        }
        throw err;
      }
    }
  }

  private async syncScope(
    row: ConnectionsTable,
    client: PartnerClient,
    scope: SyncScope,
    started: number,
    lost: () => boolean,
  ): Promise<{ scope: ScopeResult; failure?: unknown }> {
    const state = await this.store.syncState.get(row.id, scope);
    const resume = state?.cursor ?? null;
    const backfillDone = state?.backfillDone ?? false;
    let cursor: SyncCursor;
    if (resume) cursor = resume;
    else if (backfillDone && state?.watermark)
      cursor = { since: new Date(Date.parse(state.watermark) - this.overlapMs).toISOString(), next: '', max: null, backfill: false };
    else cursor = { since: new Date(started - syncDays(row) * DAY_MS).toISOString(), next: '', max: null, backfill: !backfillDone };
    const result: ScopeResult = {
      scope,
      fetched: 0,
      appended: 0,
      unchanged: 0,
      pages: 0,
      since: cursor.since,
      backfill: cursor.backfill,
      complete: false,
      watermark: state?.watermark ?? null,
    };
    const leaseInfo = { name: leaseName(row.id), holder: this.holder, ttlMs: this.ttl };

    let pending: Promise<ChangedPage> | null = this.fetchPage(client, scope, cursor.since, cursor.next || undefined, lost);
    // Three stages overlap: the partner serves page N+1 while this thread converts page N and the store
    // commits page N-1. Page N commits only after page N-1 did (`after`), so the position never skips a page.
    let committing: Promise<void> | null = null;
    try {
      while (pending) {
        const page: ChangedPage = await pending;
        // Read the next page while this one commits (the cursor comes with the page).
        pending = page.next ? this.fetchPage(client, scope, cursor.since, page.next, lost) : null;
        pending?.catch(() => undefined);
        // Let the request for the next page go out before this page's conversion.
        if (pending) await new Promise<void>((resolve) => setImmediate(resolve));
        const records: SyncPageRecord[] = page.records.map((r) => ({ id: r.id, updatedAt: r.updatedAt, row: r.row }));
        let pageMax = cursor.max;
        for (const r of page.records) pageMax = maxIso(pageMax, r.updatedAt);
        const final = !page.next;
        const nextCursor: SyncCursor | null = final ? null : { ...cursor, next: page.next!, max: pageMax };
        const watermark = final ? maxIso(state?.watermark ?? null, pageMax) : (state?.watermark ?? null);
        const time = Math.max(Date.now(), this.lastTime + 1);
        this.lastTime = time;
        const previous: Promise<void> | null = committing;
        committing = this.store.workspaceRows
          .commitSyncPage({
            connectionId: row.id,
            workspace: row.workspace,
            connectionName: row.name,
            scope,
            records,
            timeGenerated: time,
            state: { watermark, cursor: nextCursor ? JSON.stringify(nextCursor) : null, backfillDone: final ? true : backfillDone, runAt: time },
            lease: leaseInfo,
            after: previous ?? undefined,
          })
          .then((committed) => {
            result.pages++;
            result.fetched += records.length;
            result.appended += committed.appended;
            result.unchanged += committed.unchanged;
            result.watermark = watermark;
            if (final) result.complete = true;
          });
        committing.catch(() => undefined);
        if (nextCursor) cursor = nextCursor;
        if (previous) await previous;
      }
      if (committing) await committing;
    } catch (err) {
      // A page still committing finishes (or fails) before the run reports; its outcome is counted.
      await committing?.catch(() => undefined);
      result.error = message(err);
      if (!(err instanceof Aborted || err instanceof LeaseLostError))
        await this.store.syncState.recordError(row.id, scope, result.error).catch(() => undefined);
      return { scope: result, failure: err };
    }
    return { scope: result };
  }
}
