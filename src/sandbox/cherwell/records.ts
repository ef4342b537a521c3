/**
 * Business object reads and writes of the Cherwell sandbox: templates, `savebusinessobject` semantics
 * (create without ids, update with one; only dirty fields written; validation answered in the body) and
 * the `FieldTemplateItem` form records are read back in (dates as US local time in the server zone).
 */
import { formatUsLocal, parseUsLocal } from '../../partners/cherwell/dates.ts';
import type { BusObDef, FieldDef } from './schema.ts';
import { INCIDENT, CHANGE_REQUEST, qualifiedFieldId, resolveField } from './schema.ts';
import type { CwStore, StoredRecord, Values } from './store.ts';
import { newRecId } from './store.ts';

export interface FieldTemplateItem {
  dirty: boolean;
  displayName: string;
  fieldId: string;
  html: string | null;
  name: string;
  value: string;
}

export interface FieldValidationError {
  error: string;
  errorCode: string;
  fieldId: string;
}

export interface SaveOutcome {
  ok: boolean;
  notFound?: boolean;
  record?: StoredRecord;
  errorCode?: string;
  errorMessage?: string;
  fieldValidationErrors: FieldValidationError[];
}

export interface WriteCtx {
  login: string;
  nowMs: number;
  timeZone: string;
}

export function displayValue(f: FieldDef, v: string | number | null | undefined, timeZone: string): string {
  if (v === null || v === undefined || v === '') return '';
  if (f.type === 'DateTime') return formatUsLocal(Number(v), timeZone);
  return String(v);
}

export function templateItem(bo: BusObDef, f: FieldDef, value: string): FieldTemplateItem {
  return { dirty: false, displayName: f.displayName, fieldId: qualifiedFieldId(bo, f), html: null, name: f.name, value };
}

export function recordItems(bo: BusObDef, rec: StoredRecord, timeZone: string, only?: Set<FieldDef>): FieldTemplateItem[] {
  return bo.fields.filter((f) => !only || only.has(f)).map((f) => templateItem(bo, f, displayValue(f, rec.values[f.name], timeZone)));
}

/** `getbusinessobjecttemplate`: the requested fields with their defaults. */
export function templateFields(
  bo: BusObDef,
  req: { fieldNames?: unknown; fieldIds?: unknown; includeAll?: unknown; includeRequired?: unknown },
): FieldTemplateItem[] {
  const wanted = new Set<FieldDef>();
  const list = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);
  for (const n of list(req.fieldNames)) {
    const f = bo.byName.get(n.toLowerCase());
    if (f) wanted.add(f);
  }
  for (const id of list(req.fieldIds)) {
    const f = resolveField(bo, id, undefined);
    if (f) wanted.add(f);
  }
  const all = req.includeAll === true;
  const required = req.includeRequired === true;
  return bo.fields.filter((f) => all || wanted.has(f) || (required && f.required)).map((f) => templateItem(bo, f, f.defaultValue ?? ''));
}

function isDirty(v: unknown): boolean {
  return v === true || (typeof v === 'string' && v.toLowerCase() === 'true');
}

/** Converts one incoming value to its stored form, or returns a validation error text. */
function storedValue(f: FieldDef, raw: unknown, timeZone: string): { value: string | number | null } | { error: string } {
  const text = raw === null || raw === undefined ? '' : String(raw);
  if (text === '') return { value: null };
  if (f.type === 'DateTime') {
    const ms = parseUsLocal(text, timeZone) ?? (/^\d{4}-\d{2}-\d{2}T/.test(text) ? Date.parse(text) : Number.NaN);
    return Number.isFinite(ms) ? { value: ms } : { error: `'${text}' is not a valid date/time for ${f.name} (expected M/d/yyyy h:mm:ss tt)` };
  }
  if (f.choices) {
    const hit = f.choices.find((c) => c.toLowerCase() === text.toLowerCase());
    return hit ? { value: hit } : { error: `'${text}' is not a valid value for ${f.name} (${f.choices.join(', ')})` };
  }
  if (f.maxLength && text.length > f.maxLength) return { error: `${f.name} is longer than ${f.maxLength} characters` };
  return { value: text };
}

/** Business rules: stamps of the lifecycle dates. */
function applyLifecycle(bo: BusObDef, values: Values, before: Values | undefined, nowMs: number): void {
  const status = values.Status;
  if (status === before?.Status) return;
  if (bo === INCIDENT) {
    values.ResolvedDateTime = status === 'Resolved' || status === 'Closed' ? (before?.ResolvedDateTime ?? nowMs) : null;
    values.ClosedDateTime = status === 'Closed' ? nowMs : null;
  } else if (bo === CHANGE_REQUEST) {
    values.ClosedDateTime = status === 'Closed' || status === 'Cancelled' ? nowMs : null;
  }
}

export interface SaveRequestBody {
  busObId?: unknown;
  busObRecId?: unknown;
  busObPublicId?: unknown;
  fields?: unknown;
  persist?: unknown;
}

export function save(store: CwStore, bo: BusObDef, req: SaveRequestBody, ctx: WriteCtx): SaveOutcome {
  const recId = typeof req.busObRecId === 'string' ? req.busObRecId.trim() : '';
  const publicId = typeof req.busObPublicId === 'string' ? req.busObPublicId.trim() : '';
  const existing = recId ? store.byRecId(bo, recId) : publicId ? store.byPublicId(bo, publicId) : undefined;
  if ((recId || publicId) && !existing) {
    return {
      ok: false,
      notFound: true,
      errorCode: 'RECORDNOTFOUND',
      errorMessage: `${bo.name} record ${recId || publicId} was not found`,
      fieldValidationErrors: [],
    };
  }
  const errors: FieldValidationError[] = [];
  const values: Values = existing ? { ...existing.values } : Object.fromEntries(bo.fields.map((f) => [f.name, f.defaultValue ?? null]));
  for (const item of Array.isArray(req.fields) ? req.fields : []) {
    if (!item || typeof item !== 'object' || !isDirty((item as { dirty?: unknown }).dirty)) continue;
    const it = item as { fieldId?: unknown; name?: unknown; value?: unknown };
    const fieldId = typeof it.fieldId === 'string' ? it.fieldId : undefined;
    const f = resolveField(bo, fieldId, typeof it.name === 'string' ? it.name : undefined);
    if (!f) {
      errors.push({ error: `Field ${fieldId || String(it.name ?? '')} does not exist on ${bo.name}`, errorCode: 'FIELDNOTFOUND', fieldId: fieldId ?? '' });
      continue;
    }
    if (f.readOnly) continue;
    const v = storedValue(f, it.value, ctx.timeZone);
    if ('error' in v) errors.push({ error: v.error, errorCode: 'INVALIDVALUE', fieldId: qualifiedFieldId(bo, f) });
    else values[f.name] = v.value;
  }
  for (const f of bo.fields) {
    if (f.required && (values[f.name] === null || values[f.name] === '')) {
      errors.push({ error: `${f.displayName} is required`, errorCode: 'REQUIRED', fieldId: qualifiedFieldId(bo, f) });
    }
  }
  if (errors.length) {
    return { ok: false, errorCode: 'FIELDVALIDATIONERROR', errorMessage: errors.map((e) => e.error).join('; '), fieldValidationErrors: errors };
  }
  applyLifecycle(bo, values, existing?.values, ctx.nowMs);
  values.LastModifiedDateTime = ctx.nowMs;
  values.LastModBy = ctx.login;
  if (req.persist === false) return { ok: true, fieldValidationErrors: [] };
  if (existing) {
    store.update(existing.recId, values);
    return { ok: true, record: { ...existing, values }, fieldValidationErrors: [] };
  }
  const newId = newRecId();
  const newPublic = bo.publicIdField === 'RecID' ? newId : store.nextPublicId(bo);
  values.RecID = newId;
  values[bo.publicIdField] = newPublic;
  values.CreatedDateTime = ctx.nowMs;
  values.CreatedBy = ctx.login;
  store.insert(bo, newId, newPublic, values);
  return { ok: true, record: { recId: newId, busObId: bo.busObId, publicId: newPublic, values }, fieldValidationErrors: [] };
}
