/**
 * Event Management inbound path (partner-apis.md §1.8): `POST /api/global/em/jsonv2` stores em_event
 * rows and processes them into em_alert, de-duplicated by message_key (default
 * source+node+type+resource+metric_name); severity 0 (Clear) or resolution_state Closing closes the
 * open alert. Processing runs before the response by default (rules.eventProcessingDelayMs = 0).
 */
import type { Rec, SnStore, UserCtx, WriteCtx } from './store.ts';
import { snDateTime } from './time.ts';
import { parseSnDateTime } from './time.ts';

export const ADMIN_SYS_ID = '6816f79cc0a8016401c5a33be04be441';

export const SYSTEM_USER: UserCtx = { sysId: ADMIN_SYS_ID, userName: 'system', name: 'System', roles: new Set(['admin']) };

const EVENT_FIELDS = [
  'source',
  'event_class',
  'node',
  'type',
  'resource',
  'metric_name',
  'message_key',
  'severity',
  'description',
  'additional_info',
  'ci_type',
  'ci_identifier',
  'time_of_event',
  'resolution_state',
];

function str(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

/** Inserts one event row (as the calling user); returns its sys_id. */
export function insertEvent(store: SnStore, record: Rec, ctx: WriteCtx): string {
  const body: Rec = {};
  for (const k of EVENT_FIELDS) if (record[k] !== undefined && record[k] !== null) body[k] = str(record[k]);
  if (!body.message_key) {
    const key = ['source', 'node', 'type', 'resource', 'metric_name'].map((k) => str(record[k])).join('');
    if (key) body.message_key = key;
  }
  body.state = 'Ready';
  return store.insert(store.table('em_event')!, body, { ...ctx, inputDisplay: false });
}

/** Turns a Ready event into an alert insert/update/close. */
export function processEvent(store: SnStore, eventId: string, nowMs: number): void {
  const evMeta = store.table('em_event')!;
  const alMeta = store.table('em_alert')!;
  const ev = store.get(evMeta, eventId);
  if (!ev || ev.state !== 'Ready') return;
  const ctx: WriteCtx = { user: SYSTEM_USER, nowMs, inputDisplay: false };
  const now = snDateTime(nowMs);
  if (!ev.source) {
    store.update(evMeta, eventId, { state: 'Error', processing_notes: 'Missing mandatory field: source', processed: now }, ctx);
    return;
  }
  const key = String(ev.message_key ?? '');
  const severity = ev.severity === null || ev.severity === undefined ? '' : String(ev.severity);
  const closing = severity === '0' || String(ev.resolution_state ?? '') === 'Closing';
  const eventTime = (typeof ev.time_of_event === 'string' && parseSnDateTime(ev.time_of_event)) || now;
  const open = store.stmt(`SELECT * FROM em_alert WHERE "message_key" = ? AND "state" != 'Closed' ORDER BY rowid DESC LIMIT 1`).get(key) as Rec | undefined;
  let alertId: string | undefined;
  let notes: string;
  if (closing) {
    if (open) {
      alertId = String(open.sys_id);
      store.update(
        alMeta,
        alertId,
        { state: 'Closed', severity: '0', last_remote_time: eventTime, last_event_time: now, event_count: String(Number(open.event_count ?? 0) + 1) },
        ctx,
      );
      notes = `Closed alert ${String(open.number)}`;
    } else notes = 'No open alert for this message key; nothing to close';
  } else {
    const updates: Rec = {
      severity,
      last_remote_time: eventTime,
      last_event_time: now,
    };
    for (const k of ['description', 'additional_info', 'node', 'resource', 'type', 'metric_name', 'event_class']) {
      if (ev[k] !== null && ev[k] !== undefined && ev[k] !== '') updates[k] = ev[k];
    }
    let target = open;
    if (!target && store.rules.alertReopenWindowSec > 0) {
      const closed = store.stmt(`SELECT * FROM em_alert WHERE "message_key" = ? AND "state" = 'Closed' ORDER BY rowid DESC LIMIT 1`).get(key) as
        Rec | undefined;
      if (closed && Date.parse(String(closed.sys_updated_on).replace(' ', 'T') + 'Z') >= nowMs - store.rules.alertReopenWindowSec * 1000) {
        target = closed;
        updates.state = 'Reopen';
      }
    }
    if (target) {
      alertId = String(target.sys_id);
      updates.event_count = String(Number(target.event_count ?? 0) + 1);
      store.update(alMeta, alertId, updates, ctx);
      notes = `${updates.state === 'Reopen' ? 'Reopened' : 'Updated'} alert ${String(target.number)}`;
    } else {
      const node = String(ev.node ?? '');
      const ci = node
        ? (store
            .stmt(`SELECT "sys_id" FROM cmdb_ci WHERE "name" = @node OR "fqdn" = @node OR "host_name" = @node OR "ip_address" = @node LIMIT 1`)
            .pluck()
            .get({ node }) as string | undefined)
        : undefined;
      alertId = store.insert(
        alMeta,
        {
          source: ev.source,
          event_class: ev.event_class,
          node: ev.node,
          type: ev.type,
          resource: ev.resource,
          metric_name: ev.metric_name,
          message_key: key,
          severity,
          description: ev.description,
          additional_info: ev.additional_info,
          state: 'Open',
          cmdb_ci: ci ?? null,
          initial_remote_time: eventTime,
          last_remote_time: eventTime,
          last_event_time: now,
          event_count: '1',
        },
        ctx,
      );
      notes = 'Created alert';
    }
  }
  store.update(evMeta, eventId, { state: 'Processed', alert: alertId ?? null, processing_notes: notes, processed: now }, ctx);
}
