/** The delivery queue as the API shows it: dead letters (list, replay, discard) and counts by state. */
import { NotFoundError } from '../core/errors.ts';
import type { JobCounts, JobRow } from '../store/jobs.ts';
import type { Store } from '../store/store.ts';
import { decodeJobPayload, isDeliverPayload } from './payload.ts';
import { alertsOfJobs } from './job-settlement.ts';

export interface DeadLetterView {
  id: number;
  kind: string;
  connectionName: string | null;
  actionGroup: string | null;
  action: string | null;
  alertId: string | null;
  attempts: number;
  lastError: string | null;
  createdAt: string;
  failedAt: string;
}

export interface QueuedJobView {
  id: number;
  kind: string;
  state: string;
  nextAttemptAt: string;
  attempts: number;
  maxAttempts: number;
  lastError: string | null;
  alertRule: string | null;
  alertId: string | null;
  actionGroup: string | null;
  action: string | null;
  connectionName: string | null;
  createdAt: string;
}

export class DeliveryQueueService {
  constructor(
    private readonly store: Store,
    /** Called after dead letters were made pending again (wakes the workers). */
    private readonly onReplay: () => void = () => {},
  ) {}

  async listDead(workspace: string, opts: { limit?: number; afterId?: number; connectionName?: string } = {}): Promise<DeadLetterView[]> {
    const limit = Math.min(1000, Math.max(1, opts.limit ?? 100));
    const rows = await this.store.jobs.listDead(workspace, {
      limit,
      afterId: opts.afterId,
      connectionId: await this.connectionId(workspace, opts.connectionName),
    });
    return this.views(workspace, rows);
  }

  /** What is waiting: pending and running jobs, oldest first, with the alert rule each is about. */
  async listWaiting(workspace: string, opts: { limit?: number; afterId?: number; connectionName?: string } = {}): Promise<QueuedJobView[]> {
    const limit = Math.min(1000, Math.max(1, opts.limit ?? 100));
    const rows = await this.store.jobs.listWaiting(workspace, {
      limit,
      afterId: opts.afterId,
      connectionId: await this.connectionId(workspace, opts.connectionName),
    });
    const [base, alerts] = await Promise.all([this.views(workspace, rows), alertsOfJobs(this.store, rows)]);
    return rows.map((r, i) => ({
      id: r.id,
      kind: r.kind,
      state: r.state,
      nextAttemptAt: new Date(Number(r.run_at)).toISOString(),
      attempts: r.attempts,
      maxAttempts: r.max_attempts,
      lastError: r.last_error,
      alertRule: alerts.get(r.id)?.rule ?? null,
      alertId: base[i].alertId,
      actionGroup: base[i].actionGroup,
      action: base[i].action,
      connectionName: base[i].connectionName,
      createdAt: base[i].createdAt,
    }));
  }

  async replay(workspace: string, id: number): Promise<number> {
    const n = await this.store.jobs.replay(workspace, { id });
    if (n === 0) throw new NotFoundError(`dead letter ${id} does not exist in workspace '${workspace}'`);
    this.onReplay();
    return n;
  }

  /** Every dead letter of the workspace, or of one connection. */
  async replayAll(workspace: string, connectionName?: string): Promise<number> {
    const n = await this.store.jobs.replay(workspace, { connectionId: await this.connectionId(workspace, connectionName) });
    if (n > 0) this.onReplay();
    return n;
  }

  async discard(workspace: string, id: number): Promise<void> {
    if (!(await this.store.jobs.deleteDead(workspace, id))) throw new NotFoundError(`dead letter ${id} does not exist in workspace '${workspace}'`);
  }

  /** Jobs by state, in total and per connection (by name; null for jobs of no connection). */
  async counts(workspace: string): Promise<JobCounts & { byConnection: ({ connectionName: string | null } & JobCounts)[] }> {
    const [totals, rows, connections] = await Promise.all([
      this.store.jobs.counts(workspace),
      this.store.jobs.countsByConnection(workspace),
      this.store.connections.list(workspace),
    ]);
    const names = new Map(connections.map((c) => [c.id, c.name]));
    return { ...totals, byConnection: rows.map((r) => ({ connectionName: (r.connectionId && names.get(r.connectionId)) || null, ...r.counts })) };
  }

  private async connectionId(workspace: string, name: string | undefined): Promise<string | undefined> {
    if (!name) return undefined;
    const c = await this.store.connections.get(workspace, name);
    if (!c) throw new NotFoundError(`connection '${name}' does not exist in workspace '${workspace}'`);
    return c.id;
  }

  private async views(workspace: string, rows: JobRow[]): Promise<DeadLetterView[]> {
    const connections = new Map((await this.store.connections.list(workspace)).map((c) => [c.id, c.name]));
    const groups = new Map((await this.store.actionGroups.list(workspace)).map((g) => [g.id, g.name]));
    const payloads = rows.map((r) => decodeJobPayload(r));
    const alertRowIds = [...new Set(payloads.filter(isDeliverPayload).map((p) => p.a))];
    const alertIds = new Map((await this.store.alerts.getMany(alertRowIds)).map((a) => [a.id, a.alert_id]));
    return rows.map((r, i) => {
      const p = payloads[i];
      return {
        id: r.id,
        kind: r.kind,
        connectionName: (r.connection_id && connections.get(r.connection_id)) || null,
        actionGroup: (p && groups.get(p.g)) || null,
        action: p?.r ?? null,
        alertId: (isDeliverPayload(p) && alertIds.get(p.a)) || null,
        attempts: r.attempts,
        lastError: r.last_error,
        createdAt: new Date(Number(r.created_at)).toISOString(),
        failedAt: new Date(Number(r.updated_at)).toISOString(),
      };
    });
  }
}
