/**
 * What the web app does with work items and CIs behind its routes: reading `Field` lists into property
 * values (enum GUID, name or label; dates; length limits), the incident and change rules (priority matrix,
 * resolved/closed stamps, reactivation), the special create fields (`templateId`, `affectedci`, `notes`)
 * and rendering objects back as `{bmeId, displayName, fields}`.
 */
import { randomUUID } from 'node:crypto';
import type { Field, WorkItemJson } from './format.ts';
import { domainError, dotNetDate, parseDotNetDate } from './format.ts';
import type { ClassDef, PropertyDef } from './model.ts';
import {
  CHANGE_CLASS,
  COMPUTER_CLASS,
  ENUMS,
  enumByName,
  guidFrom,
  INCIDENT_CLASS,
  INCIDENT_PROJECTION,
  INCIDENT_STATUS,
  incidentPriority,
  propertyId,
  resolveEnum,
  WEB_APP_AUTHOR,
} from './model.ts';
import type { Row, ScsmStore } from './store.ts';
import type { WebAppSettings } from './settings.ts';

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const isGuid = (s: string): boolean => GUID.test(s);

/** `Field` members the create and update paths read (others, such as `dirty`, are accepted and ignored). */
export interface FieldInput {
  fieldId?: unknown;
  name?: unknown;
  value?: unknown;
}

interface ParsedFields {
  values: Row;
  templateId?: string;
  affectedCis: string[];
  notes?: string;
}

const SPECIAL = new Set(['templateid', 'affectedci', 'notes']);

function findProperty(cls: ClassDef, f: FieldInput): PropertyDef | undefined {
  const name = typeof f.name === 'string' ? f.name.trim().toLowerCase() : '';
  const byName = cls.properties.find((p) => p.name.toLowerCase() === name);
  if (byName) return byName;
  return typeof f.fieldId === 'string' ? cls.properties.find((p) => propertyId(cls.name, p.name) === f.fieldId) : undefined;
}

function text(v: unknown): string | null {
  if (v === null || v === undefined) return null;
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return null;
}

/** Converts one written value to its stored form; throws a domain error naming the property. */
export function toStored(cls: ClassDef, prop: PropertyDef, value: unknown): unknown {
  const t = text(value);
  if (value !== null && value !== undefined && t === null) throw domainError(`Value of ${prop.name} must be a string, number or boolean`);
  if (t === null || t === '') {
    if (prop.required) throw domainError(`${prop.name} is a required property of ${cls.name} and cannot be empty`);
    return null;
  }
  switch (prop.type) {
    case 'enum': {
      const v = resolveEnum(prop.enumType!, t);
      if (!v) {
        throw domainError(`'${t}' is not a value of ${prop.name}; valid values come from /api/lookupvalues?fieldName=${prop.enumType}`);
      }
      return v.name;
    }
    case 'datetime': {
      const ms = parseDotNetDate(t);
      if (ms === null) throw domainError(`'${t}' is not a valid DateTime for ${prop.name}`);
      return ms;
    }
    case 'int': {
      const n = Number(t);
      if (!Number.isInteger(n)) throw domainError(`'${t}' is not a valid Int32 for ${prop.name}`);
      return n;
    }
    case 'bool': {
      const b = t.toLowerCase();
      if (b !== 'true' && b !== 'false') throw domainError(`'${t}' is not a valid Boolean for ${prop.name}`);
      return b === 'true' ? 1 : 0;
    }
    default:
      if (prop.maxLength !== undefined && t.length > prop.maxLength) {
        throw domainError(`The value of ${prop.name} is ${t.length} characters long; the maximum length is ${prop.maxLength}`);
      }
      return t;
  }
}

export function parseFields(cls: ClassDef, fields: unknown): ParsedFields {
  if (fields === undefined || fields === null) return { values: {}, affectedCis: [] };
  if (!Array.isArray(fields)) throw domainError('fields must be an array of {"name","value"} objects');
  const out: ParsedFields = { values: {}, affectedCis: [] };
  fields.forEach((raw, i) => {
    if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw domainError(`fields[${i}] must be an object with name and value`);
    const f = raw as FieldInput;
    const special = typeof f.name === 'string' ? f.name.trim().toLowerCase() : '';
    if (SPECIAL.has(special)) {
      const v = text(f.value)?.trim() ?? '';
      if (special === 'templateid') out.templateId = v;
      else if (special === 'notes') out.notes = text(f.value) ?? undefined;
      else
        out.affectedCis.push(
          ...v
            .split(/[,;]/)
            .map((x) => x.trim())
            .filter(Boolean),
        );
      return;
    }
    const prop = findProperty(cls, f);
    if (!prop) throw domainError(`fields[${i}]: property '${String(f.name ?? f.fieldId)}' not found on class ${cls.name}`);
    if (prop.readOnly) throw domainError(`fields[${i}]: ${prop.name} is set by Service Manager and cannot be written`);
    out.values[prop.name] = toStored(cls, prop, f.value);
  });
  return out;
}

// ------------------------------------------------------------------ rules

function incidentRules(prev: Row | undefined, next: Row, nowMs: number, settings: WebAppSettings): void {
  const merged = { ...prev, ...next };
  if ('Impact' in next || 'Urgency' in next || !prev) {
    next.Priority = incidentPriority(String(merged.Impact ?? ''), String(merged.Urgency ?? ''));
  }
  const before = prev?.Status;
  const after = merged.Status;
  if (after === before) return;
  if (after === INCIDENT_STATUS.resolved || after === INCIDENT_STATUS.closed) {
    if (after === INCIDENT_STATUS.resolved && settings.resolutionCategoryRequired && !merged.ResolutionCategory) {
      throw domainError('ResolutionCategory is required to resolve an incident (IncidentResolutionCategoryEnum)');
    }
    if (!merged.ResolvedDate) next.ResolvedDate = nowMs;
    if (after === INCIDENT_STATUS.closed) next.ClosedDate = nowMs;
  } else if (before === INCIDENT_STATUS.resolved || before === INCIDENT_STATUS.closed) {
    next.ResolvedDate = null;
    next.ClosedDate = null;
  }
}

function changeRules(prev: Row | undefined, next: Row, nowMs: number): void {
  const status = next.Status;
  if (status === undefined || status === prev?.Status) return;
  const merged = { ...prev, ...next };
  if (status === 'ChangeStatusEnum.InProgress' && !merged.ActualStartDate) next.ActualStartDate = nowMs;
  if (['ChangeStatusEnum.Completed', 'ChangeStatusEnum.Closed', 'ChangeStatusEnum.Failed'].includes(String(status)) && !merged.ActualEndDate) {
    next.ActualEndDate = nowMs;
  }
}

function applyRules(cls: ClassDef, prev: Row | undefined, next: Row, nowMs: number, settings: WebAppSettings): void {
  if (cls.name === INCIDENT_CLASS) incidentRules(prev, next, nowMs, settings);
  if (cls.name === CHANGE_CLASS) changeRules(prev, next, nowMs);
  if ('Title' in next || !prev) next.DisplayName = `${prev?.Id ?? next.Id} - ${next.Title ?? prev?.Title ?? ''}`;
  next.LastModified = nowMs;
}

const DEFAULTS: Record<string, Row> = {
  [INCIDENT_CLASS]: {
    Status: INCIDENT_STATUS.active,
    Urgency: 'System.WorkItem.TroubleTicket.UrgencyEnum.Low',
    Impact: 'System.WorkItem.TroubleTicket.ImpactEnum.Low',
    Source: 'IncidentSourceEnum.Portal',
    TierQueue: 'IncidentTierQueuesEnum.Tier1',
    Escalated: 0,
    NeedsKnowledgeArticle: 0,
  },
  [CHANGE_CLASS]: { Status: 'ChangeStatusEnum.New' },
};

// ------------------------------------------------------------------ operations

export interface WriteResult {
  bmeId: string;
  /** Problems that did not stop the write (a CI that could not be attached), reported in errorMessages. */
  warnings: string[];
}

function addNote(store: ScsmStore, workItem: string, note: string | undefined, nowMs: number): void {
  if (!note || !note.trim()) return;
  if (note.length > 4000) throw domainError(`notes is ${note.length} characters long; an action log comment holds at most 4000`);
  store.addComment({ id: randomUUID(), workItem, comment: note, enteredBy: WEB_APP_AUTHOR, enteredDate: nowMs, isPrivate: false });
}

function attachAll(store: ScsmStore, workItem: string, names: string[], nowMs: number): string[] {
  const warnings: string[] = [];
  for (const name of names) {
    const ci = store.computerByPrincipalName(name);
    if (!ci) warnings.push(`Unable to add affected CI or it doesn't exist in system: ${name}`);
    else store.attach(workItem, ci.bme_id as string, nowMs);
  }
  return warnings;
}

function templateValues(store: ScsmStore, cls: ClassDef, templateId: string | undefined): Row {
  if (templateId === undefined || templateId === '') return {};
  if (!isGuid(templateId)) throw domainError('Template Discovery ID is not a correct GUID');
  const t = store.template(templateId.toLowerCase());
  if (!t) throw domainError(`Template with id ${templateId} was not found`);
  if (t.className !== cls.name) throw domainError(`Template '${t.name}' is a template of ${t.className}, not of ${cls.name}`);
  if (cls.name === INCIDENT_CLASS && t.projectionType !== INCIDENT_PROJECTION) {
    throw domainError(
      `Template '${t.name}' cannot be used: in order to use custom templates, the parameter 'ProjectionType' in the SCSM template should be mapped to '${INCIDENT_PROJECTION}' (it is '${t.projectionType}')`,
    );
  }
  return { ...t.values };
}

export function createWorkItem(store: ScsmStore, cls: ClassDef, fields: unknown, nowMs: number, settings: WebAppSettings): WriteResult {
  if (!cls.idPrefix) throw domainError(`${cls.name} is not a work item class; use /api/affectedci/create for configuration items`);
  const parsed = parseFields(cls, fields);
  let warnings: string[] = [];
  const bmeId = randomUUID();
  store.db.transaction(() => {
    const values: Row = { ...DEFAULTS[cls.name], ...templateValues(store, cls, parsed.templateId), ...parsed.values };
    for (const p of cls.properties) {
      if (p.required && (values[p.name] === undefined || values[p.name] === null)) {
        throw domainError(`${p.name} is a required property of ${cls.name}`);
      }
    }
    values.Id = `${cls.idPrefix}${store.nextWorkItemNumber()}`;
    values.CreatedDate = nowMs;
    applyRules(cls, undefined, values, nowMs, settings);
    store.insert(cls, bmeId, nowMs, values);
    addNote(store, bmeId, parsed.notes, nowMs);
    warnings = attachAll(store, bmeId, parsed.affectedCis, nowMs);
  })();
  return { bmeId, warnings };
}

export function updateWorkItem(store: ScsmStore, cls: ClassDef, bmeId: string, fields: unknown, nowMs: number, settings: WebAppSettings): WriteResult {
  const parsed = parseFields(cls, fields);
  if (parsed.templateId) throw domainError('templateId can only be given when a work item is created');
  let warnings: string[] = [];
  store.db.transaction(() => {
    const prev = store.get(cls, bmeId);
    if (!prev) throw domainError(`No ${cls.name} with bmeId ${bmeId} exists`, 404);
    const next = { ...parsed.values };
    applyRules(cls, prev, next, nowMs, settings);
    store.update(cls, bmeId, next);
    addNote(store, bmeId, parsed.notes, nowMs);
    warnings = attachAll(store, bmeId, parsed.affectedCis, nowMs);
  })();
  return { bmeId, warnings };
}

export function createComputer(store: ScsmStore, cls: ClassDef, fields: unknown, nowMs: number): string {
  if (cls.name !== COMPUTER_CLASS) throw domainError(`Classname ${cls.name} cannot be created as a configuration item; use ${COMPUTER_CLASS}`);
  const parsed = parseFields(cls, fields);
  const name = parsed.values.PrincipalName;
  if (typeof name !== 'string' || !name) throw domainError('PrincipalName is a required property of Microsoft.Windows.Computer');
  if (store.computerByPrincipalName(name)) throw domainError(`A ${COMPUTER_CLASS} with PrincipalName '${name}' already exists`);
  const bmeId = randomUUID();
  const short = name.split('.')[0];
  store.insert(cls, bmeId, nowMs, {
    DisplayName: name,
    NetbiosComputerName: short.toUpperCase(),
    DNSName: name,
    ...parsed.values,
    LastModified: nowMs,
  });
  return bmeId;
}

// ------------------------------------------------------------------ rendering

function field(cls: ClassDef, prop: PropertyDef, stored: unknown): Field {
  let value: unknown = stored ?? null;
  let display: unknown = value;
  if (value !== null) {
    if (prop.type === 'enum') {
      const v = enumByName(String(value));
      value = v?.id ?? String(value);
      display = v?.displayName ?? String(stored);
    } else if (prop.type === 'datetime') {
      value = dotNetDate(Number(stored));
      display = value;
    } else if (prop.type === 'bool') {
      value = stored === 1;
      display = value;
    }
  }
  return { fieldId: propertyId(cls.name, prop.name), name: prop.name, value, valueDisplayName: display, dirty: false };
}

export const ACTION_LOG_FIELD = 'ActionLog';

export function render(store: ScsmStore, cls: ClassDef, row: Row, opts: { showFields?: string[]; actionLog?: boolean } = {}): WorkItemJson {
  const wanted = opts.showFields?.length ? new Set(opts.showFields.map((f) => f.toLowerCase())) : null;
  const fields = cls.properties.filter((p) => !wanted || wanted.has(p.name.toLowerCase())).map((p) => field(cls, p, row[p.name]));
  if (cls.idPrefix && (opts.actionLog || wanted?.has(ACTION_LOG_FIELD.toLowerCase()))) {
    const log = store.comments(row.bme_id as string).map((c) => ({
      Comment: c.comment,
      EnteredBy: c.enteredBy,
      EnteredDate: dotNetDate(c.enteredDate),
      IsPrivate: c.isPrivate,
    }));
    fields.push({
      fieldId: guidFrom('relationship:System.WorkItem.TroubleTicketHasUserComment'),
      name: ACTION_LOG_FIELD,
      value: log,
      valueDisplayName: null,
      dirty: false,
    });
  }
  const displayName = String(row.DisplayName ?? row.PrincipalName ?? row.Id ?? row.bme_id);
  return { bmeId: row.bme_id as string, displayName, fields };
}

/** `values` for /api/lookupvalues: the enumeration's values as `{Key: guid, Value: label}`. */
export function lookupValues(enumType: string): { Key: string; Value: string }[] | undefined {
  return ENUMS.get(enumType)?.map((v) => ({ Key: v.id, Value: v.displayName }));
}
