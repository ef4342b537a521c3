/**
 * Cherwell implementation of PartnerClient over the CSM REST API (`/CherwellAPI/api/V1/*`). All HTTP goes
 * through transport.ts, logins through session.ts, field ids through metadata.ts; every 2xx is checked for
 * `hasError`. Correlation: the alert's key is written to the Incident field `CorrelationKey` (a text field
 * the integration adds to the Incident business object) and looked up with an `eq` search.
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
  type ResolveInput,
  type SyncScope,
  type TokenSet,
  type WorkItemInput,
  type WorkItemRef,
  type WorkItemType,
} from '../partner.ts';
import { formatUsLocal, isTimeZone, parseUsLocal, parseUsLocalAfter } from './dates.ts';
import {
  BUSINESS_OBJECT,
  isIncidentClosed,
  PUBLIC_ID_FIELD,
  REOPENED_STATUS,
  RESOLVED_STATUS,
  syncFieldNames,
  toServiceDeskRow,
  WRITE_FIELDS,
} from './mapping.ts';
import { fieldId, MetadataCache, type BusObMeta } from './metadata.ts';
import { authorizedCall, looksLikeHtml, parseJson, parseSuccess, send, type HttpMethod, type HttpSettings } from '../http.ts';
import { OAuth2Tokens } from '../oauth2.ts';
import { explainLoginRefusal, hasErrorFailure, maintenanceError, settingsFrom } from './transport.ts';

const CORRELATION_MAX = 200;
const CI_OBJECT = 'ConfigurationItem';
const JOURNAL_OBJECT = 'JournalNote';
const DEFAULT_PAGE = 200;
const MAX_PAGE = 1000;
const REC_ID = /^[0-9a-f]{32}$/i;

/** A field as Cherwell returns it (FieldTemplateItem). */
interface FieldItem {
  name?: unknown;
  value?: unknown;
}
interface BusinessObject {
  busObRecId?: unknown;
  busObPublicId?: unknown;
  fields?: FieldItem[];
}

/** The stored key: the correlation key itself when it fits, otherwise `sha-<sha256 hex>` (deterministic). */
export function cherwellKey(correlationKey: string): string {
  return storedCorrelationKey(correlationKey, CORRELATION_MAX);
}

function fieldsOf(bo: BusinessObject): Record<string, string> {
  const out: Record<string, string> = {};
  for (const f of bo.fields ?? []) if (typeof f.name === 'string') out[f.name] = f.value === null || f.value === undefined ? '' : String(f.value);
  return out;
}

function withState(ref: WorkItemRef, state: string): WorkItemRef {
  return { ...ref, state, closed: isIncidentClosed(state) };
}

/** A value of `values` by field name, ignoring case. */
function fieldValue(values: Record<string, string>, name: string): string | undefined {
  const key = Object.keys(values).find((k) => k.toLowerCase() === name.toLowerCase());
  return key === undefined ? undefined : values[key];
}

function incidentOnly(type: WorkItemType): void {
  if (type !== 'Incident') throw new PartnerError('invalid', `Cherwell connections create Incidents only, not ${type}`);
}

interface Cursor extends CursorBase {
  /** Filter value (server-local text): records modified after it. */
  from: string;
  page: number;
  /** Instant of the last record returned, and the ids returned at that instant. */
  ms: number;
  ids: string[];
  /** Instant of the last record on the previous page (orders the repeated DST hour on page > 1). */
  prev: number;
}

function decodeCursor(scope: SyncScope, text: string): Cursor {
  return decodeCursorOf<Cursor>(
    scope,
    text,
    (c) => !(typeof c.from !== 'string' || !Number.isInteger(c.page) || typeof c.ms !== 'number' || typeof c.prev !== 'number' || !Array.isArray(c.ids)),
  );
}

export interface CherwellClientOptions {
  /** Refresh this long before the access token expires (default 60 s). */
  refreshSkewMs?: number;
  /** IANA zone of the server when it does not say (serviceinfo); default America/New_York. */
  serverTimeZone?: string;
}

export class CherwellClient implements PartnerClient {
  readonly settings: HttpSettings;
  readonly tokens: OAuth2Tokens;
  private readonly meta: MetadataCache;
  private zone: Promise<string> | undefined;
  private readonly ciNames = new Map<string, string>();

  constructor(
    ctx: PartnerContext,
    private readonly opts: CherwellClientOptions = {},
  ) {
    this.settings = settingsFrom(ctx.credentials.serverUrl, ctx);
    const clientId = ctx.credentials.clientId?.trim() ?? '';
    // One login per connection: a password grant takes a CSM licence, so it is refreshed, never repeated.
    this.tokens = new OAuth2Tokens({
      settings: this.settings,
      tokenPath: `/token?auth_mode=Internal&api_key=${encodeURIComponent(clientId)}`,
      credentials: ctx.credentials,
      vault: ctx.tokens,
      grant: 'password',
      clientSecretRequired: false,
      skewMs: opts.refreshSkewMs,
      clientRegistration: 'the REST API client (CSM Administrator → Security → Edit REST API client settings)',
      explainRefusal: explainLoginRefusal,
    });
    this.meta = new MetadataCache(`${this.settings.serverUrl}\u0000${ctx.credentials.clientId ?? ''}`, {
      summary: async (name) => {
        const list = await this.call('GET', `/api/V1/getbusinessobjectsummary/busobname/${encodeURIComponent(name)}`);
        const s = Array.isArray(list) ? (list[0] as Record<string, unknown> | undefined) : undefined;
        if (!s || typeof s.busObId !== 'string') {
          throw new PartnerError('invalid', `this Cherwell server has no business object named ${name}`);
        }
        return { busObId: s.busObId, stateFieldId: String(s.stateFieldId ?? ''), states: String(s.states ?? '') };
      },
      template: async (busObId) => {
        const t = (await this.call('POST', '/api/V1/getbusinessobjecttemplate', {
          busObId,
          includeAll: true,
          includeRequired: true,
          fieldNames: [],
          fieldIds: [],
        })) as {
          fields?: { name?: unknown; fieldId?: unknown }[];
        };
        return (t.fields ?? []).filter((f) => typeof f.name === 'string' && typeof f.fieldId === 'string') as { name: string; fieldId: string }[];
      },
    });
  }

  // ---------------------------------------------------------------- plumbing

  /** One authenticated JSON call (one token renewal on a 401); `hasError` is checked on every 2xx. */
  private async call(method: HttpMethod, path: string, json?: unknown): Promise<unknown> {
    const res = await authorizedCall(this.settings, this.tokens, { method, path, json });
    const down = maintenanceError(res);
    if (down) throw down;
    const body = parseSuccess(this.settings, method, path, res);
    if (body && typeof body === 'object' && !Array.isArray(body)) {
      const failure = hasErrorFailure(method, path, res.status, body as Record<string, unknown>);
      if (failure) throw failure;
    }
    return body;
  }

  private timeZone(): Promise<string> {
    this.zone ??= (async () => {
      const res = await send(this.settings, { method: 'GET', path: '/api/V1/serviceinfo' }).catch(() => undefined);
      const body = res && res.status === 200 && !looksLikeHtml(res) ? (parseJson(res.text) as { timeZone?: { Id?: unknown } } | undefined) : undefined;
      const id = typeof body?.timeZone?.Id === 'string' ? body.timeZone.Id : undefined;
      const zone = id && isTimeZone(id) ? id : (this.opts.serverTimeZone ?? 'America/New_York');
      return zone;
    })();
    return this.zone;
  }

  private async save(meta: BusObMeta, values: Record<string, string>, ids: { recId?: string } = {}): Promise<{ recId: string; publicId: string }> {
    const fields = Object.entries(values).map(([name, value]) => ({ dirty: true, fieldId: fieldId(meta, name), name, value: levelValue(name, value) }));
    const body = (await this.call('POST', '/api/V1/savebusinessobject', { busObId: meta.busObId, busObRecId: ids.recId, fields, persist: true })) as {
      busObRecId?: unknown;
      busObPublicId?: unknown;
    };
    const recId = typeof body.busObRecId === 'string' ? body.busObRecId : ids.recId;
    if (!recId) throw new PartnerError('protocol', `Cherwell saved a ${meta.name} without returning its record id`);
    return { recId, publicId: typeof body.busObPublicId === 'string' ? body.busObPublicId : '' };
  }

  private async search(
    meta: BusObMeta,
    filters: { field: string; operator: string; value: string }[],
    opts: { pageSize: number; pageNumber?: number; sortBy?: string[]; fields?: string[] },
  ) {
    const body = (await this.call('POST', '/api/V1/getsearchresults', {
      busObId: meta.busObId,
      filters: filters.map((f) => ({ fieldId: fieldId(meta, f.field), operator: f.operator, value: f.value })),
      fields: (opts.fields ?? []).map((n) => fieldId(meta, n)),
      includeAllFields: !opts.fields,
      pageNumber: opts.pageNumber ?? 1,
      pageSize: opts.pageSize,
      sorting: (opts.sortBy ?? []).map((n) => ({ fieldId: fieldId(meta, n), sortDirection: 1 })),
    })) as { businessObjects?: BusinessObject[]; totalRows?: unknown };
    if (!Array.isArray(body.businessObjects)) throw new PartnerError('protocol', 'Cherwell search answer has no businessObjects array');
    return { rows: body.businessObjects, totalRows: Number(body.totalRows ?? body.businessObjects.length) };
  }

  private refOf(recId: string, fields: Record<string, string>): WorkItemRef {
    const state = fields[WRITE_FIELDS.status] ?? '';
    return { type: 'Incident', id: recId, number: fields[PUBLIC_ID_FIELD.Incident] ?? '', state, closed: isIncidentClosed(state) };
  }

  private async addNote(incidentRecId: string, note: string): Promise<void> {
    if (note.trim() === '') return;
    const [journal, incident] = await Promise.all([this.meta.get(JOURNAL_OBJECT), this.meta.get(BUSINESS_OBJECT.Incident)]);
    await this.save(journal, { ParentRecID: incidentRecId, ParentTypeID: incident.busObId, Details: note });
  }

  private async ciFields(ciIds: string[] | undefined): Promise<Record<string, string>> {
    const id = ciIds?.[0];
    if (!id) return {};
    let name = this.ciNames.get(id);
    if (name === undefined) {
      const meta = await this.meta.get(CI_OBJECT);
      name =
        fieldsOf((await this.call('GET', `/api/V1/getbusinessobject/busobid/${meta.busObId}/busobrecid/${encodeURIComponent(id)}`)) as BusinessObject)
          .FriendlyName ?? '';
      this.ciNames.set(id, name);
    }
    return { [WRITE_FIELDS.ciRecId]: id, [WRITE_FIELDS.ciName]: name };
  }

  // ---------------------------------------------------------------- PartnerClient

  async authenticate(): Promise<TokenSet> {
    return this.tokens.authenticate();
  }

  async createWorkItem(input: WorkItemInput): Promise<WorkItemRef> {
    incidentOnly(input.type);
    const meta = await this.meta.get(BUSINESS_OBJECT.Incident);
    const values: Record<string, string> = {
      ...input.fields,
      [WRITE_FIELDS.title]: input.title,
      [WRITE_FIELDS.description]: input.description,
      [WRITE_FIELDS.correlationKey]: cherwellKey(input.correlationKey),
      ...(await this.ciFields(input.ciIds)),
    };
    const saved = await this.save(meta, values);
    const state = values[WRITE_FIELDS.status] ?? meta.states.find((s) => s === 'New') ?? '';
    return { type: 'Incident', id: saved.recId, number: saved.publicId, state, closed: isIncidentClosed(state) };
  }

  // Each write is the field save first and the journal note last, and nothing after it: a retried
  // operation then repeats the idempotent save, and the note is written once unless its answer was lost.

  async updateWorkItem(ref: WorkItemRef, note: string, fields: Record<string, string> = {}, ciIds?: string[]): Promise<WorkItemRef> {
    incidentOnly(ref.type);
    const values = { ...fields, ...(await this.ciFields(ciIds)) };
    if (Object.keys(values).length) await this.save(await this.meta.get(BUSINESS_OBJECT.Incident), values, { recId: ref.id });
    await this.addNote(ref.id, note);
    return withState(ref, fieldValue(values, WRITE_FIELDS.status) ?? ref.state);
  }

  async resolveWorkItem(ref: WorkItemRef, how: ResolveInput, note: string): Promise<WorkItemRef> {
    incidentOnly(ref.type);
    const status = how.state ?? RESOLVED_STATUS;
    const values: Record<string, string> = { [WRITE_FIELDS.status]: status };
    const resolution = how.closeNotes ?? note;
    if (resolution) values[WRITE_FIELDS.resolution] = resolution;
    await this.save(await this.meta.get(BUSINESS_OBJECT.Incident), values, { recId: ref.id });
    await this.addNote(ref.id, note);
    return withState(ref, status);
  }

  async reopenWorkItem(ref: WorkItemRef, note: string): Promise<WorkItemRef> {
    incidentOnly(ref.type);
    await this.save(await this.meta.get(BUSINESS_OBJECT.Incident), { [WRITE_FIELDS.status]: REOPENED_STATUS }, { recId: ref.id });
    await this.addNote(ref.id, note);
    return withState(ref, REOPENED_STATUS);
  }

  async findByCorrelationKey(type: WorkItemType, correlationKey: string): Promise<WorkItemRef | null> {
    incidentOnly(type);
    const meta = await this.meta.get(BUSINESS_OBJECT.Incident);
    const { rows } = await this.search(meta, [{ field: WRITE_FIELDS.correlationKey, operator: 'eq', value: cherwellKey(correlationKey) }], {
      pageSize: 1,
      sortBy: ['CreatedDateTime'],
      fields: ['RecID', PUBLIC_ID_FIELD.Incident, WRITE_FIELDS.status],
    });
    const hit = rows[0];
    if (!hit || typeof hit.busObRecId !== 'string') return null;
    return this.refOf(hit.busObRecId, fieldsOf(hit));
  }

  async findOrCreateCi(name: string, allowCreate: boolean): Promise<CiRef | null> {
    const trimmed = name.trim();
    if (!trimmed) return null;
    const meta = await this.meta.get(CI_OBJECT);
    const { rows } = await this.search(meta, [{ field: 'FriendlyName', operator: 'eq', value: trimmed }], {
      pageSize: 1,
      fields: ['RecID', 'FriendlyName', 'ConfigurationItemTypeName'],
    });
    const hit = rows[0];
    if (hit && typeof hit.busObRecId === 'string') {
      const f = fieldsOf(hit);
      this.ciNames.set(hit.busObRecId, f.FriendlyName ?? trimmed);
      return { id: hit.busObRecId, name: f.FriendlyName ?? trimmed, className: f.ConfigurationItemTypeName || undefined, created: false };
    }
    if (!allowCreate) return null;
    const saved = await this.save(meta, { FriendlyName: trimmed, HostName: trimmed });
    this.ciNames.set(saved.recId, trimmed);
    return { id: saved.recId, name: trimmed, className: 'Config - Computer', created: true };
  }

  async readConfiguration(): Promise<PartnerConfiguration> {
    const choices: ChoiceEntry[] = [];
    for (const scope of ['Incident', 'ChangeRequest'] as const) {
      const meta = await this.meta.refresh(BUSINESS_OBJECT[scope]);
      for (const state of meta.states) choices.push({ table: meta.name, field: 'Status', value: state, label: state });
    }
    await Promise.all([this.meta.refresh(CI_OBJECT), this.meta.refresh(JOURNAL_OBJECT)]);
    return { templates: [], choices };
  }

  async listChangedSince(scope: SyncScope, since: string, cursor?: string, pageSize = DEFAULT_PAGE): Promise<ChangedPage> {
    const name = BUSINESS_OBJECT[scope];
    if (!name) throw new PartnerError('invalid', `Cherwell cannot sync scope ${String(scope)}`);
    const sinceMs = Date.parse(since);
    if (!cursor && !Number.isFinite(sinceMs)) throw new PartnerError('invalid', `"since" must be an ISO 8601 time, got "${since}"`);
    const [meta, zone] = await Promise.all([this.meta.get(name), this.timeZone()]);
    const size = Math.max(1, Math.min(MAX_PAGE, Math.floor(pageSize)));
    // Filter values have whole seconds: "gt since - 1 s" reads everything at or after `since`.
    const c: Cursor = cursor
      ? decodeCursor(scope, cursor)
      : { v: 1, scope, from: formatUsLocal(sinceMs - 1000, zone), page: 1, ms: -8.64e15, ids: [], prev: -8.64e15 };
    const { rows } = await this.search(meta, [{ field: 'LastModifiedDateTime', operator: 'gt', value: c.from }], {
      pageSize: size,
      pageNumber: c.page,
      sortBy: ['LastModifiedDateTime', 'RecID'],
      fields: syncFieldNames(scope),
    });
    const records: ChangedRecord[] = [];
    let prev = c.page === 1 ? (parseUsLocal(c.from, zone) ?? c.prev) : c.prev;
    let last = { ms: c.ms, ids: c.ids };
    for (const bo of rows) {
      const fields = fieldsOf(bo);
      const id = typeof bo.busObRecId === 'string' ? bo.busObRecId : fields.RecID;
      // Results come in time order, which tells the two occurrences of a repeated DST hour apart.
      const ms = parseUsLocalAfter(fields.LastModifiedDateTime ?? '', zone, prev);
      if (!id || !REC_ID.test(id) || ms === null) throw new PartnerError('protocol', `Cherwell ${name} record without a RecID or LastModifiedDateTime`);
      prev = ms;
      if (ms < c.ms || (ms === c.ms && c.ids.includes(id))) continue;
      last = ms === last.ms ? { ms, ids: [...last.ids, id] } : { ms, ids: [id] };
      const row = toServiceDeskRow(scope, fields, zone);
      row.LastModifiedDate_t = new Date(ms).toISOString().replace('.000Z', 'Z');
      records.push({ scope, id, updatedAt: row.LastModifiedDate_t, row });
    }
    if (rows.length < size) return { records };
    // Next page: after the last record (keyset), or — when a whole page was records already returned
    // (many changes in one second) — the following page of the same search.
    const next: Cursor = records.length
      ? { v: 1, scope, from: formatUsLocal(last.ms - 1000, zone), page: 1, ms: last.ms, ids: last.ids, prev: last.ms }
      : { ...c, page: c.page + 1, prev };
    return { records, next: encodeCursor(next) };
  }
}

const LEVELS = ['High', 'Medium', 'Low'];

/** Impact and Urgency take High / Medium / Low; the ITIL 1 / 2 / 3 of a generic severity mapping is translated. */
function levelValue(field: string, value: string): string {
  return /^(impact|urgency)$/i.test(field) && /^[123]$/.test(value) ? LEVELS[Number(value) - 1] : value;
}
