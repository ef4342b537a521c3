/**
 * How claimed jobs end: committed after a successful call (link state, acks fenced on the lease, outcome rows
 * and flush jobs in one transaction, many keys per group commit), postponed or retried after a failed call
 * (by the pure failure policy), or dead-lettered with a `Failed` outcome row and a connector-log error line.
 */
import type { Store } from '../store/store.ts';
import type { ConnectionsTable, WorkItemLinksTable } from '../store/schema.ts';
import { LeaseLostError, type JobRow, type NewJob } from '../store/jobs.ts';
import type { OutcomeRow } from '../store/workspace-log.ts';
import type { ConnectionService } from '../connections/service.ts';
import type { ResolvedActionGroup, ResolvedReceiver } from '../actiongroups/service.ts';
import type { NormalizedAlert } from '../core/alert.ts';
import type { WorkUnit } from '../actions/grouping.ts';
import type { BackoffOptions } from './backoff.ts';
import { decodeJobPayload, isDeliverPayload } from './payload.ts';
import { errorText, failurePolicy } from './failure-policy.ts';
import { decodeStoredAlert, FLUSH_KIND, type FlushPayload } from './ingest.ts';
import { toRow, type LinkRecord } from './link-state.ts';
import { GroupCommitter } from './group-commit.ts';
import { connectorLogRow, deliveryOf } from './log-rows.ts';
import { ConnectionBlocked, type Ctx, type Step } from './run-types.ts';

export interface SettlementOptions {
  workerId: string;
  authPauseMs: number;
  backoff: BackoffOptions;
}

export interface SettlementStats {
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

export class JobSettlement {
  private readonly commits: GroupCommitter<CommitRequest, LeaseLostError | null>;

  constructor(
    private readonly store: Store,
    private readonly connections: ConnectionService,
    private readonly options: SettlementOptions,
    readonly stats: SettlementStats,
  ) {
    this.commits = new GroupCommitter((reqs) => this.writeCommits(reqs), { maxItems: 128, maxDelayMs: 0, pipeline: store.writePipelineDepth });
  }

  /** Link state, acks, outcome rows and flush jobs in one transaction (acks fenced on our lease). */
  async commit(ctx: Ctx, rec: LinkRecord | null, acks: Step[], flushAts: Iterable<number>): Promise<void> {
    const now = Date.now();
    const outcomes = acks.filter((s) => s.op && s.unit).map((s) => outcomeOf(ctx, s, rec, now));
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

  /** Jobs with nothing left to deliver to (the action group or its action was deleted): acknowledged as done. */
  async ackAll(jobs: JobRow[]): Promise<void> {
    await this.store.jobs.ack(
      jobs.map((j) => j.id),
      this.options.workerId,
    );
    this.stats.acked += jobs.length;
  }

  /**
   * Commits of many keys share one transaction (group commit: one fsync on SQLite). Each request is fenced
   * on its own: a key whose lease was lost writes nothing and gets LeaseLostError; the others commit.
   */
  private async writeCommits(reqs: CommitRequest[]): Promise<(LeaseLostError | null)[]> {
    const w = this.options.workerId;
    return this.store.writeTransaction(async (tx) => {
      // A handful of statements per batch, whatever its size: on PostgreSQL every statement is a round trip.
      const owned = await tx.jobs.ownedIds(
        reqs.flatMap((r) => r.ackIds),
        w,
      );
      const results = reqs.map((r) =>
        r.ackIds.every((id) => owned.has(id)) ? null : new LeaseLostError('another worker took these jobs over (lease expired)'),
      );
      const kept = reqs.filter((_, i) => results[i] === null);
      await tx.links.putMany(kept.flatMap((r) => (r.row ? [r.row] : [])));
      await tx.jobs.ack(
        kept.flatMap((r) => r.ackIds),
        w,
      );
      await tx.workspaceLog.appendOutcomes(kept.flatMap((r) => r.outcomes));
      await tx.jobs.enqueue(kept.flatMap((r) => r.flushJobs));
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
    const outcome = failurePolicy({
      error: policyError(err),
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
        await this.store.writeTransaction(async (tx) => {
          await tx.jobs.fail([failing.id], w, { error: message, runAt: outcome.runAt });
          await tx.jobs.fail(others, w, { error: 'waiting behind a failed job', runAt: now, refund: true });
          const about = deliveryOf(ctx.group.name, ctx.receiver.name, unit ? [unit.alert.rule] : []);
          const retryIn = Math.round((outcome.runAt - now) / 1000);
          await tx.workspaceLog.appendLogs([
            connectorLogRow(
              ctx.group.workspace,
              ctx.conn,
              'WARNING',
              `${about}: delivery attempt ${failing.attempts} of ${failing.max_attempts} failed; retrying in ${retryIn} s`,
              message,
            ),
          ]);
        });
    }
  }

  /** A key run that failed outside the failure policy (a bug or a store error): the head job backs off, the rest wait. */
  async failUnexpectedly(jobs: JobRow[], err: unknown, retryAt: number): Promise<void> {
    const [head, ...rest] = jobs;
    const w = this.options.workerId;
    await this.store.jobs.fail([head.id], w, { error: errorText(err), runAt: retryAt, dead: head.attempts >= head.max_attempts }).catch(() => {});
    await this.store.jobs
      .fail(
        rest.map((j) => j.id),
        w,
        { error: 'waiting behind a failed job', runAt: Date.now(), refund: true },
      )
      .catch(() => {});
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
    const alertOf = (j: JobRow): NormalizedAlert | undefined => (j.id === jobs[0].id && unit ? unit.alert : alerts.get(j.id));
    const rules = [...new Set(jobs.map((j) => alertOf(j)?.rule).filter(Boolean))];
    await this.store.writeTransaction(async (tx) => {
      await tx.jobs.fail(
        jobs.map((j) => j.id),
        this.options.workerId,
        { error: message, runAt: now, dead: true },
      );
      await tx.workspaceLog.appendOutcomes(
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
      );
      const about = deliveryOf(group.name, receiver.name, rules);
      const line = `${about}: delivery failed for good; ${jobs.length} job(s) moved to the dead letters (replay them after fixing the cause)`;
      await tx.workspaceLog.appendLogs([{ ...connectorLogRow(group.workspace, conn, 'ERROR', line, message), connection }]);
    });
    this.stats.dead += jobs.length;
  }

  /** A WARNING line in ServiceDeskLog_CL (never fails the caller). */
  async warn(ctx: Ctx, message: string, exception?: string): Promise<void> {
    await this.store.workspaceLog.appendLogs([connectorLogRow(ctx.group.workspace, ctx.conn, 'WARNING', message, exception)]).catch(() => {});
  }
}

function policyError(err: unknown) {
  if (err instanceof ConnectionBlocked) return { blockedUntil: err.until };
  if (err instanceof LeaseLostError) return { leaseLost: true as const };
  return err instanceof Error ? err : new Error(String(err));
}

function outcomeOf(ctx: Ctx, s: Step, rec: LinkRecord | null, now: number): OutcomeRow {
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
