/**
 * The delivery engine: workers that drain the outbox (jobs table) into partner calls.
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
import type { ConnectionsTable, WorkItemLinksTable } from '../store/schema.ts';
import { LeaseLostError, type JobRow, type NewJob } from '../store/jobs.ts';
import type { ConnectionService } from '../connections/service.ts';
import type { ActionGroupService, ResolvedActionGroup, ResolvedReceiver } from '../actiongroups/service.ts';
import { PartnerError, type PartnerClient } from '../partners/partner.ts';
import type { NormalizedAlert } from '../core/alert.ts';
import { type WorkUnit } from '../actions/grouping.ts';
import { backoffDelay, defaultBackoff, type BackoffOptions } from './backoff.ts';
import { ConnectionGate, defaultGateOptions, type GateEvent, type GateOptions } from './gate.ts';
import { decodeJobPayload, isDeliverPayload } from './payload.ts';
import { errorText, failurePolicy } from './failure-policy.ts';
import { decodeStoredAlert, DELIVER_KIND, FLUSH_KIND, type FlushPayload } from './ingest.ts';
import { toRow, type LinkRecord } from './link-state.ts';
import type { LogRow, OutcomeRow } from '../store/workspace-log.ts';
import { GroupCommitter } from './group-commit.ts';
import { KeyRun } from './key-run.ts';
import { ConnectionBlocked, type Ctx, type KeyRunHost, type Step } from './run-types.ts';
import { CiResolver, defaultCiResolverOptions } from './ci-resolver.ts';

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

export interface DeliveryStats {
  /** Partner calls made (each PartnerClient method call), by operation. */
  calls: Record<string, number>;
  partnerCalls: number;
  callFailures: number;
  /** Jobs finished (acknowledged), dead-lettered. */
  acked: number;
  dead: number;
}

interface CommitRequest {
  row: WorkItemLinksTable | null;
  ackIds: number[];
  outcomes: OutcomeRow[];
  flushJobs: NewJob[];
}

export class DeliveryEngine implements KeyRunHost {
  readonly options: DeliveryOptions;
  readonly stats: DeliveryStats = { calls: {}, partnerCalls: 0, callFailures: 0, acked: 0, dead: 0 };
  private running = false;
  private loopDone: Promise<void> = Promise.resolve();
  private readonly inFlight = new Map<number, { jobs: JobRow[]; connectionId: string; done: Promise<void> }>();
  private readonly groupsPerConnection = new Map<string, number>();
  private readonly gates = new Map<string, ConnectionGate>();
  private readonly clients = new Map<string, { key: string; client: PartnerClient }>();
  private readonly cis: CiResolver;
  private wakeUp: (() => void) | null = null;
  private woken = false;
  private heartbeat: NodeJS.Timeout | null = null;
  private readonly commits = new GroupCommitter<CommitRequest, LeaseLostError | null>((reqs) => this.writeCommits(reqs), { maxItems: 128, maxDelayMs: 0 });

  constructor(
    readonly store: Store,
    private readonly connections: ConnectionService,
    private readonly groups: ActionGroupService,
    options: Partial<DeliveryOptions> = {},
    private readonly logger: (level: 'info' | 'warn' | 'error', message: string, err?: unknown) => void = () => {},
  ) {
    const defaults = defaultDeliveryOptions();
    this.options = { ...defaults, ...options, gate: { ...defaults.gate, ...options.gate }, backoff: { ...defaults.backoff, ...options.backoff } };
    this.cis = new CiResolver(store.leases, this.options.workerId, { ...defaultCiResolverOptions, cacheMs: this.options.ciCacheMs });
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

  /** New jobs are waiting (called after an ingest commit). */
  wake(): void {
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
    this.gates.get(connectionId)?.resume();
    await this.store.jobs.resumeConnection(connectionId, [DELIVER_KIND]);
    this.wake();
  }

  /** The gate of a connection (tests and metrics read its breaker state). */
  gateOf(connectionId: string): ConnectionGate | undefined {
    return this.gates.get(connectionId);
  }

  // ------------------------------------------------------------------ loop

  private async loop(): Promise<void> {
    let lastShortClaim = 0;
    while (this.running) {
      const free = this.options.maxInFlight - this.inFlight.size;
      const pace = lastShortClaim + this.options.claimIntervalMs - Date.now();
      if (free > 0 && pace > 0) await new Promise((r) => setTimeout(r, pace));
      this.woken = false;
      let claimed = 0;
      if (free > 0) {
        try {
          const { exclude, slots } = this.connectionSlots();
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
            defaultSlots: this.options.gate.concurrency,
          });
          for (const g of groups) this.launch(g);
          claimed = groups.length;
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

  private connectionSlots(): { exclude: string[]; slots: Map<string, number> } {
    const now = Date.now();
    const exclude: string[] = [];
    const slots = new Map<string, number>();
    const ids = new Set([...this.gates.keys(), ...this.groupsPerConnection.keys()]);
    for (const id of ids) {
      const gate = this.gates.get(id);
      const busy = this.groupsPerConnection.get(id) ?? 0;
      let free = this.options.gate.concurrency - busy;
      if (gate) {
        if (gate.blockedUntil(now) > now) free = 0;
        else if (gate.breaker === 'half-open') free = busy === 0 ? 1 : 0;
      }
      if (free <= 0) {
        if (id !== '') exclude.push(id);
        slots.set(id, 0);
      } else slots.set(id, free);
    }
    return { exclude, slots };
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
        const [head, ...rest] = jobs;
        const w = this.options.workerId;
        const now = Date.now();
        await this.store.jobs
          .fail([head.id], w, {
            error: errorText(err),
            runAt: now + backoffDelay(head.attempts, this.options.backoff),
            dead: head.attempts >= head.max_attempts,
          })
          .catch(() => {});
        await this.store.jobs
          .fail(
            rest.map((j) => j.id),
            w,
            { error: 'waiting behind a failed job', runAt: now, refund: true },
          )
          .catch(() => {});
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
    const group = first ? await this.groups.resolveById(first.g) : null;
    const receiver = group?.receivers.find((r) => r.name === first?.r);
    if (!group || !receiver) {
      // The action group or the ITSM action was deleted since: nothing to deliver to.
      await this.store.jobs.ack(
        jobs.map((j) => j.id),
        this.options.workerId,
      );
      this.stats.acked += jobs.length;
      return;
    }
    const connectionId = head.connection_id ?? receiver.connectionId;
    const conn = connectionId ? await this.store.connections.getById(connectionId) : undefined;
    if (!conn) {
      await this.deadLetter(
        jobs,
        group,
        receiver,
        null,
        `connection '${receiver.connectionName}' does not exist (deleted after the alert arrived); recreate it and replay the dead letters`,
      );
      return;
    }
    let client: PartnerClient;
    try {
      client = await this.clientFor(conn);
    } catch (err) {
      // No client for this partner type in this version, or its stored secret cannot be read: a retry will not help.
      await this.deadLetter(jobs, group, receiver, conn, `cannot talk to connection '${conn.name}': ${errorText(err)}`);
      return;
    }
    const ctx: Ctx = {
      group,
      receiver,
      conn,
      client,
      gate: this.gateFor(conn),
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

  // ------------------------------------------------------------------ helpers used by KeyRun

  /** One partner call through the connection's gate; classifies the outcome for the gate. */
  async partnerCall<T>(ctx: Ctx, op: string, fn: () => Promise<T>): Promise<T> {
    if (!(await ctx.gate.acquire())) throw new ConnectionBlocked(ctx.gate.blockedUntil() || Date.now() + 1000);
    this.stats.calls[op] = (this.stats.calls[op] ?? 0) + 1;
    this.stats.partnerCalls += 1;
    let result: T;
    try {
      result = await fn();
    } catch (err) {
      this.stats.callFailures += 1;
      if (err instanceof PartnerError) {
        if (err.kind === 'rate-limited') ctx.gate.rateLimited(err.details.retryAfterMs);
        else if (err.kind === 'unavailable' || err.kind === 'protocol') ctx.gate.failure(err.message);
        else if (err.kind === 'auth') ctx.gate.pause(this.options.authPauseMs);
        else ctx.gate.success();
      } else ctx.gate.failure(errorText(err));
      throw err;
    }
    ctx.gate.success();
    if (ctx.conn.status !== 'Healthy') await this.markHealthy(ctx);
    return result;
  }

  /** Partner ids of CIs by name: looked up (and created when the connection allows it) once per name, cached. */
  async resolveCis(ctx: Ctx, names: string[]): Promise<string[]> {
    const ids: string[] = [];
    const allowCreate = ctx.conn.create_new_cis === 1;
    for (const name of names.slice(0, 50)) {
      const id = await this.cis.resolve(ctx.conn.id, name, allowCreate, async () => {
        try {
          return (await this.partnerCall(ctx, 'findOrCreateCi', () => ctx.client.findOrCreateCi(name, allowCreate)))?.id ?? null;
        } catch (err) {
          // A CI name the partner cannot take is skipped; the work item is still created.
          if (err instanceof PartnerError && err.kind === 'invalid') return null;
          throw err;
        }
      });
      if (id) ids.push(id);
    }
    return [...new Set(ids)];
  }

  /** Link state, acks, outcome rows and flush jobs in one transaction (acks fenced on our lease). */
  async commit(ctx: Ctx, rec: LinkRecord | null, acks: Step[], flushAts: Iterable<number>): Promise<void> {
    const now = Date.now();
    const outcomes = acks.filter((s) => s.op && s.unit).map((s) => this.outcome(ctx, s, rec, now));
    const flushJobs: NewJob[] = [...new Set(flushAts)].map((at) => ({
      kind: FLUSH_KIND,
      ordering_key: ctx.owner.dedupKey,
      dedupe_key: `flush/${ctx.owner.dedupKey}/${at}`,
      connection_id: ctx.conn.id,
      workspace: ctx.group.workspace,
      payload: JSON.stringify({ g: ctx.group.id, r: ctx.receiver.name } satisfies FlushPayload),
      max_attempts: acks[0]?.job.max_attempts ?? 10,
      run_at: at,
    }));
    const lost = await this.commits.submit({ row: rec ? toRow(ctx.owner, rec, now) : null, ackIds: acks.map((s) => s.job.id), outcomes, flushJobs });
    if (lost) throw lost;
    this.stats.acked += acks.length;
  }

  /**
   * Commits of many keys share one transaction (group commit: one fsync on SQLite). Each request is fenced
   * on its own: a key whose lease was lost writes nothing and gets LeaseLostError; the others commit.
   */
  private async writeCommits(reqs: CommitRequest[]): Promise<(LeaseLostError | null)[]> {
    const w = this.options.workerId;
    return this.store.writeTransaction(async (trx) => {
      const results: (LeaseLostError | null)[] = [];
      const outcomes: OutcomeRow[] = [];
      const flushJobs: NewJob[] = [];
      for (const r of reqs) {
        if (r.ackIds.length && (await this.store.jobs.owned(r.ackIds, w, trx)) !== r.ackIds.length) {
          results.push(new LeaseLostError('another worker took these jobs over (lease expired)'));
          continue;
        }
        if (r.row) await this.store.links.put(r.row, trx);
        await this.store.jobs.ack(r.ackIds, w, trx);
        outcomes.push(...r.outcomes);
        flushJobs.push(...r.flushJobs);
        results.push(null);
      }
      await this.store.workspaceLog.appendOutcomes(outcomes, trx);
      await this.store.jobs.enqueue(flushJobs, trx);
      return results;
    });
  }

  /**
   * A failed call: `failing` (the job whose decision needed the call) uses an attempt; the jobs behind
   * it keep theirs and wait their turn.
   */
  async failJobs(ctx: Ctx, failing: JobRow, rest: JobRow[], err: unknown, unit?: WorkUnit): Promise<void> {
    const now = Date.now();
    const others = rest.filter((j) => j.id !== failing.id).map((j) => j.id);
    const w = this.options.workerId;
    const error =
      err instanceof ConnectionBlocked
        ? { blockedUntil: err.until }
        : err instanceof LeaseLostError
          ? { leaseLost: true as const }
          : err instanceof Error
            ? err
            : new Error(String(err));
    const outcome = failurePolicy({
      error,
      attempts: failing.attempts,
      maxAttempts: failing.max_attempts,
      now,
      authPauseMs: this.options.authPauseMs,
      backoff: this.options.backoff,
    });
    const message = err instanceof ConnectionBlocked ? (failing.last_error ?? 'waiting for the connection') : errorText(err);
    switch (outcome.kind) {
      case 'ignore':
        return;
      case 'wait':
        if (outcome.markConnection) await this.connections.recordFailure(ctx.conn, err).catch(() => {});
        await this.store.jobs.fail([failing.id, ...others], w, { error: message, runAt: outcome.runAt, refund: true });
        return;
      case 'dead-letter':
        await this.deadLetter([failing], ctx.group, ctx.receiver, ctx.conn, outcome.message, unit);
        await this.store.jobs.fail(others, w, { error: 'waiting behind a failed job', runAt: now, refund: true });
        return;
      case 'retry':
        await this.store.writeTransaction(async (trx) => {
          await this.store.jobs.fail([failing.id], w, { error: message, runAt: outcome.runAt }, trx);
          await this.store.jobs.fail(others, w, { error: 'waiting behind a failed job', runAt: now, refund: true }, trx);
          await this.store.workspaceLog.appendLogs(
            [
              this.logRow(
                ctx.group.workspace,
                ctx.conn,
                'WARNING',
                `${deliveryOf(ctx.group.name, ctx.receiver.name, unit ? [unit.alert.rule] : [])}: delivery attempt ${failing.attempts} of ${failing.max_attempts} failed; retrying in ${Math.round((outcome.runAt - now) / 1000)} s`,
                message,
              ),
            ],
            trx,
          );
        });
    }
  }

  async deadLetter(
    jobs: JobRow[],
    group: ResolvedActionGroup,
    receiver: ResolvedReceiver,
    conn: ConnectionsTable | null,
    message: string,
    unit?: WorkUnit,
  ): Promise<void> {
    const now = Date.now();
    const connection = conn?.name ?? receiver.connectionName;
    const alerts = await alertsOfJobs(this.store, jobs);
    const rules = [...new Set(jobs.map((j) => (j.id === jobs[0].id && unit ? unit.alert.rule : alerts.get(j.id)?.rule)).filter(Boolean))];
    await this.store.writeTransaction(async (trx) => {
      await this.store.jobs.fail(
        jobs.map((j) => j.id),
        this.options.workerId,
        { error: message, runAt: now, dead: true },
        trx,
      );
      await this.store.workspaceLog.appendOutcomes(
        jobs.map((j) => ({
          workspace: group.workspace,
          time: now,
          alertId: unit?.alert.alertId ?? alerts.get(j.id)?.alertId ?? '',
          rule: unit?.alert.rule ?? alerts.get(j.id)?.rule ?? '',
          actionGroup: group.name,
          action: receiver.name,
          connection,
          workItemType: receiver.config.WorkItemType,
          workItemId: '',
          workItemNumber: '',
          operation: 'Failed' as const,
          computer: unit?.ci ?? unit?.cis[0] ?? alerts.get(j.id)?.configurationItems[0] ?? '',
          message,
        })),
        trx,
      );
      const about = deliveryOf(group.name, receiver.name, rules);
      await this.store.workspaceLog.appendLogs(
        [
          {
            ...this.logRow(
              group.workspace,
              conn,
              'ERROR',
              `${about}: delivery failed for good; ${jobs.length} job(s) moved to the dead letters (replay them after fixing the cause)`,
              message,
            ),
            connection,
          },
        ],
        trx,
      );
    });
    this.stats.dead += jobs.length;
  }

  /** A WARNING line in ServiceDeskLog_CL (never fails the caller). */
  async warn(ctx: Ctx, message: string, exception?: string): Promise<void> {
    await this.store.workspaceLog.appendLogs([this.logRow(ctx.group.workspace, ctx.conn, 'WARNING', message, exception)]).catch(() => {});
  }

  private outcome(ctx: Ctx, s: Step, rec: LinkRecord | null, now: number): OutcomeRow {
    const item = rec?.state?.workItem;
    const a = s.unit!.alert;
    return {
      workspace: ctx.group.workspace,
      time: now,
      alertId: a.alertId,
      rule: a.rule,
      actionGroup: ctx.group.name,
      action: ctx.receiver.name,
      connection: ctx.conn.name,
      workItemType: item?.type ?? ctx.receiver.config.WorkItemType,
      workItemId: item?.id ?? '',
      workItemNumber: item?.number ?? '',
      operation: s.op!,
      computer: s.unit!.ci ?? s.unit!.cis[0] ?? '',
      message: s.message ?? '',
    };
  }

  private logRow(workspace: string, conn: ConnectionsTable | null, level: LogRow['level'], message: string, exception?: string): LogRow {
    return {
      workspace,
      time: Date.now(),
      connection: conn?.name ?? '',
      partnerType: conn?.partner_type ?? '',
      level,
      message,
      exception,
      success: level === 'INFO',
      connectionState: conn?.status,
    };
  }

  private async markHealthy(ctx: Ctx): Promise<void> {
    const before = ctx.conn.status;
    ctx.conn = { ...ctx.conn, status: 'Healthy', last_error: null };
    try {
      await this.store.connections.update(ctx.conn.id, { status: 'Healthy', last_error: null });
      await this.store.workspaceLog.appendLogs([
        this.logRow(ctx.group.workspace, ctx.conn, 'INFO', `connection ${ctx.conn.name} is healthy again (was ${before}): delivery succeeded`),
      ]);
    } catch (err) {
      this.logger('warn', 'recording the connection status failed', err);
    }
  }

  private gateFor(conn: ConnectionsTable): ConnectionGate {
    let gate = this.gates.get(conn.id);
    if (!gate) {
      gate = new ConnectionGate(this.options.gate, (e) => void this.onGateEvent(conn, e));
      this.gates.set(conn.id, gate);
    }
    return gate;
  }

  private async onGateEvent(conn: ConnectionsTable, e: GateEvent): Promise<void> {
    try {
      const fresh = (await this.store.connections.getById(conn.id)) ?? conn;
      if (e.kind === 'circuit-opened') await this.connections.recordFailure(fresh, new PartnerError('unavailable', e.message));
      await this.store.workspaceLog.appendLogs([
        this.logRow(conn.workspace, fresh, e.kind === 'circuit-closed' ? 'INFO' : 'WARNING', `connection ${conn.name}: ${e.message}`),
      ]);
    } catch (err) {
      this.logger('warn', 'writing a connection event failed', err);
    }
  }

  private async clientFor(conn: ConnectionsTable): Promise<PartnerClient> {
    // A new sign-in (the user entered the password again) replaces the tokens: a new client picks them up.
    const key = `${conn.server_url}\u0000${conn.client_id}\u0000${conn.client_secret_enc}\u0000${conn.partner_type}\u0000${conn.tokens_enc}`;
    const hit = this.clients.get(conn.id);
    if (hit && hit.key === key) return hit.client;
    const client = await this.connections.client(conn);
    this.clients.set(conn.id, { key, client });
    return client;
  }
}

/** Processes one claimed batch of one key, in order. */
/** "action group G, action A, alert rule R" for connector-log lines about a delivery. */
function deliveryOf(actionGroup: string, action: string, rules: (string | undefined)[]): string {
  const named = rules.filter(Boolean);
  return `action group ${actionGroup}, action ${action}${named.length ? `, alert rule ${named.slice(0, 5).join(', ')}${named.length > 5 ? ' …' : ''}` : ''}`;
}

/** The stored alert behind each deliver job (for rows about jobs whose work unit was never built). */
export async function alertsOfJobs(store: Store, jobs: JobRow[]): Promise<Map<number, NormalizedAlert>> {
  const byJob = new Map<number, string>();
  for (const j of jobs) {
    const p = decodeJobPayload(j);
    if (isDeliverPayload(p)) byJob.set(j.id, p.a);
  }
  const rows = new Map((await store.alerts.getMany([...new Set(byJob.values())])).map((r) => [r.id, r]));
  const out = new Map<number, NormalizedAlert>();
  for (const [jobId, alertRowId] of byJob) {
    const row = rows.get(alertRowId);
    const alert = row ? decodeStoredAlert(row.payload, Number(row.received_at), row.alert_id, row.monitor_condition) : null;
    if (alert) out.set(jobId, alert);
  }
  return out;
}
