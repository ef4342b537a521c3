/**
 * ServiceNow implementation of PartnerClient over the Table API, Event Management's jsonv2 endpoint and
 * the OAuth token endpoint. All HTTP goes through request.ts; all encoded queries through query.ts.
 */
import { decodeCursor as decodeCursorOf, encodeCursor, type CursorBase } from '../cursor.ts';
import { storedCorrelationKey } from '../correlation.ts';
import {
  PartnerError,
  type ChangedPage,
  type ChangedRecord,
  type ChoiceEntry,
  type CiRef,
  type PartnerClient,
  type PartnerConfiguration,
  type PartnerContext,
  type PartnerTemplate,
  type ResolveInput,
  type SyncScope,
  type TableFields,
  type TokenSet,
  type WorkItemInput,
  type WorkItemRef,
  type WorkItemType,
} from '../partner.ts';
import {
  SCOPE_TABLE,
  isAlertClosed,
  isEventSeverity,
  isIncidentClosed,
  isoToSnDate,
  rawValue,
  snDateToIso,
  syncFields,
  toServiceDeskRow,
  type SnRecord,
} from './mapping.ts';
import { and, assertField, assertSafeValue, encodeQuery, parseTemplateQuery, unsafeReason, type Condition } from './query.ts';
import { apiCall, settingsFrom, type ApiResponse, type AuthStrategy, type HttpMethod, type HttpSettings } from './request.ts';
import { BasicAuth, TokenManager } from './tokens.ts';

/** ServiceNow's `correlation_id` is a String(100); em `message_key` allows 1024. */
const CORRELATION_ID_MAX = 100;
const MESSAGE_KEY_MAX = 1024;
export const CORRELATION_DISPLAY = 'OpenITSMC';
export const EVENT_SOURCE = 'OpenITSMC';
const SYS_ID = /^[0-9a-f]{32}$/;
const DEFAULT_PAGE = 200;
const MAX_PAGE = 2000;
const CONFIG_PAGE = 500;
/** Newest first; number breaks ties within one second (sys_created_on has second resolution). */
const NEWEST_FIRST = [
  { field: 'sys_created_on', desc: true },
  { field: 'number', desc: true },
];
const CONFIG_TABLES = ['incident', 'change_request'] as const;
/** Work item tables whose fields WorkItemData may set (checked on save); the first two extend task. */
const FIELD_TABLES = ['incident', 'change_request', 'em_event', 'em_alert'];
const TASK_TABLES = ['incident', 'change_request'];
/** Event fields sent as top-level jsonv2 attributes when they appear in WorkItemInput.fields. */
const EVENT_FIELDS = ['node', 'type', 'resource', 'metric_name', 'event_class', 'time_of_event', 'ci_type', 'ci_identifier', 'resolution_state'] as const;

/**
 * The key stored in correlation_id / message_key: the correlation key itself when it fits and is safe to
 * query, otherwise `sha-<sha256 hex>` (deterministic, so lookups find what creates wrote).
 */
export function partnerKey(correlationKey: string, max: number): string {
  return storedCorrelationKey(correlationKey, max, (key) => unsafeReason(key) === undefined);
}

/** Event Management binds an event or alert to a CMDB CI by `node` (host name, max 100); `resource` is its component. */
function eventSubject(input: WorkItemInput): Record<string, string> {
  const out: Record<string, string> = {};
  const node = input.ciNames?.[0];
  if (node) out.node = node.slice(0, 100);
  const resource = input.resource ?? node;
  if (resource) out.resource = resource.slice(0, 100);
  return out;
}

function checkFieldNames(fields: Record<string, string>): void {
  for (const k of Object.keys(fields)) assertField(k);
}

function checkSysId(id: string, what: string): void {
  if (!SYS_ID.test(id)) throw new PartnerError('invalid', `${what} "${id}" is not a ServiceNow sys_id`);
}

function snNow(): string {
  return isoToSnDate(new Date().toISOString());
}

interface Cursor extends CursorBase {
  /** sys_updated_on of the last record returned (ServiceNow UTC literal). */
  u: string;
  /** sys_id of the last record returned. */
  i: string;
}

function decodeCursor(scope: SyncScope, text: string): Cursor {
  return decodeCursorOf<Cursor>(
    scope,
    text,
    (c) => !(typeof c.u !== 'string' || !/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/.test(c.u) || typeof c.i !== 'string' || !SYS_ID.test(c.i)),
  );
}

export interface ServiceNowClientOptions {
  /** Refresh this long before the access token expires (default 60 s). */
  refreshSkewMs?: number;
}

export class ServiceNowClient implements PartnerClient {
  readonly settings: HttpSettings;
  private readonly auth: AuthStrategy;
  private readonly tokens?: TokenManager;
  private readonly basic?: BasicAuth;

  constructor(ctx: PartnerContext, opts: ServiceNowClientOptions = {}) {
    this.settings = settingsFrom(ctx.credentials.serverUrl, ctx.timeoutMs, ctx.onResponse, ctx.addressGuard);
    const { clientId, clientSecret, username, password } = ctx.credentials;
    if (clientId || clientSecret) {
      this.tokens = new TokenManager({ settings: this.settings, credentials: ctx.credentials, vault: ctx.tokens, skewMs: opts.refreshSkewMs });
      this.auth = this.tokens;
    } else {
      if (!username || !password) {
        throw new PartnerError('invalid', 'ServiceNow needs either an OAuth client (id and secret) or a user name and password for Basic auth');
      }
      this.basic = new BasicAuth(this.settings, username, password);
      this.auth = this.basic;
    }
  }

  // ---------------------------------------------------------------- plumbing

  private call(method: HttpMethod, path: string, query?: Record<string, string | number | boolean | undefined>, json?: unknown): Promise<ApiResponse> {
    return apiCall(this.settings, this.auth, { method, path, query, json });
  }

  private async list(table: string, query: string, fields: readonly string[], limit: number, displayValue: 'false' | 'all' = 'false'): Promise<SnRecord[]> {
    const path = `/api/now/table/${table}`;
    let res: ApiResponse;
    try {
      res = await this.call('GET', path, {
        sysparm_query: query,
        sysparm_fields: fields.join(','),
        sysparm_limit: limit,
        sysparm_display_value: displayValue,
        sysparm_exclude_reference_link: true,
        sysparm_suppress_pagination_header: true,
        sysparm_no_count: true,
      });
    } catch (err) {
      // Old releases answer an empty list with 404 "No Record found".
      if (err instanceof PartnerError && err.kind === 'not-found' && /No Record found/i.test(err.message)) return [];
      throw err;
    }
    if (!Array.isArray(res.result)) throw new PartnerError('protocol', `ServiceNow GET ${path} did not return a list`);
    return res.result as SnRecord[];
  }

  private async getRecord(table: string, id: string, fields: readonly string[]): Promise<SnRecord> {
    checkSysId(id, `${table} id`);
    const res = await this.call('GET', `/api/now/table/${table}/${id}`, { sysparm_fields: fields.join(','), sysparm_exclude_reference_link: true });
    return this.single(res, 'GET', table);
  }

  private async insert(table: string, body: Record<string, string>, fields: readonly string[]): Promise<SnRecord> {
    const res = await this.call('POST', `/api/now/table/${table}`, { sysparm_fields: fields.join(','), sysparm_exclude_reference_link: true }, body);
    return this.single(res, 'POST', table);
  }

  private async patch(table: string, id: string, body: Record<string, string>, fields: readonly string[]): Promise<SnRecord> {
    checkSysId(id, `${table} id`);
    const res = await this.call('PATCH', `/api/now/table/${table}/${id}`, { sysparm_fields: fields.join(','), sysparm_exclude_reference_link: true }, body);
    return this.single(res, 'PATCH', table);
  }

  private single(res: ApiResponse, method: string, table: string): SnRecord {
    const r = res.result;
    if (!r || typeof r !== 'object' || Array.isArray(r)) throw new PartnerError('protocol', `ServiceNow ${method} ${table} did not return a record`);
    return r as SnRecord;
  }

  private recordUrl(table: string, id: string): string {
    return `${this.settings.serverUrl}/nav_to.do?uri=${encodeURIComponent(`${table}.do?sys_id=${id}`)}`;
  }

  private incidentRef(r: SnRecord): WorkItemRef {
    const id = rawValue(r.sys_id);
    const state = rawValue(r.state);
    return { type: 'Incident', id, number: rawValue(r.number), state, closed: isIncidentClosed(state), url: this.recordUrl('incident', id) };
  }

  private alertRef(type: 'Event' | 'Alert', r: SnRecord, messageKey: string): WorkItemRef {
    const id = rawValue(r.sys_id);
    const state = rawValue(r.state);
    return {
      type,
      // An Event is addressed by its message_key (jsonv2 returns no id); an Alert by the em_alert sys_id.
      id: type === 'Event' ? messageKey : id,
      number: rawValue(r.number) || messageKey,
      state,
      closed: isAlertClosed(state),
      url: id ? this.recordUrl('em_alert', id) : undefined,
    };
  }

  // ---------------------------------------------------------------- auth

  async authenticate(): Promise<TokenSet> {
    if (this.tokens) return this.tokens.authenticate();
    return this.basic!.verify();
  }

  // ---------------------------------------------------------------- work items

  async createWorkItem(input: WorkItemInput): Promise<WorkItemRef> {
    checkFieldNames(input.fields);
    for (const ci of input.ciIds) checkSysId(ci, 'CI id');
    switch (input.type) {
      case 'Incident':
        return this.createIncident(input);
      case 'Event':
        return this.sendEvent(input.correlationKey, input.eventSeverity ?? input.fields.severity ?? '3', input.title, input.description, {
          ...eventSubject(input),
          ...input.fields,
        });
      case 'Alert':
        return this.createAlert(input);
      default:
        throw new PartnerError('invalid', `ServiceNow does not support work item type ${String((input as { type: unknown }).type)}`);
    }
  }

  private async createIncident(input: WorkItemInput): Promise<WorkItemRef> {
    const template = input.templateName ? await this.templateFields('incident', input.templateName) : {};
    const body: Record<string, string> = {
      ...template,
      ...input.fields,
      short_description: input.title,
      description: input.description,
      correlation_id: partnerKey(input.correlationKey, CORRELATION_ID_MAX),
      correlation_display: CORRELATION_DISPLAY,
    };
    if (input.ciIds.length > 0) body.cmdb_ci = input.ciIds[0];
    const created = await this.insert('incident', body, ['sys_id', 'number', 'state']);
    const ref = this.incidentRef(created);
    if (input.ciIds.length > 1) await this.linkCisAfterCreate(ref, input.ciIds.slice(1));
    return ref;
  }

  /**
   * Links the extra CIs of a just-created incident. The incident exists at this point, so nothing here may
   * make createWorkItem throw: a throw would hide the created ref from the caller, and an error that does
   * not count as an attempt (429, expired sign-in) would let the caller create the incident a second time.
   * A link failure is reported where the people working the incident see it — a work note on the incident
   * naming the CIs that are not linked and why (best effort; the failed calls also reach onResponse).
   */
  private async linkCisAfterCreate(ref: WorkItemRef, ciIds: readonly string[]): Promise<void> {
    try {
      await this.linkCis(ref.id, ciIds);
    } catch (err) {
      const why = err instanceof Error ? err.message : String(err);
      const note = `${CORRELATION_DISPLAY} could not link ${ciIds.length === 1 ? 'this configuration item' : 'these configuration items'} to the incident (affected CIs): ${ciIds.join(', ')}. Reason: ${why}`;
      await this.patch('incident', ref.id, { work_notes: note }, ['sys_id']).catch(() => undefined);
    }
  }

  /** Fields a sys_template sets (its encoded `template` string), for a table. */
  private async templateFields(table: string, name: string): Promise<Record<string, string>> {
    assertSafeValue(name, 'template name');
    const rows = await this.list(
      'sys_template',
      and([
        { field: 'name', op: '=', value: name },
        { field: 'table', op: '=', value: table },
        { field: 'active', op: '=', value: 'true' },
      ]),
      ['sys_id', 'name', 'table', 'template'],
      1,
    );
    if (rows.length === 0) throw new PartnerError('invalid', `ServiceNow template "${name}" for ${table} does not exist or is inactive`);
    const fields = parseTemplateQuery(rawValue(rows[0].template));
    checkFieldNames(fields);
    return fields;
  }

  /** Affected CIs beyond the first (which goes in cmdb_ci) are task_ci rows. */
  private async linkCis(taskId: string, ciIds: readonly string[]): Promise<void> {
    if (ciIds.length === 0) return;
    const existing = await this.list(
      'task_ci',
      and([
        { field: 'task', op: '=', value: taskId },
        { field: 'ci_item', op: 'IN', value: ciIds },
      ]),
      ['ci_item'],
      ciIds.length + 10,
    );
    const have = new Set(existing.map((r) => rawValue(r.ci_item)));
    for (const ci of new Set(ciIds)) {
      if (!have.has(ci)) await this.insert('task_ci', { task: taskId, ci_item: ci }, ['sys_id']);
    }
  }

  private async sendEvent(correlationKey: string, severity: string, title: string, description: string, fields: Record<string, string>): Promise<WorkItemRef> {
    if (!isEventSeverity(severity)) throw new PartnerError('invalid', `event severity must be 0 (clear) … 5 (info), got "${severity}"`);
    const messageKey = partnerKey(correlationKey, MESSAGE_KEY_MAX);
    const event: Record<string, string> = {
      source: EVENT_SOURCE,
      event_class: EVENT_SOURCE,
      message_key: messageKey,
      severity,
      description,
      time_of_event: snNow(),
    };
    const extra: Record<string, string> = {};
    for (const [k, v] of Object.entries(fields)) {
      if ((EVENT_FIELDS as readonly string[]).includes(k)) event[k] = v;
      else if (k !== 'severity' && k !== 'additional_info' && k !== 'source' && k !== 'message_key' && k !== 'description') extra[k] = v;
    }
    let info: Record<string, unknown> = {};
    if (fields.additional_info) {
      try {
        const parsed = JSON.parse(fields.additional_info) as unknown;
        info =
          parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : { additional_info: fields.additional_info };
      } catch {
        info = { additional_info: fields.additional_info };
      }
    }
    event.additional_info = JSON.stringify({ ...(title ? { title } : {}), correlation_key: correlationKey, ...extra, ...info });
    const res = await this.call('POST', '/api/global/em/jsonv2', undefined, { records: [event] });
    const result = res.result as Record<string, unknown> | null;
    const summary = result && typeof result === 'object' ? Object.values(result).map(String).join('; ') : '';
    const m = /(\d+)\s+events?\s+(?:were|was)\s+inserted/i.exec(summary);
    if (m && Number(m[1]) === 0) throw new PartnerError('invalid', `ServiceNow accepted no event: ${summary}`);
    const closed = severity === '0';
    return { type: 'Event', id: messageKey, number: messageKey, state: closed ? 'Closed' : 'Open', closed };
  }

  private async createAlert(input: WorkItemInput): Promise<WorkItemRef> {
    const severity = input.eventSeverity ?? input.fields.severity ?? '3';
    if (!isEventSeverity(severity) || severity === '0') throw new PartnerError('invalid', `alert severity must be 1 (critical) … 5 (info), got "${severity}"`);
    const messageKey = partnerKey(input.correlationKey, MESSAGE_KEY_MAX);
    const template = input.templateName ? await this.templateFields('em_alert', input.templateName) : {};
    const body: Record<string, string> = {
      ...template,
      ...input.fields,
      source: EVENT_SOURCE,
      message_key: messageKey,
      severity,
      description: input.description,
      state: 'Open',
    };
    for (const [k, v] of Object.entries(eventSubject(input))) if (!body[k]) body[k] = v;
    if (!body.additional_info) body.additional_info = JSON.stringify({ title: input.title, correlation_key: input.correlationKey });
    if (input.ciIds.length > 0) body.cmdb_ci = input.ciIds[0];
    const created = await this.insert('em_alert', body, ['sys_id', 'number', 'state']);
    return this.alertRef('Alert', created, messageKey);
  }

  private async latestAlert(messageKey: string): Promise<SnRecord | undefined> {
    const rows = await this.list(
      'em_alert',
      and([{ field: 'message_key', op: '=', value: messageKey }], NEWEST_FIRST),
      ['sys_id', 'number', 'state', 'severity', 'node', 'type', 'resource', 'metric_name', 'message_key'],
      5,
    );
    return rows.find((r) => rawValue(r.message_key) === messageKey);
  }

  async updateWorkItem(ref: WorkItemRef, note: string, fields: Record<string, string> = {}, ciIds: string[] = []): Promise<WorkItemRef> {
    checkFieldNames(fields);
    for (const ci of ciIds) checkSysId(ci, 'CI id');
    if (ref.type === 'Incident') {
      // Read first: a note must not land on an incident a human resolved or closed meanwhile.
      const current = await this.getRecord('incident', ref.id, ['sys_id', 'number', 'state', 'cmdb_ci', 'resolved_at', 'closed_at']);
      const known = this.incidentRef(current);
      if (known.closed) return { ...known, closedAt: snDateToIso(rawValue(current.resolved_at)) ?? snDateToIso(rawValue(current.closed_at)) ?? undefined };
      const body: Record<string, string> = { ...fields };
      if (note) body.work_notes = note;
      let extraCis = ciIds;
      if (ciIds.length > 0) {
        const currentCi = rawValue(current.cmdb_ci);
        if (currentCi === '') {
          body.cmdb_ci = ciIds[0];
          extraCis = ciIds.slice(1);
        } else extraCis = ciIds.filter((c) => c !== currentCi);
      }
      const updated = await this.patch('incident', ref.id, body, ['sys_id', 'number', 'state']);
      await this.linkCis(ref.id, extraCis);
      return this.incidentRef(updated);
    }
    if (ref.type === 'Alert') {
      const record = await this.getRecord('em_alert', ref.id, ['sys_id', 'number', 'state', 'message_key']);
      const current = this.alertRef('Alert', record, rawValue(record.message_key));
      if (current.closed) return current;
      const body: Record<string, string> = { ...fields };
      if (note) body.work_notes = note;
      const updated = await this.patch('em_alert', ref.id, body, ['sys_id', 'number', 'state', 'message_key']);
      return this.alertRef('Alert', updated, rawValue(updated.message_key));
    }
    // Event: a note goes on the alert the events produced; new field values are a re-sent event.
    const alert = await this.latestAlert(ref.id);
    if (Object.keys(fields).length > 0 || !alert) {
      const severity = fields.severity ?? (alert && /^[1-5]$/.test(rawValue(alert.severity)) ? rawValue(alert.severity) : '3');
      return this.sendEvent(ref.id, severity, '', note, fields);
    }
    const updated = await this.patch('em_alert', rawValue(alert.sys_id), { work_notes: note }, ['sys_id', 'number', 'state']);
    return this.alertRef('Event', updated, ref.id);
  }

  async resolveWorkItem(ref: WorkItemRef, how: ResolveInput, note: string): Promise<WorkItemRef> {
    if (ref.type === 'Incident') {
      const target = how.state ?? '6';
      const current = await this.getRecord('incident', ref.id, ['sys_id', 'number', 'state']);
      const state = rawValue(current.state);
      const body: Record<string, string> = {};
      if (note) body.work_notes = note;
      if (state !== target && state !== '7' && state !== '8') {
        body.state = target;
        body.close_code = how.closeCode ?? 'Solution provided';
        body.close_notes = how.closeNotes ?? (note || 'Resolved by OpenITSMC: the alert resolved');
      }
      if (Object.keys(body).length === 0) return this.incidentRef(current);
      return this.incidentRef(await this.patch('incident', ref.id, body, ['sys_id', 'number', 'state']));
    }
    if (ref.type === 'Alert') {
      const body: Record<string, string> = { state: how.state ?? 'Closed' };
      if (note) body.work_notes = note;
      const updated = await this.patch('em_alert', ref.id, body, ['sys_id', 'number', 'state', 'message_key']);
      return this.alertRef('Alert', updated, rawValue(updated.message_key));
    }
    // Event: severity 0 (Clear) closes the alert with that message_key.
    return this.sendEvent(ref.id, '0', '', how.closeNotes ?? note, {});
  }

  async reopenWorkItem(ref: WorkItemRef, note: string): Promise<WorkItemRef> {
    if (ref.type === 'Incident') {
      const body: Record<string, string> = { state: '2' };
      if (note) body.work_notes = note;
      return this.incidentRef(await this.patch('incident', ref.id, body, ['sys_id', 'number', 'state']));
    }
    if (ref.type === 'Alert') {
      const body: Record<string, string> = { state: 'Reopen' };
      if (note) body.work_notes = note;
      const updated = await this.patch('em_alert', ref.id, body, ['sys_id', 'number', 'state', 'message_key']);
      return this.alertRef('Alert', updated, rawValue(updated.message_key));
    }
    // Event: re-send with the alert's last non-clear severity (Minor when unknown).
    const alert = await this.latestAlert(ref.id);
    const sev = alert ? rawValue(alert.severity) : '';
    const fields: Record<string, string> = {};
    for (const k of ['node', 'type', 'resource', 'metric_name'] as const) if (alert && rawValue(alert[k])) fields[k] = rawValue(alert[k]);
    return this.sendEvent(ref.id, /^[1-5]$/.test(sev) ? sev : '3', '', note, fields);
  }

  async findByCorrelationKey(type: WorkItemType, correlationKey: string): Promise<WorkItemRef | null> {
    if (type === 'Incident') {
      const key = partnerKey(correlationKey, CORRELATION_ID_MAX);
      const rows = await this.list(
        'incident',
        and([{ field: 'correlation_id', op: '=', value: key }], NEWEST_FIRST),
        ['sys_id', 'number', 'state', 'correlation_id'],
        5,
      );
      // `=` may be case-insensitive on the instance; only an exact match is the same work item.
      const hit = rows.find((r) => rawValue(r.correlation_id) === key);
      return hit ? this.incidentRef(hit) : null;
    }
    const key = partnerKey(correlationKey, MESSAGE_KEY_MAX);
    const alert = await this.latestAlert(key);
    if (alert) return this.alertRef(type, alert, key);
    if (type === 'Event') {
      // Events are processed asynchronously: an event row without an alert yet still means "sent".
      const events = await this.list('em_event', and([{ field: 'message_key', op: '=', value: key }], NEWEST_FIRST), ['sys_id', 'severity'], 1);
      if (events.length > 0) {
        const closed = rawValue(events[0].severity) === '0';
        return { type: 'Event', id: key, number: key, state: closed ? 'Closed' : 'Open', closed };
      }
    }
    return null;
  }

  // ---------------------------------------------------------------- CMDB

  async findOrCreateCi(name: string, allowCreate: boolean): Promise<CiRef | null> {
    const wanted = name.trim();
    if (wanted === '') throw new PartnerError('invalid', 'a configuration item name is empty');
    assertSafeValue(wanted, 'configuration item name');
    const fields = ['sys_id', 'name', 'sys_class_name'];
    const order = [{ field: 'sys_created_on' }, { field: 'sys_id' }];
    const pick = (rows: SnRecord[]): SnRecord | undefined =>
      rows.find((r) => rawValue(r.name) === wanted) ?? rows.find((r) => rawValue(r.name).toLowerCase() === wanted.toLowerCase());
    // `=` is case-insensitive on most instances; LIKE (always case-insensitive) catches the rest.
    let hit = pick(await this.list('cmdb_ci', and([{ field: 'name', op: '=', value: wanted }], order), fields, 20));
    if (!hit) hit = pick(await this.list('cmdb_ci', and([{ field: 'name', op: 'LIKE', value: wanted }], order), fields, 100));
    if (hit) return { id: rawValue(hit.sys_id), name: rawValue(hit.name), className: rawValue(hit.sys_class_name) || undefined, created: false };
    if (!allowCreate) return null;
    const created = await this.insert('cmdb_ci_computer', { name: wanted }, fields);
    return {
      id: rawValue(created.sys_id),
      name: rawValue(created.name) || wanted,
      className: rawValue(created.sys_class_name) || 'cmdb_ci_computer',
      created: true,
    };
  }

  // ---------------------------------------------------------------- configuration

  /** All rows of a query, paged by sys_id keyset (stable under concurrent inserts). */
  private async listAll(table: string, conditions: readonly Condition[], fields: readonly string[]): Promise<SnRecord[]> {
    const out: SnRecord[] = [];
    let after: string | undefined;
    for (;;) {
      const conds = after ? [...conditions, { field: 'sys_id', op: '>' as const, value: after }] : conditions;
      const page = await this.list(table, and(conds, [{ field: 'sys_id' }]), fields, CONFIG_PAGE);
      out.push(...page);
      if (page.length < CONFIG_PAGE) return out;
      const last = rawValue(page[page.length - 1].sys_id);
      if (!SYS_ID.test(last) || last === after) return out;
      after = last;
    }
  }

  async readConfiguration(): Promise<PartnerConfiguration> {
    const templateRows = await this.listAll(
      'sys_template',
      [
        { field: 'table', op: 'IN', value: CONFIG_TABLES },
        { field: 'active', op: '=', value: 'true' },
      ],
      ['sys_id', 'name', 'table', 'template'],
    );
    const templates: PartnerTemplate[] = templateRows
      .map((r) => ({ name: rawValue(r.name), table: rawValue(r.table), fields: parseTemplateQuery(rawValue(r.template)) }))
      .sort((a, b) => a.table.localeCompare(b.table) || a.name.localeCompare(b.name));

    const choiceRows = await this.listAll(
      'sys_choice',
      [{ field: 'name', op: 'IN', value: CONFIG_TABLES }],
      ['sys_id', 'name', 'element', 'value', 'label', 'language', 'inactive', 'sequence'],
    );
    const best = new Map<string, { entry: ChoiceEntry; lang: string; seq: number }>();
    for (const r of choiceRows) {
      if (rawValue(r.inactive) === 'true') continue;
      const lang = rawValue(r.language);
      const entry: ChoiceEntry = { table: rawValue(r.name), field: rawValue(r.element), value: rawValue(r.value), label: rawValue(r.label) };
      const key = `${entry.table}\u0000${entry.field}\u0000${entry.value}`;
      const prev = best.get(key);
      const rank = (l: string) => (l === 'en' ? 2 : l === '' ? 1 : 0);
      if (!prev || rank(lang) > rank(prev.lang)) best.set(key, { entry, lang, seq: Number(rawValue(r.sequence)) || 0 });
    }
    const choices = [...best.values()]
      .sort(
        (a, b) =>
          a.entry.table.localeCompare(b.entry.table) ||
          a.entry.field.localeCompare(b.entry.field) ||
          a.seq - b.seq ||
          a.entry.value.localeCompare(b.entry.value),
      )
      .map((c) => c.entry);
    const fields = await this.tableFields().catch(() => undefined);
    return { templates, choices, ...(fields ? { fields } : {}) };
  }

  /** Column names of the work item tables from sys_dictionary; incident and change_request inherit task's. */
  private async tableFields(): Promise<TableFields[]> {
    const rows = await this.listAll('sys_dictionary', [{ field: 'name', op: 'IN', value: [...FIELD_TABLES, 'task'] }], ['sys_id', 'name', 'element']);
    const byTable = new Map<string, Set<string>>();
    for (const r of rows) {
      const element = rawValue(r.element);
      if (!element) continue; // the row that describes the table itself
      const table = rawValue(r.name);
      if (!byTable.has(table)) byTable.set(table, new Set());
      byTable.get(table)!.add(element);
    }
    const task = byTable.get('task') ?? new Set<string>();
    return FIELD_TABLES.filter((t) => byTable.has(t)).map((table) => ({
      table,
      fields: [...new Set([...byTable.get(table)!, ...(TASK_TABLES.includes(table) ? task : [])])].sort(),
    }));
  }

  // ---------------------------------------------------------------- sync

  /**
   * Records changed at or after `since`, ordered by (sys_updated_on, sys_id). The cursor is the last
   * (sys_updated_on, sys_id) pair returned, so the next page is
   * `sys_updated_on>U ^NQ sys_updated_on=U^sys_id>I`: a record that changes between pages moves behind the
   * cursor and is returned again (newer version), never skipped, and paging always terminates.
   */
  async listChangedSince(scope: SyncScope, since: string, cursor?: string, pageSize = DEFAULT_PAGE): Promise<ChangedPage> {
    const table = SCOPE_TABLE[scope];
    if (!table) throw new PartnerError('invalid', `ServiceNow cannot sync scope ${String(scope)}`);
    const limit = Math.max(1, Math.min(MAX_PAGE, Math.floor(pageSize)));
    let query: string;
    const order = [{ field: 'sys_updated_on' }, { field: 'sys_id' }];
    if (cursor) {
      const c = decodeCursor(scope, cursor);
      query = encodeQuery({
        groups: [
          [{ field: 'sys_updated_on', op: '>', value: c.u }],
          [
            { field: 'sys_updated_on', op: '=', value: c.u },
            { field: 'sys_id', op: '>', value: c.i },
          ],
        ],
        orderBy: order,
      });
    } else {
      let from: string;
      try {
        from = isoToSnDate(since);
      } catch {
        throw new PartnerError('invalid', `"since" must be an ISO 8601 time, got "${since}"`);
      }
      query = and([{ field: 'sys_updated_on', op: '>=', value: from }], order);
    }
    const rows = await this.list(table, query, syncFields(scope), limit, 'all');
    const records: ChangedRecord[] = [];
    for (const r of rows) {
      const id = rawValue(r.sys_id);
      const updated = rawValue(r.sys_updated_on);
      const updatedAt = snDateToIso(updated);
      if (!SYS_ID.test(id) || !updatedAt) throw new PartnerError('protocol', `ServiceNow ${table} record without a valid sys_id/sys_updated_on`);
      records.push({ scope, id, updatedAt, row: toServiceDeskRow(scope, r) });
    }
    if (rows.length < limit) return { records };
    const last = rows[rows.length - 1];
    return { records, next: encodeCursor({ v: 1, scope, u: isoToSnDate(snDateToIso(rawValue(last.sys_updated_on))!), i: rawValue(last.sys_id) }) };
  }
}
