/**
 * System Center Service Manager implementation of PartnerClient, through Microsoft's Service Manager web
 * app (the only SCSM API ITSMC used). All HTTP goes through web-app.ts.
 *
 * Correlation key: SCSM incidents have no correlation field, so the key is written to the incident's
 * `ContactMethod` ("Alternate contact method", free text, 256 characters) and found with an `Equal`
 * criteria on it. Incidents made from alerts have no affected user to contact, so the field is otherwise
 * unused there. The connector's keys (`oitsmc:` + 32 characters) fit; others become `sha-<sha256 hex>`.
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
import { criteriaXml } from './criteria.ts';
import {
  fieldsByName,
  INCIDENT_CLASS,
  isIncidentClosed,
  labelOf,
  SCOPE_CLASS,
  scsmDateToIso,
  syncFields,
  toServiceDeskRow,
  type ScsmObject,
} from './mapping.ts';
import type { HttpMethod } from '../http.ts';
import { WebAppSession } from './web-app.ts';

export const CORRELATION_FIELD = 'ContactMethod';
const CORRELATION_MAX = 256;
export const COMPUTER_CLASS = 'Microsoft.Windows.Computer';
const DEFAULT_PAGE = 200;
const MAX_PAGE = 2000;
const DEFAULT_RESOLUTION = 'IncidentResolutionCategoryEnum.FixedByAnalyst';
const RESOLVED = 'IncidentStatusEnum.Resolved';
const ACTIVE = 'IncidentStatusEnum.Active';
/** ServiceNow-style 1/2/3 impact and urgency (the generic default mapping) in SCSM's terms. */
const SCALE: Record<string, string> = { '1': 'High', '2': 'Medium', '3': 'Low' };
const NEXT_PATH = /^\/api\/workitems\/next\/[A-Za-z0-9_-]+\/\d+\/\d+$/;

/** The value stored in ContactMethod for a correlation key. */
export function correlationValue(correlationKey: string): string {
  return storedCorrelationKey(correlationKey, CORRELATION_MAX, (key) => !/[\u0000-\u001f]/.test(key));
}

interface Cursor extends CursorBase {
  /** The web app's `next` link (page cache key). */
  next: string;
  /** LastModified of the last record returned: where to start again when the cache key has expired. */
  resume: string;
}

function decodeCursor(scope: SyncScope, text: string): Cursor {
  return decodeCursorOf<Cursor>(
    scope,
    text,
    (c) => !(typeof c.next !== 'string' || !NEXT_PATH.test(c.next) || typeof c.resume !== 'string' || !Number.isFinite(Date.parse(c.resume))),
  );
}

function field(name: string, value: unknown): { name: string; value: unknown } {
  return { name, value };
}

/** Generic field names (impact, urgency …) as SCSM properties, with the 1/2/3 scale mapped to High/Medium/Low. */
function propertyFields(fields: Record<string, string>): { name: string; value: unknown }[] {
  return Object.entries(fields).map(([name, value]) => {
    const lower = name.toLowerCase();
    if (lower === 'impact' || lower === 'urgency') return field(lower === 'impact' ? 'Impact' : 'Urgency', SCALE[value.trim()] ?? value);
    return field(name, value);
  });
}

function objectOf(body: Record<string, unknown>, what: string): ScsmObject {
  if (typeof body.bmeId !== 'string' || !Array.isArray(body.fields)) {
    throw new PartnerError('protocol', `the web app's answer to ${what} is not a work item ({bmeId, fields})`);
  }
  return body as unknown as ScsmObject;
}

function refOf(obj: ScsmObject): WorkItemRef {
  const f = fieldsByName(obj);
  const state = labelOf(f.get('Status')) ?? '';
  return { type: 'Incident', id: obj.bmeId, number: String(f.get('Id')?.value ?? ''), state, closed: isIncidentClosed(state) };
}

export class ScsmClient implements PartnerClient {
  private readonly web: WebAppSession;
  private templates: Map<string, string> | null = null;

  constructor(ctx: PartnerContext) {
    this.web = new WebAppSession(ctx);
  }

  private call(method: HttpMethod, path: string, json?: unknown): Promise<Record<string, unknown>> {
    return this.web.call(method, path, json);
  }

  /**
   * The connection check: a token from Azure AD, then `/api/status` with it, so that a client ID the web app
   * does not whitelist and an SM server the web app cannot reach fail here, each with its own cause.
   */
  async authenticate(): Promise<TokenSet> {
    const tokens = await this.web.newToken();
    const status = await this.status();
    if (!status.connected) {
      throw new PartnerError('unavailable', `the web app at ${this.web.host} is up but not connected to the Service Manager server: ${status.message}`, {
        cause: 'sm-disconnected',
      });
    }
    return tokens;
  }

  /** `/api/status`: whether the web app reaches the SM server over its hybrid connection. */
  async status(): Promise<{ connected: boolean; message: string }> {
    const body = await this.call('GET', '/api/status');
    const sm = body.SM as { Connected?: unknown; Message?: unknown } | undefined;
    if (typeof body.Status !== 'boolean' || !sm) throw new PartnerError('protocol', "the web app's /api/status answer has no Status/SM members");
    return { connected: body.Status === true && sm.Connected === true, message: String(sm.Message ?? '') };
  }

  // ---------------------------------------------------------------- work items

  private incidentOnly(type: WorkItemType): void {
    if (type !== 'Incident') throw new PartnerError('invalid', `SCSM work items from alerts are incidents; ${type} is not supported`);
  }

  private async templateId(name: string): Promise<string> {
    if (!this.templates?.has(name)) {
      const body = await this.call('GET', `/api/v2/templates?targetClass=${encodeURIComponent(INCIDENT_CLASS)}`);
      const values = Array.isArray(body.values) ? (body.values as { Key?: unknown; Value?: { name?: unknown } }[]) : [];
      this.templates = new Map(values.filter((v) => typeof v.Key === 'string').map((v) => [String(v.Value?.name ?? ''), String(v.Key)]));
    }
    const id = this.templates.get(name);
    if (!id) throw new PartnerError('invalid', `SCSM has no incident template named "${name}"`);
    return id;
  }

  private async patch(ref: WorkItemRef, fields: { name: string; value: unknown }[]): Promise<WorkItemRef> {
    if (fields.length === 0) return ref;
    const body = await this.call('PATCH', `/api/workitems/${encodeURIComponent(ref.id)}`, { className: INCIDENT_CLASS, fields });
    return refOf(objectOf(body, `PATCH ${ref.number}`));
  }

  async createWorkItem(input: WorkItemInput): Promise<WorkItemRef> {
    this.incidentOnly(input.type);
    const fields = [
      ...(input.templateName ? [field('templateId', await this.templateId(input.templateName))] : []),
      field('Title', input.title),
      field('Description', input.description),
      ...propertyFields(input.fields),
      field(CORRELATION_FIELD, correlationValue(input.correlationKey)),
      ...(input.ciIds.length ? [field('affectedci', input.ciIds.join(','))] : []),
    ];
    const body = await this.call('POST', '/api/workitems/create', { className: INCIDENT_CLASS, fields });
    return refOf(objectOf(body, 'create'));
  }

  async updateWorkItem(ref: WorkItemRef, note: string, fields: Record<string, string> = {}, ciIds: string[] = []): Promise<WorkItemRef> {
    // Read first: a note must not land on an incident a human resolved or closed meanwhile.
    const current = objectOf(
      await this.call('POST', `/api/workitems/${encodeURIComponent(ref.id)}`, { showFields: ['Id', 'Status', 'ResolvedDate', 'ClosedDate'] }),
      `read ${ref.number}`,
    );
    const known = refOf(current);
    if (known.closed) {
      const f = fieldsByName(current);
      return { ...known, closedAt: scsmDateToIso(f.get('ResolvedDate')?.value) ?? scsmDateToIso(f.get('ClosedDate')?.value) ?? undefined };
    }
    return this.patch(known, [
      ...propertyFields(fields),
      ...(note.trim() ? [field('notes', note)] : []),
      ...(ciIds.length ? [field('affectedci', ciIds.join(','))] : []),
    ]);
  }

  async resolveWorkItem(ref: WorkItemRef, how: ResolveInput, note: string): Promise<WorkItemRef> {
    return this.patch(ref, [
      field('Status', how.state || RESOLVED),
      field('ResolutionCategory', how.closeCode || DEFAULT_RESOLUTION),
      field('ResolutionDescription', how.closeNotes || note || 'Resolved by OpenITSMC: the alert was resolved'),
      ...(note.trim() ? [field('notes', note)] : []),
    ]);
  }

  async reopenWorkItem(ref: WorkItemRef, note: string): Promise<WorkItemRef> {
    return this.patch(ref, [field('Status', ACTIVE), ...(note.trim() ? [field('notes', note)] : [])]);
  }

  async findByCorrelationKey(type: WorkItemType, correlationKey: string): Promise<WorkItemRef | null> {
    this.incidentOnly(type);
    const body = await this.call('POST', '/api/workitems', {
      className: INCIDENT_CLASS,
      criteriaXML: criteriaXml([{ property: CORRELATION_FIELD, operator: 'Equal', value: correlationValue(correlationKey) }]),
      sorted: true,
      sortOrder: 'desc',
      pageSize: 1,
      showFields: ['Id', 'Status', 'LastModified'],
    });
    const objects = Array.isArray(body.businessObjects) ? (body.businessObjects as ScsmObject[]) : [];
    return objects.length ? refOf(objects[0]) : null;
  }

  /** A work item by bmeId with its action log (tests and support tooling). */
  async getWorkItem(bmeId: string): Promise<ScsmObject> {
    return objectOf(await this.call('POST', `/api/workitems/${encodeURIComponent(bmeId)}`, {}), `GET ${bmeId}`);
  }

  // ---------------------------------------------------------------- CIs

  async findOrCreateCi(name: string, allowCreate: boolean): Promise<CiRef | null> {
    const wanted = name.trim();
    if (!wanted) return null;
    const found = await this.call('GET', `/api/affectedci/getci?name=${encodeURIComponent(wanted)}`);
    if (typeof found.ciName === 'string' && found.ciName) return { id: found.ciName, name: found.ciName, className: COMPUTER_CLASS, created: false };
    if (!allowCreate) return null;
    const created = objectOf(
      await this.call('POST', '/api/affectedci/create', { className: COMPUTER_CLASS, fields: [field('PrincipalName', wanted)] }),
      'create CI',
    );
    const principal = String(fieldsByName(created).get('PrincipalName')?.value ?? wanted);
    return { id: principal, name: principal, className: COMPUTER_CLASS, created: true };
  }

  // ---------------------------------------------------------------- configuration

  async readConfiguration(): Promise<PartnerConfiguration> {
    const tpl = await this.call('GET', `/api/v2/templates?targetClass=${encodeURIComponent(INCIDENT_CLASS)}`);
    const templates = (Array.isArray(tpl.values) ? (tpl.values as { Key?: unknown; Value?: { name?: unknown } }[]) : []).map((v) => ({
      name: String(v.Value?.name ?? ''),
      table: INCIDENT_CLASS,
      fields: {},
    }));
    this.templates = new Map((tpl.values as { Key: string; Value: { name: string } }[]).map((v) => [v.Value.name, v.Key]));
    const choices: ChoiceEntry[] = [];
    for (const cls of Object.values(SCOPE_CLASS)) {
      const props = await this.call('GET', `/api/properties?targetClass=${encodeURIComponent(cls)}`);
      for (const p of (Array.isArray(props.values) ? props.values : []) as { name?: unknown; type?: unknown; EnumTypeId?: unknown }[]) {
        if (p.type !== 'enum' || typeof p.EnumTypeId !== 'string') continue;
        const lookup = await this.call('GET', `/api/lookupvalues?fieldName=${encodeURIComponent(p.EnumTypeId)}`);
        for (const v of (Array.isArray(lookup.values) ? lookup.values : []) as { Value?: unknown }[]) {
          choices.push({ table: cls, field: String(p.name), value: String(v.Value), label: String(v.Value) });
        }
      }
    }
    return { templates, choices };
  }

  // ---------------------------------------------------------------- sync

  private async page(scope: SyncScope, body: Record<string, unknown>, resume: string): Promise<ChangedPage> {
    const objects = Array.isArray(body.businessObjects) ? (body.businessObjects as ScsmObject[]) : [];
    const computers = new Map<string, string>();
    if (objects.length) {
      const ids = objects.map((o) => String(fieldsByName(o).get('Id')?.value ?? ''));
      const cis = await this.call('POST', '/api/affectedci', { incidentIds: ids, WIType: SCOPE_CLASS[scope] });
      for (const v of (Array.isArray(cis.values) ? cis.values : []) as { Key?: unknown; Value?: unknown }[]) {
        if (!computers.has(String(v.Key))) computers.set(String(v.Key), String(v.Value));
      }
    }
    let last = resume;
    const records: ChangedRecord[] = objects.map((o) => {
      const f = fieldsByName(o);
      const updatedAt = scsmDateToIso(f.get('LastModified')?.value);
      if (!updatedAt) throw new PartnerError('protocol', `work item ${o.bmeId} has no LastModified`);
      last = updatedAt;
      return { scope, id: o.bmeId, updatedAt, row: toServiceDeskRow(scope, o, computers.get(String(f.get('Id')?.value)) ?? null) };
    });
    const next = typeof body.next === 'string' && body.next ? body.next : undefined;
    if (next !== undefined && !NEXT_PATH.test(next))
      throw new PartnerError('protocol', `the web app's next link "${next}" is not a /api/workitems/next/… path`);
    return { records, next: next ? encodeCursor({ v: 1, scope, next, resume: last }) : undefined };
  }

  private async firstPage(scope: SyncScope, since: string, pageSize: number): Promise<ChangedPage> {
    const body = await this.call('POST', '/api/workitems', {
      className: SCOPE_CLASS[scope],
      criteriaXML: criteriaXml([{ property: 'LastModified', operator: 'GreaterEqual', value: since }]),
      sorted: true,
      sortOrder: 'asc',
      pageSize,
      showFields: syncFields(scope),
    });
    return this.page(scope, body, since);
  }

  async listChangedSince(scope: SyncScope, since: string, cursor?: string, pageSize = DEFAULT_PAGE): Promise<ChangedPage> {
    const size = Math.max(1, Math.min(MAX_PAGE, Math.floor(pageSize)));
    const sinceMs = Date.parse(since);
    if (!Number.isFinite(sinceMs)) throw new PartnerError('invalid', `"${since}" is not an ISO 8601 time`);
    if (!cursor) return this.firstPage(scope, new Date(sinceMs).toISOString(), size);
    const c = decodeCursor(scope, cursor);
    try {
      return await this.page(scope, await this.call('GET', c.next), c.resume);
    } catch (e) {
      // The web app's page cache forgot the key (timeout, restart): query again from the last record seen.
      if (e instanceof PartnerError && e.details.cause === 'cache-expired') return this.firstPage(scope, c.resume, size);
      throw e;
    }
  }
}
