/**
 * Provance implementation of PartnerClient over the Dataverse Web API (cases, notes, CloseIncident,
 * configuration items, option-set metadata, changed-since paging with @odata.nextLink). Every entity and
 * column name comes from mapping.ts (unverified against a real Provance instance); all HTTP goes through
 * request.ts, all tokens through tokens.ts. Writes are never retried in-process.
 */
import { storedCorrelationKey } from '../correlation.ts';
import {
  PartnerError,
  type ChangedPage,
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
import {
  CORRELATION_KEY_MAX,
  INCIDENT_STATE,
  INCIDENT_STATUS,
  NAMES,
  NEW_CI_TYPE,
  NOTE_SUBJECT,
  SCOPES,
  caseFieldValues,
  isIncidentClosed,
  isoDate,
  raw,
  toServiceDeskRow,
  type DvRecord,
} from './mapping.ts';
import { authorizedCall, parseSuccess, type HttpMethod, type HttpSettings } from '../http.ts';
import { API_ROOT, provanceSettings } from './request.ts';
import { AadTokens } from './tokens.ts';

const I = NAMES.incident;
const CI = NAMES.ci;
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const FORMATTED = 'odata.include-annotations="OData.Community.Display.V1.FormattedValue"';
const DEFAULT_PAGE = 200;
const MAX_PAGE = 5000;
const DUPLICATE_ASSOCIATION = '0x80040237';
const REF_SELECT = [I.id, I.number, I.state, I.resolvedOn, 'modifiedon'].join(',');

/** The key written to prov_correlationkey: the key itself when it fits, else `sha-<sha256 hex>` (deterministic). */
export function partnerKey(correlationKey: string): string {
  return storedCorrelationKey(correlationKey, CORRELATION_KEY_MAX);
}

/** An OData string literal: single quotes doubled. */
const literal = (s: string): string => `'${s.replace(/'/g, "''")}'`;

function checkId(id: string, what: string): string {
  if (!GUID.test(id)) throw new PartnerError('invalid', `${what} "${id}" is not a Dataverse id (GUID)`);
  return id.toLowerCase();
}

function incidentOnly(type: WorkItemType): void {
  if (type !== 'Incident') throw new PartnerError('invalid', `Provance work items are cases (Incident); ${type} is not supported`);
}

interface Cursor {
  v: 1;
  scope: SyncScope;
  link: string;
}

export class ProvanceClient implements PartnerClient {
  private readonly http: HttpSettings;
  private readonly tokens: AadTokens;
  /** Absolute Web API root: the prefix of every @odata.nextLink this client follows. */
  private readonly api: string;

  constructor(ctx: PartnerContext) {
    this.http = provanceSettings(ctx);
    this.api = `${this.http.serverUrl}${API_ROOT}`;
    this.tokens = new AadTokens(this.http, ctx);
  }

  /** One authenticated Web API call (path below the Web API root, or an absolute link under it). */
  private async call(method: HttpMethod, path: string, opts: { json?: unknown; prefer?: string[] } = {}): Promise<{ body: unknown; headers: Headers }> {
    const below = path.startsWith(`${this.api}/`) ? path.slice(this.api.length + 1) : path;
    const headers = { 'OData-MaxVersion': '4.0', 'OData-Version': '4.0', ...(opts.prefer?.length ? { Prefer: opts.prefer.join(',') } : {}) };
    const req = { method, path: `${API_ROOT}/${below}`, json: opts.json, headers };
    const res = await authorizedCall(this.http, this.tokens, req);
    return { body: parseSuccess(this.http, method, req.path.split('?')[0], res), headers: res.headers };
  }

  private async rows(path: string, prefer: string[] = []): Promise<{ value: DvRecord[]; next?: string }> {
    const { body } = await this.call('GET', path, { prefer });
    const value = (body as { value?: unknown })?.value;
    if (!Array.isArray(value)) throw new PartnerError('protocol', `Provance GET ${path.split('?')[0]} answered without a "value" array`);
    const next = (body as Record<string, unknown>)['@odata.nextLink'];
    return { value: value as DvRecord[], next: typeof next === 'string' ? next : undefined };
  }

  private toRef(rec: DvRecord): WorkItemRef {
    const id = raw(rec, I.id);
    const state = raw(rec, I.state);
    if (!GUID.test(id)) throw new PartnerError('protocol', 'a Provance case came back without an incidentid');
    const closed = isIncidentClosed(state);
    const closedAt = closed ? (isoDate(rec, I.resolvedOn) ?? isoDate(rec, 'modifiedon') ?? undefined) : undefined;
    return {
      type: 'Incident',
      id,
      number: raw(rec, I.number),
      state,
      closed,
      ...(closedAt ? { closedAt } : {}),
      url: `${this.http.serverUrl}/main.aspx?etn=${I.entity}&id=${id}&pagetype=entityrecord`,
    };
  }

  private async readRef(id: string): Promise<WorkItemRef> {
    const { body } = await this.call('GET', `${I.set}(${checkId(id, 'case id')})?$select=${REF_SELECT}`);
    return this.toRef(body as DvRecord);
  }

  async authenticate(): Promise<TokenSet> {
    return this.tokens.authenticate();
  }

  async createWorkItem(input: WorkItemInput): Promise<WorkItemRef> {
    incidentOnly(input.type);
    if (input.templateName) throw new PartnerError('invalid', `the Provance mapping defines no templates (asked for "${input.templateName}")`);
    let fields: Record<string, string | number>;
    try {
      fields = caseFieldValues(input.fields);
    } catch (e) {
      throw new PartnerError('invalid', `Provance case field: ${(e as Error).message}`);
    }
    const ciIds = input.ciIds.map((id) => checkId(id, 'CI id'));
    const body: Record<string, unknown> = {
      ...fields,
      [I.title]: input.title,
      [I.description]: input.description,
      [I.correlationKey]: partnerKey(input.correlationKey),
    };
    if (ciIds[0]) body[`${I.ciNav}@odata.bind`] = `/${CI.set}(${ciIds[0]})`;
    const { body: created } = await this.call('POST', `${I.set}?$select=${REF_SELECT}`, { json: body, prefer: ['return=representation'] });
    const ref = this.toRef(created as DvRecord);
    // The case exists now; a failing CI link must not make the queue create it again.
    await this.associateCis(ref.id, ciIds).catch(() => undefined);
    return ref;
  }

  private async associateCis(caseId: string, ciIds: string[]): Promise<void> {
    for (const ciId of ciIds) {
      try {
        await this.call('POST', `${I.set}(${caseId})/${I.cisNav}/$ref`, { json: { '@odata.id': `${this.api}/${CI.set}(${ciId})` } });
      } catch (err) {
        if (!(err instanceof PartnerError && err.kind === 'invalid' && err.message.includes(DUPLICATE_ASSOCIATION))) throw err;
      }
    }
  }

  /** PATCH of a case answered with its reference (one request). */
  private async patchCase(id: string, values: Record<string, unknown>): Promise<WorkItemRef> {
    const { body } = await this.call('PATCH', `${I.set}(${id})?$select=${REF_SELECT}`, { json: values, prefer: ['return=representation'] });
    return this.toRef(body as DvRecord);
  }

  /** The note as a Dataverse annotation on the case. */
  private async annotate(id: string, note: string): Promise<void> {
    if (note.trim() === '') return;
    await this.call('POST', NAMES.note.set, {
      json: { [NAMES.note.subject]: NOTE_SUBJECT, [NAMES.note.text]: note, [`${NAMES.note.objectNavIncident}@odata.bind`]: `/${I.set}(${id})` },
    });
  }

  /**
   * A write Provance refused (400) because the case is no longer active — resolved or cancelled by a human —
   * becomes that case's closed reference; anything else is rethrown.
   */
  private async closedInstead(id: string, err: unknown): Promise<WorkItemRef> {
    if (!(err instanceof PartnerError && err.kind === 'invalid')) throw err;
    const current = await this.readRef(id);
    if (!current.closed) throw err;
    return current;
  }

  /**
   * Fields and the note go onto the case in one PATCH (the note also into the last-note column, so the case
   * shows as changed), then the note as an annotation. A case closed in Provance meanwhile refuses the PATCH:
   * nothing is written and its closed reference returned, for the caller to decide again.
   */
  async updateWorkItem(ref: WorkItemRef, note: string, fields: Record<string, string> = {}, ciIds: string[] = []): Promise<WorkItemRef> {
    incidentOnly(ref.type);
    const id = checkId(ref.id, 'case id');
    let values: Record<string, string | number>;
    try {
      values = caseFieldValues(fields);
    } catch (e) {
      throw new PartnerError('invalid', `Provance case field: ${(e as Error).message}`);
    }
    const ciList = ciIds.map((c) => checkId(c, 'CI id'));
    let updated: WorkItemRef;
    try {
      updated = await this.patchCase(id, { ...values, ...(note.trim() ? { [I.lastNote]: note } : {}) });
    } catch (err) {
      return this.closedInstead(id, err);
    }
    if (updated.closed) return updated;
    await this.annotate(id, note);
    await this.associateCis(id, ciList);
    return updated;
  }

  /** CloseIncident with the note as the resolution text; a case that is already closed is left as it is. */
  async resolveWorkItem(ref: WorkItemRef, how: ResolveInput, note: string): Promise<WorkItemRef> {
    incidentOnly(ref.type);
    const id = checkId(ref.id, 'case id');
    const status = how.state !== undefined && /^\d+$/.test(how.state) ? Number(how.state) : INCIDENT_STATUS.problemSolved;
    try {
      // A resolved case is read-only, so a note that is not the resolution text goes first.
      if (how.closeNotes && note.trim() && note !== how.closeNotes) {
        await this.patchCase(id, { [I.lastNote]: note });
        await this.annotate(id, note);
      }
      await this.call('POST', 'CloseIncident', {
        json: {
          IncidentResolution: {
            subject: how.closeCode || 'Resolved by OpenITSMC',
            description: how.closeNotes || note,
            'incidentid@odata.bind': `/${I.set}(${id})`,
          },
          Status: status,
        },
      });
    } catch (err) {
      return this.closedInstead(id, err);
    }
    return { ...ref, id, state: String(INCIDENT_STATE.resolved), closed: true, closedAt: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z') };
  }

  /** Reactivates the case (statecode Active, status In Progress) with the note, in one PATCH, then the annotation. */
  async reopenWorkItem(ref: WorkItemRef, note: string): Promise<WorkItemRef> {
    incidentOnly(ref.type);
    const id = checkId(ref.id, 'case id');
    const reopened = await this.patchCase(id, {
      [I.state]: INCIDENT_STATE.active,
      [I.status]: INCIDENT_STATUS.inProgress,
      ...(note.trim() ? { [I.lastNote]: note } : {}),
    });
    await this.annotate(id, note);
    return reopened;
  }

  async findByCorrelationKey(type: WorkItemType, correlationKey: string): Promise<WorkItemRef | null> {
    incidentOnly(type);
    const filter = encodeURIComponent(`${I.correlationKey} eq ${literal(partnerKey(correlationKey))}`);
    const { value } = await this.rows(`${I.set}?$select=${REF_SELECT}&$filter=${filter}&$orderby=createdon asc&$top=1`);
    return value[0] ? this.toRef(value[0]) : null;
  }

  async findOrCreateCi(name: string, allowCreate: boolean): Promise<CiRef | null> {
    const n = name.trim();
    if (n === '') return null;
    const filter = encodeURIComponent(`${CI.name} eq ${literal(n)} or ${CI.fqdn} eq ${literal(n)}`);
    const { value } = await this.rows(`${CI.set}?$select=${CI.id},${CI.name}&$filter=${filter}&$orderby=createdon asc&$top=1`);
    if (value[0]) return { id: raw(value[0], CI.id), name: raw(value[0], CI.name), className: CI.entity, created: false };
    if (!allowCreate) return null;
    const { body } = await this.call('POST', `${CI.set}?$select=${CI.id},${CI.name}`, {
      json: { [CI.name]: n.slice(0, 200), [CI.type]: NEW_CI_TYPE },
      prefer: ['return=representation'],
    });
    return { id: raw(body as DvRecord, CI.id), name: raw(body as DvRecord, CI.name), className: CI.entity, created: true };
  }

  async readConfiguration(): Promise<PartnerConfiguration> {
    const choices: ChoiceEntry[] = [];
    for (const entity of [I.entity, NAMES.change.entity]) {
      for (const kind of ['PicklistAttributeMetadata', 'StateAttributeMetadata', 'StatusAttributeMetadata']) {
        const { value } = await this.rows(
          `EntityDefinitions(LogicalName='${entity}')/Attributes/Microsoft.Dynamics.CRM.${kind}?$select=LogicalName&$expand=OptionSet($select=Options)`,
        );
        for (const attr of value as {
          LogicalName?: string;
          OptionSet?: { Options?: { Value?: number; Label?: { UserLocalizedLabel?: { Label?: string } } }[] };
        }[]) {
          for (const o of attr.OptionSet?.Options ?? []) {
            if (attr.LogicalName && o.Value !== undefined)
              choices.push({ table: entity, field: attr.LogicalName, value: String(o.Value), label: o.Label?.UserLocalizedLabel?.Label ?? String(o.Value) });
          }
        }
      }
    }
    return { templates: [], choices };
  }

  async listChangedSince(scope: SyncScope, since: string, cursor?: string, pageSize = DEFAULT_PAGE): Promise<ChangedPage> {
    const spec = SCOPES[scope];
    if (!spec) throw new PartnerError('invalid', `Provance cannot sync scope ${String(scope)}`);
    const size = Math.max(1, Math.min(MAX_PAGE, Math.floor(pageSize)));
    let path: string;
    if (cursor) path = this.decodeCursor(scope, cursor);
    else {
      const ms = Date.parse(since);
      if (!Number.isFinite(ms)) throw new PartnerError('invalid', `"since" must be an ISO 8601 time, got "${since}"`);
      const from = new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
      const filter = encodeURIComponent(`modifiedon ge ${from}`);
      path = `${spec.set}?$select=${spec.select.join(',')}&$filter=${filter}&$orderby=modifiedon asc,${spec.id} asc`;
    }
    const { value, next } = await this.rows(path, [`odata.maxpagesize=${size}`, FORMATTED]);
    const records = value.map((rec) => {
      const id = raw(rec, spec.id);
      const updatedAt = isoDate(rec, 'modifiedon');
      if (!GUID.test(id) || !updatedAt) throw new PartnerError('protocol', `a Provance ${spec.set} record came back without an id or modifiedon`);
      return { scope, id, updatedAt, row: toServiceDeskRow(scope, rec) };
    });
    return next ? { records, next: Buffer.from(JSON.stringify({ v: 1, scope, link: next } satisfies Cursor)).toString('base64url') } : { records };
  }

  /** A sync cursor wraps the server's @odata.nextLink; it must point back at this organisation's Web API. */
  private decodeCursor(scope: SyncScope, cursor: string): string {
    let c: Cursor;
    try {
      c = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as Cursor;
    } catch {
      throw new PartnerError('invalid', 'the sync cursor is not one this Provance client wrote');
    }
    if (c?.v !== 1 || c.scope !== scope || typeof c.link !== 'string' || !c.link.startsWith(`${this.api}/`)) {
      throw new PartnerError('invalid', 'the sync cursor is not one this Provance client wrote for this scope and server');
    }
    return c.link;
  }
}
