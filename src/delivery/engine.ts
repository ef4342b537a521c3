/**
 * The delivery engine: workers that drain the outbox (jobs table) into partner calls. This file is the
 * claim loop and the leases; a claimed key is worked by `key-run.ts`, its calls go through
 * `partner-caller.ts` and its jobs end in `job-settlement.ts` (commit, retry or dead letter).
 *
 * - Claims: per ordering key (= dedup key) the head job plus the jobs queued behind it (up to
 *   `maxBatch`), under a lease renewed by a heartbeat. On PostgreSQL several processes claim from one
 *   queue with `FOR UPDATE SKIP LOCKED`; per key there is never more than one runner.
 * - Decisions come from the pure grouping core (`decide`, `flushPending`), one job at a time in order,
 *   against the key's link state. Decisions that need no call (redeliveries, occurrences coalesced under
 *   a storm) are acknowledged without one; consecutive work notes are merged into one call and folded
 *   into a following resolve — a storm of N alerts on one key costs one create, one resolve and at most
 *   one note per coalescing window.
 * - Every call goes through the connection's gate (concurrency, adaptive token bucket, circuit breaker).
 * - Link state, job acknowledgements (fenced on the lease) and workspace outcome rows commit in one
 *   transaction after each successful call. A create whose outcome is unknown (timeout, 5xx, crash
 *   before that commit) is retried only after `findByCorrelationKey` found nothing: a lost response
 *   never produces a second work item.
 * - Failures: 429 and expired sign-ins postpone the jobs without using an attempt; 5xx/timeouts back
 *   off exponentially with jitter; after `max_attempts` (or at once for errors a retry cannot fix) the
 *   job is dead-lettered, with a `Failed` outcome row and a ServiceDeskLog_CL error line.
 */
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { Store } from '../store/store.ts';
import { LeaseLostError, type JobRow } from '../store/jobs.ts';
import type { ConnectionService } from '../connections/service.ts';
import type { ActionGroupService } from '../actiongroups/service.ts';
import type { PartnerClient } from '../partners/partner.ts';
import type { WorkUnit } from '../actions/grouping.ts';
import { backoffDelay, defaultBackoff, type BackoffOptions } from './backoff.ts';
import { defaultGateOptions, type ConnectionGate, type GateOptions } from './gate.ts';
import { decodeJobPayload } from './payload.ts';
import { errorText } from './failure-policy.ts';
import { DELIVER_KIND, FLUSH_KIND } from './ingest.ts';
import type { LinkRecord } from './link-state.ts';
import { KeyRun } from './key-run.ts';
import { PartnerCaller, type CallStats } from './partner-caller.ts';
import { JobSettlement, type SettlementStats } from './job-settlement.ts';
import type { Ctx, KeyRunHost, Step } from './run-types.ts';

export interface DeliveryOptions {
  /** Identifies this process's leases (default host:pid:random). */
  workerId: string;
  /** Keys processed at once by this process, over all connections. */
  maxInFlight: number;
  /** Jobs of one key claimed together (coalescing). */
  maxBatch: number;
  /** Job lease; renewed every third of it while the job is worked on. */
  leaseMs: number;
  /** Idle poll (due retries, scheduled flushes, other processes' jobs). */
  pollMs: number;
  /**
   * After a claim that found less than it could take, the next one waits at least this long even when
   * new jobs are announced: under a storm jobs then pile up per key and are processed in batches
   * (coalescing) instead of one transaction each. Adds at most this much latency.
   */
  claimIntervalMs: number;
  backoff: BackoffOptions;
  gate: GateOptions;
  /** How long a connection whose sign-in failed is left alone before the next try. */
  authPauseMs: number;
  /** How long a CI lookup result is reused. */
  ciCacheMs: number;
  /** How long `stop` waits for calls in flight. */
  stopTimeoutMs: number;
}

export function defaultDeliveryOptions(): DeliveryOptions {
  return {
    workerId: `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`,
    maxInFlight: 64,
    maxBatch: 500,
    leaseMs: 30_000,
    pollMs: 250,
    claimIntervalMs: 10,
    backoff: defaultBackoff,
    gate: defaultGateOptions,
    authPauseMs: 30_000,
    ciCacheMs: 5 * 60_000,
    stopTimeoutMs: 15_000,
  };
}

export type DeliveryStats = CallStats & SettlementStats;

type Logger = (level: 'info' | 'warn' | 'error', message: string, err?: unknown) => void;

export class DeliveryEngine implements KeyRunHost {
  readonly options: DeliveryOptions;
  readonly stats: DeliveryStats = { calls: {}, partnerCalls: 0, callFailures: 0, acked: 0, dead: 0 };
  private running = false;
  private loopDone: Promise<void> = Promise.resolve();
  private readonly inFlight = new Map<number, { jobs: JobRow[]; connectionId: string; done: Promise<void> }>();
  private readonly groupsPerConnection = new Map<string, number>();
  private readonly caller: PartnerCaller;
  private readonly settle: JobSettlement;
  private wakeUp: (() => void) | null = null;
  private woken = false;
  /**
   * After a claim that found nothing: the connections it had to leave out (full, paused or breaker open). New
   * jobs of only these connections cannot be claimed either, so their wakes are ignored until a key finishes.
   * Without this, an ingest storm for one busy connection re-ran the claim (a scan of its whole backlog) after
   * every ingest commit.
   */
  private idleExcept: Set<string> | null = null;
  private heartbeat: NodeJS.Timeout | null = null;

  constructor(
    readonly store: Store,
    connections: ConnectionService,
    private readonly groups: ActionGroupService,
    options: Partial<DeliveryOptions> = {},
    private readonly logger: Logger = () => {},
  ) {
    const defaults = defaultDeliveryOptions();
    this.options = { ...defaults, ...options, gate: { ...defaults.gate, ...options.gate }, backoff: { ...defaults.backoff, ...options.backoff } };
    this.caller = new PartnerCaller(store, connections, this.options, this.stats, logger);
    this.settle = new JobSettlement(store, connections, this.options, this.stats);
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.heartbeat = setInterval(() => void this.renewLeases(), Math.max(50, Math.floor(this.options.leaseMs / 3)));
    this.heartbeat.unref();
    this.loopDone = this.loop();
  }

  /** Stops claiming, waits for the keys in flight (up to stopTimeoutMs); unfinished jobs are reclaimed later. */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.wake();
    await this.loopDone;
    const pending = [...this.inFlight.values()].map((f) => f.done);
    await Promise.race([Promise.allSettled(pending), new Promise((r) => setTimeout(r, this.options.stopTimeoutMs).unref())]);
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.heartbeat = null;
  }

  /** New jobs are waiting (after an ingest commit: for these connections), or a key finished. */
  wake(connectionIds?: ReadonlySet<string>): void {
    const skipped = this.idleExcept;
    if (connectionIds && skipped && [...connectionIds].every((id) => skipped.has(id))) return;
    this.idleExcept = null;
    this.woken = true;
    const w = this.wakeUp;
    this.wakeUp = null;
    w?.();
  }

  /**
   * The connection works again (test, sync or sign-in succeeded): its pauses end, its breaker closes and its
   * jobs waiting for a retry become due now.
   */
  async resume(connectionId: string): Promise<void> {
    this.caller.resume(connectionId);
    await this.store.jobs.resumeConnection(connectionId, [DELIVER_KIND]);
    this.wake();
  }

  /** The gate of a connection (tests and metrics read its breaker state). */
  gateOf(connectionId: string): ConnectionGate | undefined {
    return this.caller.gateOf(connectionId);
  }

  // ------------------------------------------------------------------ loop

  private async loop(): Promise<void> {
    let lastShortClaim = 0;
    let lastExpiredScan = 0;
    while (this.running) {
      const free = this.options.maxInFlight - this.inFlight.size;
      const pace = lastShortClaim + this.options.claimIntervalMs - Date.now();
      if (free > 0 && pace > 0) await new Promise((r) => setTimeout(r, pace));
      this.woken = false;
      let claimed = 0;
      if (free > 0) {
        try {
          const { exclude, slots } = this.caller.slots(this.groupsPerConnection);
          // Jobs of a worker that died are looked for at most once per poll interval (one statement less per claim).
          const scanExpired = Date.now() - lastExpiredScan >= this.options.pollMs;
          const groups = await this.store.jobs.claim({
            workerId: this.options.workerId,
            kinds: [DELIVER_KIND, FLUSH_KIND],
            deferrableKinds: [FLUSH_KIND],
            skipKeys: [...this.inFlight.values()].map((f) => f.jobs[0].ordering_key),
            limit: free,
            maxBatch: this.options.maxBatch,
            leaseMs: this.options.leaseMs,
            excludeConnections: exclude,
            slots,
            defaultSlots: this.caller.keysPerConnection(),
            includeExpired: scanExpired,
          });
          if (scanExpired) lastExpiredScan = Date.now();
          for (const g of groups) this.launch(g);
          claimed = groups.length;
          this.idleExcept = claimed === 0 && !this.woken ? new Set(exclude) : null;
          if (claimed < free) lastShortClaim = Date.now();
        } catch (err) {
          if (!this.running) break;
          this.logger('error', 'claiming delivery jobs failed', err);
        }
      }
      if (!this.running) break;
      if (claimed > 0 && this.inFlight.size < this.options.maxInFlight) continue;
      if (this.woken) continue;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, this.options.pollMs);
        this.wakeUp = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wakeUp = null;
    }
  }

  private launch(jobs: JobRow[]): void {
    const connectionId = jobs[0].connection_id ?? '';
    this.groupsPerConnection.set(connectionId, (this.groupsPerConnection.get(connectionId) ?? 0) + 1);
    const entry = { jobs, connectionId, done: Promise.resolve() };
    this.inFlight.set(jobs[0].id, entry);
    entry.done = this.processGroup(jobs)
      .catch(async (err) => {
        if (err instanceof LeaseLostError) return;
        this.logger('error', `delivery of key ${jobs[0].ordering_key} failed unexpectedly`, err);
        await this.settle.failUnexpectedly(jobs, err, Date.now() + backoffDelay(jobs[0].attempts, this.options.backoff));
      })
      .finally(() => {
        this.inFlight.delete(jobs[0].id);
        const n = (this.groupsPerConnection.get(connectionId) ?? 1) - 1;
        if (n <= 0) this.groupsPerConnection.delete(connectionId);
        else this.groupsPerConnection.set(connectionId, n);
        this.wake();
      });
  }

  private async renewLeases(): Promise<void> {
    const ids = [...this.inFlight.values()].flatMap((f) => f.jobs.map((j) => j.id));
    if (ids.length === 0) return;
    try {
      await this.store.jobs.extend(ids, this.options.workerId, Date.now() + this.options.leaseMs);
    } catch (err) {
      this.logger('warn', 'renewing job leases failed', err);
    }
  }

  // ------------------------------------------------------------------ one key

  private async processGroup(jobs: JobRow[]): Promise<void> {
    const head = jobs[0];
    const first = decodeJobPayload(head);
    // The connection is read beside the (cached) action group: on PostgreSQL each read is a round trip.
    const [group, queuedFor] = await Promise.all([
      first ? this.groups.resolveById(first.g) : null,
      head.connection_id ? this.store.connections.getById(head.connection_id) : undefined,
    ]);
    const receiver = group?.receivers.find((r) => r.name === first?.r);
    // The action group or the ITSM action was deleted since: nothing to deliver to.
    if (!group || !receiver) return this.settle.ackAll(jobs);
    const conn = head.connection_id ? queuedFor : receiver.connectionId ? await this.store.connections.getById(receiver.connectionId) : undefined;
    if (!conn) {
      const why = `connection '${receiver.connectionName}' does not exist (deleted after the alert arrived); recreate it and replay the dead letters`;
      return this.settle.deadLetter(jobs, group, receiver, null, why);
    }
    let client: PartnerClient;
    try {
      client = await this.caller.client(conn);
    } catch (err) {
      // No client for this partner type in this version, or its stored secret cannot be read: a retry will not help.
      return this.settle.deadLetter(jobs, group, receiver, conn, `cannot talk to connection '${conn.name}': ${errorText(err)}`);
    }
    const ctx: Ctx = {
      group,
      receiver,
      conn,
      client,
      gate: this.caller.gate(conn),
      owner: {
        dedupKey: head.ordering_key,
        workspace: group.workspace,
        connectionId: conn.id,
        actionGroupId: group.id,
        receiver: receiver.name,
        workItemType: receiver.config.WorkItemType,
      },
    };
    await new KeyRun(this, ctx, jobs).run();
  }

  // ------------------------------------------------------------------ what a KeyRun asks of the engine

  partnerCall<T>(ctx: Ctx, op: string, fn: () => Promise<T>): Promise<T> {
    return this.caller.call(ctx, op, fn);
  }

  resolveCis(ctx: Ctx, names: string[]): Promise<string[]> {
    return this.caller.resolveCis(ctx, names);
  }

  commit(ctx: Ctx, rec: LinkRecord | null, acks: Step[], flushAts: Iterable<number>): Promise<void> {
    return this.settle.commit(ctx, rec, acks, flushAts);
  }

  failJobs(ctx: Ctx, failing: JobRow, rest: JobRow[], err: unknown, unit?: WorkUnit): Promise<void> {
    return this.settle.failJobs(ctx, failing, rest, err, unit);
  }

  warn(ctx: Ctx, message: string, exception?: string): Promise<void> {
    return this.settle.warn(ctx, message, exception);
  }
}
