/**
 * Durable alert ingestion: parse → expand into work units per ITSM action → store the alert rows and
 * their delivery jobs in one transaction (group commit) → only then answer 202. A redelivery of the same
 * (action group, alert id, monitor condition) is recognised by the alerts table's unique idempotency key
 * and answered 202 `duplicate` without new jobs.
 */
import { createHash, randomFillSync } from 'node:crypto';
import type { NormalizedAlert } from '../core/alert.ts';
import type { Store } from '../store/store.ts';
import type { AcceptItem } from '../store/alerts.ts';
import type { NewJob } from '../store/jobs.ts';
import { parseAlertPayload } from '../ingest/detect.ts';
import { expandAlert } from '../actions/grouping.ts';
import type { ResolvedActionGroup } from '../actiongroups/service.ts';
import { GroupCommitter, defaultGroupCommit, type GroupCommitOptions } from './group-commit.ts';

export const DELIVER_KIND = 'deliver';
export const FLUSH_KIND = 'flush';

/** What a delivery job carries: enough to find its alert and re-derive its work unit. */
export interface DeliverPayload {
  /** alerts.id */
  a: string;
  /** action group id */
  g: string;
  /** receiver (ITSM action) name */
  r: string;
  /** index of the unit in expandAlert's output at ingest time */
  u: number;
}

export interface FlushPayload {
  g: string;
  r: string;
}

export interface IngestOptions {
  /** Attempts before a delivery job is dead-lettered. */
  maxAttempts: number;
  groupCommit: GroupCommitOptions;
}

export const defaultIngestOptions: IngestOptions = { maxAttempts: 10, groupCommit: defaultGroupCommit };

export type IngestStatus = 'accepted' | 'duplicate' | 'ignored';

export interface IngestResult {
  status: IngestStatus;
  reason?: string;
  alerts: { alertId: string; monitorCondition: string; status: 'accepted' | 'duplicate'; workItems: number }[];
}

/** The action id inside dedup keys: stable across renames of the group, unique per ITSM action. */
export function actionIdOf(groupId: string, receiverName: string): string {
  return `${groupId}/${receiverName}`;
}

/** Ordering key of a dedup key: fixed length, so the job and link indexes stay compact. */
export function orderingKeyOf(dedupKey: string): string {
  return 'k_' + createHash('sha256').update(dedupKey).digest('base64url').slice(0, 32);
}

export function idempotencyKeyOf(groupId: string, alert: NormalizedAlert): string {
  return createHash('sha256').update(`${groupId}\u0000${alert.alertId}\u0000${alert.monitorCondition}`).digest('base64url');
}

export class IngestService {
  private readonly committer: GroupCommitter<AcceptItem, boolean>;

  constructor(
    store: Store,
    private readonly options: IngestOptions = defaultIngestOptions,
    /** Called after each committed batch that added jobs, with their connections (wakes the workers). */
    onJobs: (connectionIds: ReadonlySet<string>) => void = () => {},
  ) {
    this.committer = new GroupCommitter<AcceptItem, boolean>(
      (items) => store.alerts.acceptBatch(items),
      { pipeline: store.acceptPipelineDepth, ...options.groupCommit },
      (items, results) => {
        const connections = new Set<string>();
        results.forEach((added, i) => {
          if (added) for (const job of items[i].jobs) connections.add(job.connection_id ?? '');
        });
        if (connections.size > 0) onJobs(connections);
      },
    );
  }

  /**
   * Parses and durably stores one webhook body for an action group. Throws IngestError (→ 400) when the
   * body matches no known payload shape. A disabled group stores nothing and answers `ignored`.
   */
  async ingest(group: ResolvedActionGroup, body: unknown, receivedAt = Date.now()): Promise<IngestResult> {
    if (!group.enabled) return { status: 'ignored', reason: `action group '${group.name}' is disabled; the alert was not stored`, alerts: [] };
    const alerts = parseAlertPayload(body, { receivedAt: new Date(receivedAt).toISOString() });
    const items = alerts.map((alert, i) => this.prepare(group, alert, alerts.length === 1 ? null : elementOf(body, i, alerts.length), receivedAt));
    const results = await Promise.all(items.map((it) => this.committer.submit(it)));
    const out = alerts.map((a, i) => ({
      alertId: a.alertId,
      monitorCondition: a.monitorCondition,
      status: results[i] ? ('accepted' as const) : ('duplicate' as const),
      workItems: items[i].jobs.length,
    }));
    const status: IngestStatus = out.length > 0 && out.every((a) => a.status === 'duplicate') ? 'duplicate' : 'accepted';
    return { status, alerts: out };
  }

  close(): Promise<void> {
    return this.committer.close();
  }

  /** Group commit statistics: batches, alerts in them, time spent writing. */
  get stats(): { batches: number; items: number; writeMs: number } {
    return this.committer.stats;
  }

  /** `element`: for a body with several alerts, this alert's own element (null: the body is this one alert). */
  private prepare(group: ResolvedActionGroup, alert: NormalizedAlert, element: unknown, receivedAt: number): AcceptItem {
    const id = timeOrderedId();
    const jobs: NewJob[] = [];
    for (const receiver of group.receivers) {
      const units = expandAlert(alert, receiver.config, actionIdOf(group.id, receiver.name));
      units.forEach((unit, u) => {
        const payload: DeliverPayload = { a: id, g: group.id, r: receiver.name, u };
        jobs.push({
          kind: DELIVER_KIND,
          ordering_key: orderingKeyOf(unit.dedupKey),
          dedupe_key: `${id}/${receiver.index}/${u}`,
          connection_id: receiver.connectionId,
          workspace: group.workspace,
          payload: JSON.stringify(payload),
          max_attempts: this.options.maxAttempts,
          run_at: receivedAt,
        });
      });
    }
    return {
      alert: {
        id,
        workspace: group.workspace,
        action_group: group.id,
        idempotency_key: idempotencyKeyOf(group.id, alert),
        family: alert.family,
        alert_id: alert.alertId.slice(0, 1024),
        monitor_condition: alert.monitorCondition,
        payload: element === null ? storedBody(alert) : serializeAlert(alert, element),
        received_at: receivedAt,
      },
      jobs,
    };
  }
}

/**
 * How an alert is stored (alerts.payload), in one of two forms:
 * - a body that carried exactly this alert (Azure Monitor, legacy shapes, one-alert Alertmanager/Grafana
 *   bodies): `{"v":2,"raw":<the body>}`, the original payload only. Delivery parses it again (parsing is
 *   a pure function of the body and the arrival time): half the bytes per alert of storing both forms,
 *   and bytes are what an fsync-bound group commit pays for.
 * - one alert of a body with several: the normalized alert, with `raw` = its own element of the body.
 */
export function storedBody(alert: NormalizedAlert): string {
  try {
    return `{"v":2,"raw":${JSON.stringify(alert.raw)}}`;
  } catch {
    return serializeAlert(alert, '(original payload not kept: too deeply nested to store)');
  }
}

/** Reads alerts.payload back into the normalized alert (null when it cannot be read any more). */
export function decodeStoredAlert(payload: string, receivedAt: number, alertId: string, condition: string): NormalizedAlert | null {
  let stored: any;
  try {
    stored = JSON.parse(payload);
  } catch {
    return null;
  }
  if (stored?.v !== 2) return stored && typeof stored === 'object' && typeof stored.rule === 'string' ? (stored as NormalizedAlert) : null;
  try {
    const parsed = parseAlertPayload(stored.raw, { receivedAt: new Date(receivedAt).toISOString() });
    return parsed.find((a) => a.alertId.slice(0, 1024) === alertId && a.monitorCondition === condition) ?? null;
  } catch {
    return null;
  }
}

/** The normalized alert with `raw`; an original payload too deeply nested to serialize is dropped. */
function serializeAlert(alert: NormalizedAlert, raw: unknown): string {
  try {
    return JSON.stringify({ ...alert, raw });
  } catch {
    return JSON.stringify({ ...alert, raw: '(original payload not kept: too deeply nested to store)' });
  }
}

let lastMs = 0;
let seqInMs = 0;
const randomPool = Buffer.alloc(4096);
let randomAt = randomPool.length;

/** 8 random bytes as hex, from a pool refilled every 512 ids: one getrandom call instead of one per alert. */
function randomHex8(): string {
  if (randomAt + 8 > randomPool.length) {
    randomFillSync(randomPool);
    randomAt = 0;
  }
  randomAt += 8;
  return randomPool.toString('hex', randomAt - 8, randomAt);
}

/**
 * A UUID-shaped id whose leading bits are the time (like UUIDv7): consecutive alerts get increasing ids, so
 * the alerts primary key and the jobs' dedupe keys grow at the right edge of their b-trees instead of
 * touching a random page per insert — several times fewer pages per group-commit transaction.
 */
export function timeOrderedId(now = Date.now()): string {
  if (now === lastMs) seqInMs = (seqInMs + 1) & 0xfff;
  else {
    lastMs = now;
    seqInMs = 0;
  }
  const hex = now.toString(16).padStart(12, '0') + '7' + seqInMs.toString(16).padStart(3, '0') + randomHex8();
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

/** For a body that carried several alerts (Alertmanager, Grafana), each alert keeps its own element, not the whole body. */
function elementOf(body: unknown, index: number, count: number): unknown {
  const list = (body as { alerts?: unknown } | null)?.alerts;
  return Array.isArray(list) && list.length === count ? list[index] : undefined;
}
