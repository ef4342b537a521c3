/**
 * One run over the jobs of one dedup key, in order: decisions from the pure grouping core against the key's
 * link state, coalesced notes, partner calls through the engine's partner caller, commits after each call,
 * and the failure path (see failure-policy.ts). The engine (claim loop) runs at most one per key.
 */

import type { Store } from '../store/store.ts';
import { LeaseLostError, type JobRow } from '../store/jobs.ts';
import { PartnerError, type WorkItemRef } from '../partners/partner.ts';
import type { NormalizedAlert } from '../core/alert.ts';
import { decide, expandAlert, flushPending, type DecideOptions, type LinkState, type WorkUnit } from '../actions/grouping.ts';
import { DEFAULT_FIELD_LIMITS, type FieldLimits } from '../actions/render.ts';
import { partnerDescriptor } from '../partners/registry.ts';
import { truncateText } from '../actions/text.ts';
import { decodeJobPayload } from './payload.ts';
import { errorText } from './failure-policy.ts';
import { actionIdOf, decodeStoredAlert, FLUSH_KIND, orderingKeyOf, type DeliverPayload } from './ingest.ts';
import { fromRow, type LinkRecord } from './link-state.ts';
import type { Operation } from '../store/workspace-log.ts';
import { ClosedInPartner, ConnectionBlocked, type Ctx, type KeyRunHost, type Step } from './run-types.ts';

interface Deferred {
  notes: string[];
  addCis: string[];
  steps: Step[];
  spec: LinkState;
  flushAts: number[];
}

export class KeyRun {
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
    private readonly engine: KeyRunHost,
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
    // Both reads at once: on PostgreSQL each is a round trip.
    const [link] = await Promise.all([store.links.get(this.ctx.owner.dedupKey), this.loadAlerts(store)]);
    this.rec = fromRow(link);
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
          this.noCall(
            { job, unit, op: 'Updated', message: 'occurrence folded into the next work note (storm coalescing)' },
            d.next,
            d.flushAt ? Date.parse(d.flushAt) : undefined,
          );
        } else
          this.defer(
            { job, unit, op: 'Updated', message: d.addCis.length ? `work note; CIs added: ${d.addCis.join(', ')}` : 'work note' },
            d.note ?? '',
            d.addCis,
            d.next,
          );
        return;
      case 'resolve': {
        const absorb = this.deferred && this.deferred.addCis.length === 0 ? this.deferred : null;
        if (!absorb) await this.sendDeferred();
        const notes = [...(absorb?.notes ?? []), d.note];
        const state = this.current()!;
        const ref =
          d.mode === 'resolve'
            ? await this.engine.partnerCall(this.ctx, 'resolve', () =>
                this.ctx.client.resolveWorkItem(this.refOf(state), d.resolve ?? {}, joinNotes(notes, this.limits)),
              )
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
        const input = {
          type: d.draft.type,
          correlationKey: d.correlationKey,
          title: d.draft.title,
          description: d.draft.description,
          fields: d.draft.fields,
          templateName: d.draft.templateName,
          ciIds,
          eventSeverity: d.draft.eventSeverity,
          ciNames: d.draft.ciNames,
          resource: d.draft.resource,
        };
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
    const ref = await this.engine.partnerCall(this.ctx, 'update', () =>
      this.ctx.client.updateWorkItem(this.refOf(state), joinNotes(d.notes, this.limits), {}, ciIds),
    );
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
    return {
      type: state.workItem.type,
      id: state.workItem.id,
      number: state.workItem.number,
      state: this.rec?.partnerState ?? '',
      closed: state.workItem.closed,
    };
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

/** Notes sent in one call; each was fitted to noteMax already, so several together stay within a few notes' worth. */
function joinNotes(notes: string[], limits: FieldLimits): string {
  const text = notes.filter(Boolean).join('\n\n');
  return truncateText(text, limits.noteMax * 4, limits.unit);
}
