/** Conversion between the grouping core's LinkState and the work_item_links row. */
import type { LinkState } from '../actions/grouping.ts';
import type { WorkItemLinksTable } from '../store/schema.ts';
import type { WorkItemType } from '../partners/partner.ts';

/** The part of LinkState without its own column, plus the engine's create marker. */
interface DecisionState {
  generation?: number;
  firing?: string[];
  seen?: string[];
  pendingSince?: string;
  pendingLatest?: LinkState['pendingLatest'];
  /**
   * A create with this correlation key was attempted and its outcome is unknown (timeout, 5xx, crash):
   * every later create with that key first looks it up in the partner.
   */
  uncertainCreate?: string;
}

export interface LinkRecord {
  /** What `decide` sees; null while no work item exists for the key. */
  state: LinkState | null;
  uncertainCreate?: string;
  /** Partner state string of the work item (ServiceNow state value). */
  partnerState: string | null;
  correlationKey: string;
  createdAt: number;
}

function isoOrUndefined(ms: number | null): string | undefined {
  return ms === null || ms === undefined ? undefined : new Date(Number(ms)).toISOString();
}

function msOrNull(iso: string | undefined): number | null {
  if (!iso) return null;
  const ms = Date.parse(iso);
  return Number.isFinite(ms) ? ms : null;
}

function parse<T>(json: string | null, fallback: T): T {
  if (!json) return fallback;
  try {
    return JSON.parse(json) as T;
  } catch {
    return fallback;
  }
}

export function fromRow(row: WorkItemLinksTable | undefined): LinkRecord | null {
  if (!row) return null;
  const extra = parse<DecisionState>(row.decision_state, {});
  const state: LinkState | null = row.partner_id
    ? stripUndefined<LinkState>({
        workItem: { type: row.work_item_type as WorkItemType, id: row.partner_id, number: row.number ?? row.partner_id, closed: row.closed === 1 },
        closedAt: isoOrUndefined(row.closed_at),
        lastAlertId: row.last_alert_id ?? '',
        lastCondition: row.last_condition === 'Resolved' ? ('Resolved' as const) : ('Fired' as const),
        lastNoteAt: isoOrUndefined(row.last_note_at),
        pendingOccurrences: Number(row.pending_occurrences) || 0,
        cis: parse<string[]>(row.cis, []),
        generation: extra.generation,
        firing: extra.firing,
        seen: extra.seen,
        pendingSince: extra.pendingSince,
        pendingLatest: extra.pendingLatest,
      })
    : null;
  return { state, uncertainCreate: extra.uncertainCreate, partnerState: row.state, correlationKey: row.correlation_key, createdAt: Number(row.created_at) };
}

export interface LinkOwner {
  dedupKey: string;
  workspace: string;
  connectionId: string;
  actionGroupId: string;
  receiver: string;
  workItemType: WorkItemType;
}

export function toRow(owner: LinkOwner, rec: LinkRecord, now = Date.now()): WorkItemLinksTable {
  const s = rec.state;
  const extra: DecisionState = stripUndefined({
    generation: s?.generation,
    firing: s?.firing,
    seen: s?.seen,
    pendingSince: s?.pendingSince,
    pendingLatest: s?.pendingLatest,
    uncertainCreate: rec.uncertainCreate,
  });
  return {
    dedup_key: owner.dedupKey,
    workspace: owner.workspace,
    connection_id: owner.connectionId,
    work_item_type: s?.workItem.type ?? owner.workItemType,
    partner_id: s?.workItem.id ?? null,
    number: s?.workItem.number ?? null,
    state: rec.partnerState,
    closed: s?.workItem.closed ? 1 : 0,
    closed_at: msOrNull(s?.closedAt),
    correlation_key: rec.correlationKey,
    last_alert_id: s?.lastAlertId ?? null,
    last_condition: s?.lastCondition ?? null,
    last_note_at: msOrNull(s?.lastNoteAt),
    pending_occurrences: s?.pendingOccurrences ?? 0,
    cis: JSON.stringify(s?.cis ?? []),
    created_at: rec.createdAt,
    updated_at: now,
    decision_state: JSON.stringify(extra),
    action_group: owner.actionGroupId,
    receiver: owner.receiver,
  };
}

function stripUndefined<T extends object>(o: T): T {
  const out = {} as Record<string, unknown>;
  for (const [k, v] of Object.entries(o)) if (v !== undefined) out[k] = v;
  return out as T;
}
