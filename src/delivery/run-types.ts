/** What the claim loop (engine.ts) and the per-key run (key-run.ts) share. */
import type { Store } from '../store/store.ts';
import type { ConnectionsTable } from '../store/schema.ts';
import type { JobRow } from '../store/jobs.ts';
import type { ResolvedActionGroup, ResolvedReceiver } from '../actiongroups/service.ts';
import type { PartnerClient } from '../partners/partner.ts';
import type { WorkUnit } from '../actions/grouping.ts';
import type { Operation } from '../store/workspace-log.ts';
import type { ConnectionGate } from './gate.ts';
import type { LinkOwner, LinkRecord } from './link-state.ts';

/** The partner has the work item resolved or closed (a human closed it): the update was not written. */
export class ClosedInPartner extends Error {
  constructor(readonly closedAt: string | undefined) {
    super('the work item is closed in the partner');
  }
}

/** The connection is not called now (breaker open or a 429 pause): the jobs wait without using an attempt. */
export class ConnectionBlocked extends Error {
  constructor(readonly until: number) {
    super('the connection is paused (circuit open or rate limited)');
  }
}

export interface Ctx {
  group: ResolvedActionGroup;
  receiver: ResolvedReceiver;
  conn: ConnectionsTable;
  client: PartnerClient;
  gate: ConnectionGate;
  owner: LinkOwner;
}

export interface Step {
  job: JobRow;
  unit?: WorkUnit;
  op?: Operation;
  message?: string;
}

/** What a per-key run asks of the engine: the partner caller, commits and failure handling. */
export interface KeyRunHost {
  readonly store: Store;
  partnerCall<T>(ctx: Ctx, op: string, fn: () => Promise<T>): Promise<T>;
  resolveCis(ctx: Ctx, names: string[]): Promise<string[]>;
  commit(ctx: Ctx, rec: LinkRecord | null, acks: Step[], flushAts: Iterable<number>): Promise<void>;
  failJobs(ctx: Ctx, failing: JobRow, rest: JobRow[], err: unknown, unit?: WorkUnit): Promise<void>;
  warn(ctx: Ctx, message: string, exception?: string): Promise<void>;
}
