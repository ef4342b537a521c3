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
import { PartnerError, type PartnerClient, type WorkItemRef } from '../partners/partner.ts';
import type { NormalizedAlert } from '../core/alert.ts';
import { decide, expandAlert, flushPending, type DecideOptions, type LinkState, type WorkUnit } from '../actions/grouping.ts';
import { DEFAULT_FIELD_LIMITS, type FieldLimits } from '../actions/render.ts';
import { partnerDescriptor } from '../partners/registry.ts';
import { truncateText } from '../actions/text.ts';
import { backoffDelay, defaultBackoff, type BackoffOptions } from './backoff.ts';
import { ConnectionGate, defaultGateOptions, type GateEvent, type GateOptions } from './gate.ts';
import { decodeJobPayload, isDeliverPayload } from './payload.ts';
import { errorText, failurePolicy } from './failure-policy.ts';
import { actionIdOf, decodeStoredAlert, DELIVER_KIND, FLUSH_KIND, orderingKeyOf, type DeliverPayload, type FlushPayload } from './ingest.ts';
import { fromRow, toRow, type LinkOwner, type LinkRecord } from './link-state.ts';
import type { LogRow, Operation, OutcomeRow } from '../store/workspace-log.ts';
import { GroupCommitter } from './group-commit.ts';
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

/** The partner has the work item resolved or closed (a human closed it): the update was not written. */
class ClosedInPartner extends Error {
  constructor(readonly closedAt: string | undefined) {
    super('the work item is closed in the partner');
  }
}

/** The connection is not called now (breaker open or a 429 pause): the jobs wait without using an attempt. */
class ConnectionBlocked extends Error {
  constructor(readonly until: number) {
    super('the connection is paused (circuit open or rate limited)');
  }
}

interface Ctx {
  group: ResolvedActionGroup;
  receiver: ResolvedReceiver;
  conn: ConnectionsTable;
  client: PartnerClient;
  gate: ConnectionGate;
  owner: LinkOwner;
}

interface Step {
  job: JobRow;
  unit?: WorkUnit;
  op?: Operation;
  message?: string;
}

interface CommitRequest {
  row: WorkItemLinksTable | null;
  ackIds: number[];
  outcomes: OutcomeRow[];
  flushJobs: NewJob[];
}

interface Deferred {
  notes: string[];
  addCis: string[];
  steps: Step[];
  spec: LinkState;
  flushAts: number[];
}

export class DeliveryEngine {
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
        await this.store.jobs.fail([head.id], w, { error: errorText(err), runAt: now + backoffDelay(head.attempts, this.options.backoff), dead: head.attempts >= head.max_attempts }).catch(() => {});
        await this.store.jobs.fail(rest.map((j) => j.id), w, { error: 'waiting behind a failed job', runAt: now, refund: true }).catch(() => {});
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
      await this.deadLetter(jobs, group, receiver, null, `connection '${receiver.connectionName}' does not exist (deleted after the alert arrived); recreate it and replay the dead letters`);
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
      owner: { dedupKey: head.ordering_key, workspace: group.workspace, connectionId: conn.id, actionGroupId: group.id, receiver: receiver.name, workItemType: receiver.config.WorkItemType },
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
    const error = err instanceof ConnectionBlocked ? { blockedUntil: err.until } : err instanceof LeaseLostError ? { leaseLost: true as const } : err instanceof Error ? err : new Error(String(err));
    const outcome = failurePolicy({ error, attempts: failing.attempts, maxAttempts: failing.max_attempts, now, authPauseMs: this.options.authPauseMs, backoff: this.options.backoff });
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
            [this.logRow(ctx.group.workspace, ctx.conn, 'WARNING', `${deliveryOf(ctx.group.name, ctx.receiver.name, unit ? [unit.alert.rule] : [])}: delivery attempt ${failing.attempts} of ${failing.max_attempts} failed; retrying in ${Math.round((outcome.runAt - now) / 1000)} s`, message)],
            trx,
          );
        });
    }
  }

  async deadLetter(jobs: JobRow[], group: ResolvedActionGroup, receiver: ResolvedReceiver, conn: ConnectionsTable | null, message: string, unit?: WorkUnit): Promise<void> {
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
      await this.store.workspaceLog.appendLogs([{ ...this.logRow(group.workspace, conn, 'ERROR', `${about}: delivery failed for good; ${jobs.length} job(s) moved to the dead letters (replay them after fixing the cause)`, message), connection }], trx);
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
    return { workspace, time: Date.now(), connection: conn?.name ?? '', partnerType: conn?.partner_type ?? '', level, message, exception, success: level === 'INFO', connectionState: conn?.status };
  }

  private async markHealthy(ctx: Ctx): Promise<void> {
    const before = ctx.conn.status;
    ctx.conn = { ...ctx.conn, status: 'Healthy', last_error: null };
    try {
      await this.store.connections.update(ctx.conn.id, { status: 'Healthy', last_error: null });
      await this.store.workspaceLog.appendLogs([this.logRow(ctx.group.workspace, ctx.conn, 'INFO', `connection ${ctx.conn.name} is healthy again (was ${before}): delivery succeeded`)]);
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
      await this.store.workspaceLog.appendLogs([this.logRow(conn.workspace, fresh, e.kind === 'circuit-closed' ? 'INFO' : 'WARNING', `connection ${conn.name}: ${e.message}`)]);
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
class KeyRun {
  private rec: LinkRecord | null = null;
  private acks: Step[] = [];
  private flushAts = new Set<number>();
  private deferred: Deferred | null = null;
  private readonly queue: JobRow[];
  private alerts = new Map<string, NormalizedAlert | null>();
  private units = new Map<string, WorkUnit[]>();
  private redecided = false;
  private readonly now = Date.now();

  constructor(
    private readonly engine: DeliveryEngine,
    private readonly ctx: Ctx,
    jobs: JobRow[],
  ) {
    this.queue = [...jobs];
  }

  /** The partner's field lengths, so titles and notes fit the product this action writes to. */
  private get limits(): FieldLimits {
    return partnerDescriptor(this.ctx.conn.partner_type)?.fieldLimits ?? DEFAULT_FIELD_LIMITS;
  }

  /** What decisions need of the partner: its field limits and its Event/Alert severity scale. */
  private get partnerOptions(): DecideOptions {
    return { limits: this.limits, eventSeverity: partnerDescriptor(this.ctx.conn.partner_type)?.severity.eventSeverity };
  }

  private get cfg() {
    return this.ctx.receiver.config;
  }

  private current(): LinkState | null {
    return this.deferred ? this.deferred.spec : (this.rec?.state ?? null);
  }

  async run(): Promise<void> {
    const store = this.engine.store;
    this.rec = fromRow(await store.links.get(this.ctx.owner.dedupKey));
    await this.loadAlerts(store);
    for (let i = 0; i < this.queue.length; i++) {
      const job = this.queue[i];
      try {
        await this.step(job);
      } catch (err) {
        await this.onFailure(err, job, i);
        return;
      }
    }
    try {
      await this.sendDeferred();
      if (this.acks.length || this.flushAts.size) await this.engine.commit(this.ctx, this.rec, this.acks, this.flushAts);
    } catch (err) {
      await this.onFailure(err, null, this.queue.length);
    }
  }

  private async loadAlerts(store: Store): Promise<void> {
    const ids = new Set<string>();
    for (const j of this.queue) {
      const p = decodeJobPayload(j);
      if (p && 'a' in p) ids.add(p.a);
    }
    for (const row of await store.alerts.getMany([...ids])) {
      this.alerts.set(row.id, decodeStoredAlert(row.payload, Number(row.received_at), row.alert_id, row.monitor_condition));
    }
  }

  private unitOf(job: JobRow): WorkUnit | undefined {
    const p = decodeJobPayload(job) as DeliverPayload | null;
    if (!p || !('a' in p)) return undefined;
    const alert = this.alerts.get(p.a);
    if (!alert) return undefined;
    let units = this.units.get(p.a);
    if (!units) {
      units = expandAlert(alert, this.cfg, actionIdOf(this.ctx.group.id, this.ctx.receiver.name));
      this.units.set(p.a, units);
    }
    const byIndex = units[p.u];
    if (byIndex && orderingKeyOf(byIndex.dedupKey) === job.ordering_key) return byIndex;
    return units.find((u) => orderingKeyOf(u.dedupKey) === job.ordering_key);
  }

  private async step(job: JobRow): Promise<void> {
    if (job.kind === FLUSH_KIND) {
      const state = this.current();
      const flushed = state ? flushPending(state, this.cfg, this.now, this.partnerOptions) : null;
      if (!flushed) this.noCall({ job }, state);
      else this.defer({ job }, flushed.note, [], flushed.next);
      return;
    }
    const unit = this.unitOf(job);
    if (!unit) {
      // The alert row is gone, or the action's split mode changed since ingest: this unit no longer exists.
      this.noCall({ job }, this.current());
      return;
    }
    const d = decide(unit, this.current(), this.cfg, this.now, this.partnerOptions);
    switch (d.kind) {
      case 'ignore':
        this.noCall({ job, unit }, d.next ?? this.current());
        return;
      case 'update':
        if (d.note === null && d.addCis.length === 0) {
          this.noCall({ job, unit, op: 'Updated', message: 'occurrence folded into the next work note (storm coalescing)' }, d.next, d.flushAt ? Date.parse(d.flushAt) : undefined);
        } else this.defer({ job, unit, op: 'Updated', message: d.addCis.length ? `work note; CIs added: ${d.addCis.join(', ')}` : 'work note' }, d.note ?? '', d.addCis, d.next);
        return;
      case 'resolve': {
        const absorb = this.deferred && this.deferred.addCis.length === 0 ? this.deferred : null;
        if (!absorb) await this.sendDeferred();
        const notes = [...(absorb?.notes ?? []), d.note];
        const state = this.current()!;
        const ref =
          d.mode === 'resolve'
            ? await this.engine.partnerCall(this.ctx, 'resolve', () => this.ctx.client.resolveWorkItem(this.refOf(state), d.resolve ?? {}, joinNotes(notes, this.limits)))
            : await this.engine.partnerCall(this.ctx, 'update', () => this.ctx.client.updateWorkItem(this.refOf(state), joinNotes(notes, this.limits)));
        const steps = [...(absorb?.steps ?? []), { job, unit, op: (d.mode === 'resolve' ? 'Resolved' : 'Updated') as Operation }];
        const flushAts = absorb?.flushAts ?? [];
        this.deferred = null;
        await this.settle(steps, d.next, ref, flushAts);
        return;
      }
      case 'reopen': {
        await this.sendDeferred();
        const state = this.current()!;
        let ref = await this.engine.partnerCall(this.ctx, 'reopen', () => this.ctx.client.reopenWorkItem(this.refOf(state), d.note));
        if (d.addCis.length) {
          const ciIds = await this.engine.resolveCis(this.ctx, d.addCis);
          if (ciIds.length) ref = await this.engine.partnerCall(this.ctx, 'update', () => this.ctx.client.updateWorkItem(ref, '', {}, ciIds));
        }
        await this.settle([{ job, unit, op: 'Reopened' }], d.next, ref, []);
        return;
      }
      case 'create':
      case 'create-new': {
        await this.sendDeferred();
        const ciIds = await this.engine.resolveCis(this.ctx, d.draft.ciNames);
        const input = { type: d.draft.type, correlationKey: d.correlationKey, title: d.draft.title, description: d.draft.description, fields: d.draft.fields, templateName: d.draft.templateName, ciIds, eventSeverity: d.draft.eventSeverity, ciNames: d.draft.ciNames, resource: d.draft.resource };
        let ref: WorkItemRef | null = null;
        let message = 'created';
        if (job.attempts > 1 || this.rec?.uncertainCreate === d.correlationKey) {
          ref = await this.engine.partnerCall(this.ctx, 'findByCorrelationKey', () => this.ctx.client.findByCorrelationKey(d.draft.type, d.correlationKey));
          if (ref) message = 'found by correlation key after an earlier attempt (not created twice)';
        }
        if (!ref) {
          try {
            ref = await this.engine.partnerCall(this.ctx, 'create', () => this.ctx.client.createWorkItem(input));
          } catch (err) {
            // Unless the partner certainly did nothing (429, refused sign-in, not sent at all), it may have
            // created the work item before failing (a timeout, a 5xx, or a step after the insert such as
            // linking CIs). Look at once; if it is there, it is recorded (and what failed is logged). If not,
            // every later create with this key looks it up first — also after a dead-letter replay.
            if (err instanceof ConnectionBlocked || (err instanceof PartnerError && (err.kind === 'rate-limited' || err.kind === 'auth'))) throw err;
            this.markUncertain(d.correlationKey);
            const found = await this.engine
              .partnerCall(this.ctx, 'findByCorrelationKey', () => this.ctx.client.findByCorrelationKey(d.draft.type, d.correlationKey))
              .catch(() => null);
            if (!found) throw err;
            ref = found;
            message = `created, but the call failed after the insert: ${errorText(err)}`;
            await this.engine.warn(this.ctx, `work item ${found.number} was created, but a step after the insert failed`, errorText(err));
          }
        }
        const next: LinkState = { ...d.next, workItem: { type: ref.type, id: ref.id, number: ref.number, closed: ref.closed } };
        if (this.rec) this.rec.uncertainCreate = undefined;
        await this.settle([{ job, unit, op: 'Created', message }], next, ref, [], d.correlationKey);
        return;
      }
    }
  }

  /** A decision that needs no call: acknowledged with the next commit (after the deferred call, if any). */
  private noCall(step: Step, next: LinkState | null, flushAt?: number): void {
    if (this.deferred) {
      if (next) this.deferred.spec = next;
      this.deferred.steps.push(step);
      if (flushAt) this.deferred.flushAts.push(flushAt);
      return;
    }
    if (next) this.setState(next);
    this.acks.push(step);
    if (flushAt) this.flushAts.add(flushAt);
  }

  private defer(step: Step, note: string, addCis: string[], next: LinkState): void {
    if (!this.deferred) this.deferred = { notes: [], addCis: [], steps: [], spec: next, flushAts: [] };
    if (note) this.deferred.notes.push(note);
    for (const c of addCis) if (!this.deferred.addCis.some((x) => x.toLowerCase() === c.toLowerCase())) this.deferred.addCis.push(c);
    this.deferred.steps.push(step);
    this.deferred.spec = next;
  }

  /** Sends the merged work notes (and new CIs) waiting in `deferred` as one update. */
  private async sendDeferred(): Promise<void> {
    const d = this.deferred;
    if (!d) return;
    const state = this.rec?.state;
    if (!state) {
      this.deferred = null;
      return;
    }
    const ciIds = d.addCis.length ? await this.engine.resolveCis(this.ctx, d.addCis) : [];
    const ref = await this.engine.partnerCall(this.ctx, 'update', () => this.ctx.client.updateWorkItem(this.refOf(state), joinNotes(d.notes, this.limits), {}, ciIds));
    if (ref.closed && !state.workItem.closed) throw new ClosedInPartner(ref.closedAt);
    this.deferred = null;
    await this.settle(d.steps, d.spec, ref, d.flushAts);
  }

  /** After a successful call: state, partner state and acks commit together. */
  private async settle(steps: Step[], next: LinkState, ref: WorkItemRef, flushAts: number[], correlationKey?: string): Promise<void> {
    let state = next;
    // The partner says the item is closed though we did not close it (a human did): the next firing opens a new one.
    if (ref.closed && !next.workItem.closed) state = { ...next, workItem: { ...next.workItem, closed: true }, closedAt: new Date().toISOString() };
    this.setState(state, correlationKey);
    this.rec!.partnerState = ref.state;
    this.acks.push(...steps);
    for (const f of flushAts) this.flushAts.add(f);
    await this.engine.commit(this.ctx, this.rec, this.acks, this.flushAts);
    this.acks = [];
    this.flushAts.clear();
  }

  private setState(state: LinkState | null, correlationKey?: string): void {
    if (!this.rec) this.rec = { state: null, partnerState: null, correlationKey: correlationKey ?? '', createdAt: Date.now() };
    this.rec.state = state;
    if (correlationKey) this.rec.correlationKey = correlationKey;
  }

  private markUncertain(correlationKey: string): void {
    if (!this.rec) this.rec = { state: null, partnerState: null, correlationKey, createdAt: Date.now() };
    this.rec.uncertainCreate = correlationKey;
    if (!this.rec.state) this.rec.correlationKey = correlationKey;
  }

  private refOf(state: LinkState): WorkItemRef {
    return { type: state.workItem.type, id: state.workItem.id, number: state.workItem.number, state: this.rec?.partnerState ?? '', closed: state.workItem.closed };
  }

  /**
   * A call failed. What is settled (acks of decisions before it, the uncertain-create marker) commits;
   * the failing job and everything behind it go back to the queue (or the dead letters).
   */
  private async onFailure(err: unknown, job: JobRow | null, index: number): Promise<void> {
    if (err instanceof LeaseLostError) return;
    // The work item is gone from the partner (deleted), or a human closed it there: decide the waiting jobs
    // again against a closed work item (a new one, or a reopen inside reopenWindow when the close time is known).
    const gone = err instanceof PartnerError && err.kind === 'not-found' && job !== null;
    if ((gone || err instanceof ClosedInPartner) && this.rec?.state && !this.redecided) {
      this.redecided = true;
      const pending = [...(this.deferred?.steps.map((s) => s.job) ?? []), ...this.queue.slice(index)];
      this.deferred = null;
      const closedAt = err instanceof ClosedInPartner ? err.closedAt : new Date(0).toISOString();
      this.setState({ ...this.rec.state, workItem: { ...this.rec.state.workItem, closed: true }, closedAt });
      this.queue.splice(0, this.queue.length, ...pending);
      try {
        for (let i = 0; i < this.queue.length; i++) {
          try {
            await this.step(this.queue[i]);
          } catch (e) {
            await this.onFailure(e, this.queue[i], i);
            return;
          }
        }
        await this.sendDeferred();
        if (this.acks.length || this.flushAts.size) await this.engine.commit(this.ctx, this.rec, this.acks, this.flushAts);
      } catch (e) {
        await this.onFailure(e, null, this.queue.length);
      }
      return;
    }
    const deferredJobs = this.deferred?.steps.map((s) => s.job) ?? [];
    const unfinished = [...deferredJobs, ...this.queue.slice(index)];
    const failing = deferredJobs[0] ?? job ?? unfinished[0];
    const unit = failing ? this.unitOf(failing) : undefined;
    this.deferred = null;
    try {
      if (this.acks.length || this.flushAts.size || this.rec?.uncertainCreate) await this.engine.commit(this.ctx, this.rec, this.acks, this.flushAts);
      this.acks = [];
    } catch (e) {
      if (e instanceof LeaseLostError) return;
      // The settled part could not be stored: everything is retried (creates look up first).
      unfinished.unshift(...this.acks.map((s) => s.job));
      this.acks = [];
    }
    if (!failing) return;
    await this.engine.failJobs(this.ctx, failing, unfinished, err, unit);
  }
}

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

/** Notes sent in one call; each was fitted to noteMax already, so several together stay within a few notes' worth. */
function joinNotes(notes: string[], limits: FieldLimits): string {
  const text = notes.filter(Boolean).join('\n\n');
  return truncateText(text, limits.noteMax * 4, limits.unit);
}

