/**
 * Grouping and dedup decisions for ITSM actions (SPEC §2.3). Pure: the caller loads the LinkState for a unit's
 * dedup key, calls `decide`, performs the partner call the Decision describes, and stores `next` once it
 * succeeded. Decisions for one dedup key must be taken one at a time, in order (the delivery engine serializes
 * per key). The decision table is in DECISIONS.md next to this file.
 */
import { createHash } from 'node:crypto';
import type { LogRow, MonitorCondition, NormalizedAlert } from '../core/alert.ts';
import { ciOfRow } from '../ingest/ci.ts';
import type { ResolveInput, WorkItemInput, WorkItemType } from '../partners/partner.ts';
import { renderTemplate } from './placeholders.ts';
import type { FieldLimits } from './render.ts';
import type { WorkUnit } from './work-unit.ts';
import {
  renderCloseNotes,
  renderDescription,
  renderFoldedNote,
  renderOccurrenceNote,
  renderPartialResolveNote,
  renderReopenNote,
  renderResolveNote,
  renderTitle,
  DEFAULT_FIELD_LIMITS,
} from './render.ts';
import type { TicketConfiguration } from './ticket-config.ts';
import { truncateText } from './text.ts';

/** Most work units one alert can expand to (per-row / per-CI modes); the rest are dropped. */
export const MAX_UNITS_PER_ALERT = 500;
/** How many recent events / firing instances a link remembers. */
export const MAX_SEEN_EVENTS = 128;
export const MAX_FIRING = 500;

export type { WorkUnit };

/** What is known about the work item of a dedup key (persisted by the caller). */
export interface LinkState {
  workItem: { type: WorkItemType; id: string; number: string; closed: boolean };
  /** When the work item was closed (by us or as seen by sync), ISO UTC. */
  closedAt?: string;
  lastAlertId: string;
  lastCondition: MonitorCondition;
  /** When the last work note (or the creation) was written, ISO UTC. */
  lastNoteAt?: string;
  /** Occurrences folded since lastNoteAt, not yet written as a note. */
  pendingOccurrences: number;
  /** CIs already linked (case-insensitive set, first spelling kept). */
  cis: string[];
  // ---- extensions (optional so that a bare LinkState still works) ----
  /** 0 for the first work item of the key, +1 for each new one after a close; part of the correlation key. */
  generation?: number;
  /** Instance keys currently firing for this work item: it resolves when the last one resolves. */
  firing?: string[];
  /** Recent `<condition>:<alertId>` events, for redelivery and out-of-order detection. */
  seen?: string[];
  /** First and latest folded occurrence (for the folded note). */
  pendingSince?: string;
  pendingLatest?: { alertId: string; condition: MonitorCondition; at: string };
}

/** LinkState to store after a create, before the partner's ids are known (the caller adds `workItem`). */
export type NewLinkState = Omit<LinkState, 'workItem'>;

/** What to create: WorkItemInput with CI names instead of partner CI ids (resolved by findOrCreateCi). */
export type WorkItemDraft = Omit<WorkItemInput, 'ciIds'> & { ciNames: string[] };

export type IgnoreReason =
  /** Same alert id and condition as already processed. */
  | 'redelivery'
  /** A Fired arriving after the same alert's Resolved (out of order). */
  | 'stale'
  /** A Resolved for a key with no work item, or whose work item is closed. */
  | 'no-open-work-item'
  /** autoResolve.mode = none. */
  | 'auto-resolve-off';

export type Decision =
  | { kind: 'create'; dedupKey: string; correlationKey: string; draft: WorkItemDraft; next: NewLinkState }
  | {
      kind: 'update';
      dedupKey: string;
      correlationKey: string;
      /** Work note to add; null = coalesced (nothing to send unless addCis is non-empty). */
      note: string | null;
      addCis: string[];
      coalesced: boolean;
      /** When coalesced: when to call flushPending for this key. */
      flushAt?: string;
      next: LinkState;
    }
  | {
      kind: 'resolve';
      dedupKey: string;
      correlationKey: string;
      /** resolve = close the work item with `resolve`; note = only add `note`. */
      mode: 'resolve' | 'note';
      resolve?: ResolveInput;
      note: string;
      next: LinkState;
    }
  | { kind: 'reopen'; dedupKey: string; correlationKey: string; note: string; addCis: string[]; next: LinkState }
  | {
      kind: 'create-new';
      dedupKey: string;
      /** Correlation key of the new work item (next generation). */
      correlationKey: string;
      previous: LinkState['workItem'];
      draft: WorkItemDraft;
      next: NewLinkState;
    }
  | { kind: 'ignore'; dedupKey: string; correlationKey: string; reason: IgnoreReason; next: LinkState | null };

// ---------------------------------------------------------------------------------------------------------------
// keys

const B32 = 'abcdefghijklmnopqrstuvwxyz234567';

function base32(buf: Buffer): string {
  let bits = 0;
  let value = 0;
  let out = '';
  for (const byte of buf) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += B32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += B32[(value << (5 - bits)) & 31];
  return out;
}

/**
 * Correlation key written into the partner record: `oitsmc:` + 32 base32 chars (160 bits of SHA-256 of the
 * dedup key), plus `-<generation>` for the work items that follow a closed one. At most 50 characters, well
 * within ServiceNow correlation_id (100).
 */
export function correlationKeyFor(dedupKey: string, generation = 0): string {
  const h = base32(createHash('sha256').update(dedupKey).digest().subarray(0, 20));
  return generation > 0 ? `oitsmc:${h}-${generation}` : `oitsmc:${h}`;
}

/** Stable identity of a log row: hash of its columns in sorted order. */
export function rowIdentity(row: LogRow): string {
  const canon = JSON.stringify(
    Object.keys(row)
      .sort()
      .map((k) => [k, row[k]]),
  );
  return createHash('sha256').update(canon).digest('hex').slice(0, 32);
}

/**
 * Dedup key (SPEC 2.3): action id, then the Alertmanager group key when the alert has one, else the rule; then
 * the CI (lower-cased) with CreateOneWIPerCI, or the row identity with CreateOneWIPerLog. JSON-encoded, so no
 * separator can be forged by a rule name.
 */
export function dedupKeyFor(actionId: string, alert: NormalizedAlert, part?: { ci?: string; row?: LogRow }): string {
  const base = alert.groupKey ? ['group', alert.groupKey] : ['rule', alert.rule];
  const split = part?.row ? ['row', rowIdentity(part.row)] : part?.ci !== undefined ? ['ci', part.ci.toLowerCase()] : [];
  return JSON.stringify(['oitsmc/1', actionId, ...base, ...split]);
}

// ---------------------------------------------------------------------------------------------------------------
// expansion

function unit(
  actionId: string,
  alert: NormalizedAlert,
  fields: Partial<WorkUnit> & { cis: string[]; rows: LogRow[] },
  split?: { ci?: string; row?: LogRow },
): WorkUnit {
  const dedupKey = dedupKeyFor(actionId, alert, split);
  return {
    actionId,
    dedupKey,
    correlationKey: correlationKeyFor(dedupKey),
    alert,
    instanceKey: alert.instanceKey ?? alert.alertId,
    ...fields,
  };
}

/**
 * The work units of an alert for one action:
 * - CreateOneWIPerLog and the alert carries log rows → one unit per row (its CI from Computer/_ResourceId/…);
 * - CreateOneWIPerCI and the alert has CIs → one unit per CI (with that CI's rows);
 * - otherwise one unit with all CIs and rows.
 * Capped at MAX_UNITS_PER_ALERT.
 */
export function expandAlert(alert: NormalizedAlert, cfg: TicketConfiguration, actionId: string): WorkUnit[] {
  const rows = alert.logSearch?.rows ?? [];
  if (cfg.CreateOneWIPerLog && rows.length > 0) {
    return rows.slice(0, MAX_UNITS_PER_ALERT).map((row, rowIndex) => {
      const ci = ciOfRow(row)?.name;
      return unit(actionId, alert, { ci, row, rowIndex, cis: ci ? [ci] : [], rows: [row] }, { row });
    });
  }
  if (cfg.CreateOneWIPerCI && alert.configurationItems.length > 0) {
    return alert.configurationItems.slice(0, MAX_UNITS_PER_ALERT).map((ci) => {
      const l = ci.toLowerCase();
      const own = rows.filter((r) => ciOfRow(r)?.name.toLowerCase() === l);
      return unit(actionId, alert, { ci, cis: [ci], rows: own }, { ci });
    });
  }
  return [unit(actionId, alert, { cis: [...alert.configurationItems], rows })];
}

// ---------------------------------------------------------------------------------------------------------------
// decisions

export interface DecideOptions {
  /** The partner's field limits for titles, descriptions and notes (DEFAULT_FIELD_LIMITS otherwise). */
  limits?: FieldLimits;
  /** The partner's Event/Alert severity scale; without it drafts carry no event severity. */
  eventSeverity?: (severity: NormalizedAlert['severity'], condition: MonitorCondition) => string;
}

function toMs(t: Date | string | number): number {
  const ms = t instanceof Date ? t.getTime() : typeof t === 'number' ? t : Date.parse(t);
  if (!Number.isFinite(ms)) throw new RangeError(`invalid time ${String(t)}`);
  return ms;
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

function mergeCis(have: string[], add: string[]): { merged: string[]; added: string[] } {
  const seen = new Set(have.map((c) => c.toLowerCase()));
  const merged = [...have];
  const added: string[] = [];
  for (const c of add) {
    const k = c.toLowerCase();
    if (seen.has(k)) continue;
    seen.add(k);
    merged.push(c);
    added.push(c);
  }
  return { merged, added };
}

function pushCapped(list: string[] | undefined, item: string, cap: number): string[] {
  const out = (list ?? []).filter((x) => x !== item);
  out.push(item);
  return out.length > cap ? out.slice(out.length - cap) : out;
}

function eventOf(u: WorkUnit): string {
  return `${u.alert.monitorCondition}:${u.alert.alertId}`;
}

/** Fields of a new work item: rendered WorkItemData, then impact/urgency from the severity mapping (Incident). */
export function workItemFields(u: WorkUnit, cfg: TicketConfiguration, limits: FieldLimits = DEFAULT_FIELD_LIMITS): Record<string, string> {
  const fields: Record<string, string> = {};
  const scope = { alert: u.alert, ci: u.ci, row: u.row };
  for (const [k, v] of Object.entries(cfg.WorkItemData)) {
    fields[k] = truncateText(renderTemplate(v, scope), limits.descriptionMax, limits.unit);
  }
  if (cfg.WorkItemType === 'Incident' && (!cfg.UseTemplate || cfg.severityMappingExplicit)) {
    const m = cfg.severityMapping[u.alert.severity];
    if (!Object.hasOwn(fields, 'impact')) fields.impact = m.impact;
    if (!Object.hasOwn(fields, 'urgency')) fields.urgency = m.urgency;
  }
  return fields;
}

/** The work item to create for a unit. */
export function buildDraft(u: WorkUnit, cfg: TicketConfiguration, correlationKey: string, options: DecideOptions = {}): WorkItemDraft {
  const limits = options.limits ?? DEFAULT_FIELD_LIMITS;
  const scale = cfg.WorkItemType !== 'Incident' ? options.eventSeverity : undefined;
  return {
    type: cfg.WorkItemType,
    correlationKey,
    title: renderTitle(u, limits),
    description: renderDescription(u, limits),
    fields: workItemFields(u, cfg, limits),
    ...(cfg.UseTemplate && cfg.TemplateName ? { templateName: cfg.TemplateName } : {}),
    ciNames: [...u.cis],
    ...(scale ? { eventSeverity: scale(u.alert.severity, u.alert.monitorCondition) } : {}),
    ...(cfg.WorkItemType !== 'Incident' ? { resource: resourceOf(u) } : {}),
  };
}

/**
 * What an Event/Alert is about inside its CI: the target that names the unit's CI (else the first target), an
 * Azure resource id shortened to `<provider>/<type>/<name>`; the CI itself when the alert has no target.
 */
export function resourceOf(u: WorkUnit): string | undefined {
  const ci = (u.ci ?? u.cis[0])?.toLowerCase();
  const target = (ci ? u.alert.targets.find((t) => t.toLowerCase().includes(ci)) : undefined) ?? u.alert.targets[0];
  if (!target) return u.ci ?? u.cis[0];
  const i = target.toLowerCase().lastIndexOf('/providers/');
  return i >= 0 ? target.slice(i + '/providers/'.length) : target;
}

/**
 * Decide what one work unit does to its dedup key's work item. See DECISIONS.md for the table.
 * `now` is the processing time (used for coalescing and the reopen window).
 */
export function decide(u: WorkUnit, link: LinkState | null, cfg: TicketConfiguration, now: Date | string | number, options: DecideOptions = {}): Decision {
  const limits = options.limits ?? DEFAULT_FIELD_LIMITS;
  const nowMs = toMs(now);
  const at = iso(nowMs);
  const a = u.alert;
  const cond = a.monitorCondition;
  const ev = eventOf(u);
  const base = { dedupKey: u.dedupKey };

  // 1. No work item yet.
  if (!link) {
    if (cond === 'Resolved') return { kind: 'ignore', ...base, correlationKey: u.correlationKey, reason: 'no-open-work-item', next: null };
    const correlationKey = correlationKeyFor(u.dedupKey, 0);
    return {
      kind: 'create',
      ...base,
      correlationKey,
      draft: buildDraft(u, cfg, correlationKey, options),
      next: {
        lastAlertId: a.alertId,
        lastCondition: cond,
        lastNoteAt: at,
        pendingOccurrences: 0,
        cis: [...u.cis],
        generation: 0,
        firing: [u.instanceKey],
        seen: [ev],
      },
    };
  }

  const generation = link.generation ?? 0;
  const correlationKey = correlationKeyFor(u.dedupKey, generation);
  const ck = { ...base, correlationKey };

  // 2. Redelivery / out of order.
  const seen = link.seen ?? [];
  if (seen.includes(ev) || (link.lastAlertId === a.alertId && link.lastCondition === cond)) return { kind: 'ignore', ...ck, reason: 'redelivery', next: null };
  if (cond === 'Fired' && seen.includes(`Resolved:${a.alertId}`)) return { kind: 'ignore', ...ck, reason: 'stale', next: null };
  const firingBefore = link.firing ?? (link.lastCondition === 'Fired' ? [link.lastAlertId] : []);
  // An alert whose id is its own instance key and that is still firing: a repeat notification (Alertmanager
  // repeat_interval) that fell out of `seen`.
  if (cond === 'Fired' && u.instanceKey === a.alertId && firingBefore.includes(a.alertId)) return { kind: 'ignore', ...ck, reason: 'redelivery', next: null };
  const tracked: LinkState = {
    ...link,
    lastAlertId: a.alertId,
    lastCondition: cond,
    seen: pushCapped(seen, ev, MAX_SEEN_EVENTS),
  };

  // 3. The work item is closed.
  if (link.workItem.closed) {
    if (cond === 'Resolved')
      return {
        kind: 'ignore',
        ...ck,
        reason: 'no-open-work-item',
        next: { ...tracked, firing: firingBefore.filter((k) => k !== u.instanceKey) },
      };
    const closedMs = link.closedAt ? Date.parse(link.closedAt) : Number.NaN;
    const withinWindow = cfg.reopenWindowSeconds > 0 && Number.isFinite(closedMs) && nowMs - closedMs <= cfg.reopenWindowSeconds * 1000;
    if (withinWindow) {
      const { merged, added } = mergeCis(link.cis, u.cis);
      const next: LinkState = {
        ...tracked,
        workItem: { ...link.workItem, closed: false },
        closedAt: undefined,
        cis: merged,
        firing: [u.instanceKey],
        lastNoteAt: at,
        pendingOccurrences: 0,
        pendingSince: undefined,
        pendingLatest: undefined,
      };
      return { kind: 'reopen', ...ck, note: renderReopenNote(u, link.closedAt, added, limits), addCis: added, next: clean(next) };
    }
    const newGen = generation + 1;
    const newKey = correlationKeyFor(u.dedupKey, newGen);
    const { workItem: _w, closedAt: _c, pendingSince: _ps, pendingLatest: _pl, ...rest } = tracked;
    return {
      kind: 'create-new',
      ...base,
      correlationKey: newKey,
      previous: link.workItem,
      draft: buildDraft(u, cfg, newKey, options),
      next: clean({
        ...rest,
        generation: newGen,
        cis: [...u.cis],
        firing: [u.instanceKey],
        lastNoteAt: at,
        pendingOccurrences: 0,
      }),
    };
  }

  // 4. The work item is open.
  const folded = link.pendingOccurrences;
  const foldedSince = link.pendingSince;
  const window = cfg.noteCoalesceSeconds * 1000;
  const lastNoteMs = link.lastNoteAt ? Date.parse(link.lastNoteAt) : Number.NaN;
  const inWindow = window > 0 && Number.isFinite(lastNoteMs) && nowMs - lastNoteMs < window && nowMs >= lastNoteMs;
  const firingAfter = cond === 'Fired' ? pushCapped(firingBefore, u.instanceKey, MAX_FIRING) : firingBefore.filter((k) => k !== u.instanceKey);

  if (cond === 'Resolved' && cfg.autoResolve.mode === 'none')
    return { kind: 'ignore', ...ck, reason: 'auto-resolve-off', next: clean({ ...tracked, firing: firingAfter }) };
  if (cond === 'Resolved' && firingAfter.length === 0) {
    const flushed = { pendingOccurrences: 0, pendingSince: undefined, pendingLatest: undefined, lastNoteAt: at };
    if (cfg.autoResolve.mode === 'note')
      return {
        kind: 'resolve',
        ...ck,
        mode: 'note',
        note: renderResolveNote(u, 'note', { folded, foldedSince }, limits),
        next: clean({ ...tracked, ...flushed, firing: firingAfter }),
      };
    const resolve: ResolveInput = {
      ...(cfg.autoResolve.state ? { state: cfg.autoResolve.state } : {}),
      ...(cfg.autoResolve.closeCode ? { closeCode: cfg.autoResolve.closeCode } : {}),
      closeNotes: renderCloseNotes(u, cfg.autoResolve.closeNotes, limits),
    };
    return {
      kind: 'resolve',
      ...ck,
      mode: 'resolve',
      resolve,
      note: renderResolveNote(u, 'resolve', { folded, foldedSince }, limits),
      next: clean({ ...tracked, ...flushed, firing: firingAfter, workItem: { ...link.workItem, closed: true }, closedAt: at }),
    };
  }

  // A new firing, or a resolve while others still fire: an occurrence, noted (or folded under a storm).
  const { merged, added } = cond === 'Fired' ? mergeCis(link.cis, u.cis) : { merged: link.cis, added: [] as string[] };
  if (inWindow && added.length === 0) {
    const next = clean({
      ...tracked,
      cis: merged,
      firing: firingAfter,
      pendingOccurrences: folded + 1,
      pendingSince: foldedSince ?? at,
      pendingLatest: { alertId: a.alertId, condition: cond, at: cond === 'Fired' ? a.firedAt : (a.resolvedAt ?? a.firedAt) },
    });
    return { kind: 'update', ...ck, note: null, addCis: [], coalesced: true, flushAt: iso(lastNoteMs + window), next };
  }
  const info = { newCis: added, folded, foldedSince };
  const note = cond === 'Fired' ? renderOccurrenceNote(u, info, limits) : renderPartialResolveNote(u, firingAfter.length, info, limits);
  const next = clean({
    ...tracked,
    cis: merged,
    firing: firingAfter,
    lastNoteAt: at,
    pendingOccurrences: 0,
    pendingSince: undefined,
    pendingLatest: undefined,
  });
  return { kind: 'update', ...ck, note, addCis: added, coalesced: false, next };
}

/**
 * Write the occurrences folded under a storm once the coalescing window has passed: returns the note and the
 * state to store, or null when there is nothing to flush yet (none pending, window still open, or closed).
 */
export function flushPending(
  link: LinkState,
  cfg: TicketConfiguration,
  now: Date | string | number,
  options: DecideOptions = {},
): { note: string; next: LinkState } | null {
  if (link.pendingOccurrences <= 0 || link.workItem.closed) return null;
  const nowMs = toMs(now);
  const lastNoteMs = link.lastNoteAt ? Date.parse(link.lastNoteAt) : Number.NaN;
  if (Number.isFinite(lastNoteMs) && nowMs - lastNoteMs < cfg.noteCoalesceSeconds * 1000) return null;
  const note = renderFoldedNote(
    { count: link.pendingOccurrences, since: link.pendingSince, latest: link.pendingLatest },
    options.limits ?? DEFAULT_FIELD_LIMITS,
  );
  return {
    note,
    next: clean({ ...link, pendingOccurrences: 0, pendingSince: undefined, pendingLatest: undefined, lastNoteAt: new Date(nowMs).toISOString() }),
  };
}

/** Drop undefined-valued keys (stored state stays minimal and compares equal to its JSON form). */
function clean<T extends object>(o: T): T {
  const out = {} as Record<string, unknown>;
  for (const [k, v] of Object.entries(o)) if (v !== undefined) out[k] = v;
  return out as T;
}
