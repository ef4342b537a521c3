/**
 * Server-side business rules the sandbox emulates (partner-apis.md §1.8 and §6.1 item 9): incident
 * defaults, the priority lookup, state stamping, data policies; change_request state stamping; user
 * name calculation; OAuth client id/secret generation.
 */
import { randomBytes } from 'node:crypto';
import type { JournalEntry, Rec, SnStore, WriteCtx } from './store.ts';
import { SnError, newSysId } from './store.ts';
import type { TableMeta } from './schema.ts';
import { priorityFor } from './schema.ts';
import { snDateTime } from './time.ts';

function empty(v: unknown): boolean {
  return v === null || v === undefined || v === '';
}

function num(v: unknown): number | undefined {
  if (empty(v)) return undefined;
  const n = Number(v);
  return Number.isNaN(n) ? undefined : n;
}

export function dataPolicyError(store: SnStore, labels: string[]): SnError {
  return new SnError(store.rules.dataPolicyErrorStatus, 'Operation Failed', `Data Policy Exception: The following fields are mandatory: ${labels.join(', ')}`);
}

export function applyBusinessRules(
  store: SnStore,
  meta: TableMeta,
  old: Rec | undefined,
  rec: Rec,
  input: Set<string>,
  _journal: JournalEntry[],
  ctx: WriteCtx,
): void {
  const now = snDateTime(ctx.nowMs);
  const user = ctx.user.sysId;
  const isInsert = !old;
  const prev = old ? num(old.state) : undefined;
  const cur = num(rec.state);
  const entering = (s: number): boolean => cur === s && prev !== s;
  const label = (f: string): string => meta.fieldMap.get(f)?.label ?? f;
  const given = (f: string): boolean => input.has(f) && !empty(rec[f]);

  switch (meta.name) {
    case 'incident': {
      if (input.has('state')) rec.incident_state = rec.state;
      else if (input.has('incident_state')) {
        rec.state = rec.incident_state;
        return applyBusinessRules(store, meta, old, rec, new Set([...input, 'state']), _journal, ctx);
      }
      if (isInsert) {
        if (empty(rec.opened_at)) rec.opened_at = now;
        if (empty(rec.opened_by)) rec.opened_by = user;
      }
      if (store.rules.priorityFromMatrix) {
        const p = priorityFor(rec.impact, rec.urgency);
        if (p !== null) rec.priority = p;
      }
      if ((entering(6) || entering(7)) && store.rules.closeCodeRequiredOnResolve) {
        const missing = ['close_code', 'close_notes'].filter((f) => empty(rec[f])).map(label);
        if (missing.length) throw dataPolicyError(store, missing);
      }
      if (entering(3) && store.rules.holdReasonRequiredOnHold && empty(rec.hold_reason)) {
        throw dataPolicyError(store, [label('hold_reason')]);
      }
      if (cur !== 3 && prev === 3 && !input.has('hold_reason')) rec.hold_reason = null;
      if (entering(6)) {
        if (!given('resolved_at')) rec.resolved_at = now;
        if (!given('resolved_by')) rec.resolved_by = user;
        rec.active = 1;
      }
      if (entering(7)) {
        if (!given('closed_at')) rec.closed_at = now;
        if (!given('closed_by')) rec.closed_by = user;
        if (empty(rec.resolved_at)) rec.resolved_at = now;
        if (empty(rec.resolved_by)) rec.resolved_by = user;
        rec.active = 0;
      }
      if (entering(8)) rec.active = 0;
      if (cur !== undefined && [1, 2, 3].includes(cur) && prev !== undefined && [6, 7, 8].includes(prev)) {
        rec.reopen_count = Number(rec.reopen_count ?? 0) + 1;
        rec.reopened_time = now;
        rec.reopened_by = user;
        rec.resolved_at = null;
        rec.resolved_by = null;
        rec.closed_at = null;
        rec.closed_by = null;
        rec.active = 1;
      }
      if (!isInsert && input.has('assignment_group') && String(old.assignment_group ?? '') !== String(rec.assignment_group ?? '')) {
        rec.reassignment_count = Number(rec.reassignment_count ?? 0) + 1;
      }
      break;
    }
    case 'change_request': {
      if (isInsert) {
        if (empty(rec.opened_at)) rec.opened_at = now;
        if (empty(rec.opened_by)) rec.opened_by = user;
        if (empty(rec.requested_by)) rec.requested_by = user;
      }
      if (entering(-1) && empty(rec.work_start)) rec.work_start = now;
      if (entering(0)) {
        if (empty(rec.work_start)) rec.work_start = now;
        if (empty(rec.work_end)) rec.work_end = now;
      }
      if (entering(3)) {
        if (store.rules.changeCloseCodeRequiredOnClose) {
          const missing = ['close_code', 'close_notes'].filter((f) => empty(rec[f])).map(label);
          if (missing.length) throw dataPolicyError(store, missing);
        }
        if (!given('closed_at')) rec.closed_at = now;
        if (!given('closed_by')) rec.closed_by = user;
        rec.active = 0;
      }
      if (entering(4)) rec.active = 0;
      if (cur !== undefined && cur <= 0 && prev !== undefined && (prev === 3 || prev === 4)) {
        rec.active = 1;
        rec.closed_at = null;
        rec.closed_by = null;
      }
      break;
    }
    case 'sys_user': {
      if ((input.has('first_name') || input.has('last_name')) && !input.has('name')) {
        rec.name = [rec.first_name, rec.last_name].filter((x) => !empty(x)).join(' ') || null;
      }
      break;
    }
    case 'oauth_entity': {
      if (isInsert && empty(rec.client_id)) rec.client_id = newSysId();
      if (isInsert && empty(rec.client_secret)) rec.client_secret = randomBytes(12).toString('base64url');
      break;
    }
    default:
      break;
  }
}
