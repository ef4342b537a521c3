/**
 * What a create or update body means for a row: property values checked against their types, lookups set
 * through `<navigation>@odata.bind`, platform columns stamped, and the state rules Dataverse enforces for
 * cases (Resolved only through CloseIncident, status reasons belonging to their state, inactive cases
 * read-only until reactivated). Provance's change state drives the change request's statecode.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { CHANGE_CLOSED_STATES, NAMES } from '../../partners/provance/mapping.ts';
import { CODE, DvError, isoSeconds, normaliseDate, normaliseGuid } from './odata.ts';
import type { AttrDef, EntityMeta } from './schema.ts';
import { defaultStatus, navigation } from './schema.ts';
import type { ProvanceStore, Row } from './store.ts';

export interface WriteContext {
  store: ProvanceStore;
  /** systemuserid of the caller. */
  userId: string;
  nowMs: number;
}

export interface SandboxRules {
  /** A case needs a customer (customerid) on create. Dataverse's own case form requires one; unverified for Provance. */
  caseCustomerRequired: boolean;
}

export const DEFAULT_RULES: SandboxRules = { caseCustomerRequired: false };

const notExist = (entity: string, id: string): DvError => new DvError(404, CODE.recordNotFound, `Entity '${entity}' With Id = ${id} Does Not Exist`);

/** `/accounts(guid)`, `accounts(guid)` or an absolute URL ending so → [set, id]. */
export function parseEntityReference(ref: unknown): { set: string; id: string } | undefined {
  if (typeof ref !== 'string') return undefined;
  const m = /(?:^|\/)([A-Za-z_][A-Za-z0-9_]*)\(([^)]+)\)\/?$/.exec(ref.trim());
  const id = m ? normaliseGuid(m[2]) : undefined;
  return m && id ? { set: m[1], id } : undefined;
}

function invalidProperty(meta: EntityMeta, name: string): DvError {
  return new DvError(
    400,
    CODE.syntax,
    `The property '${name}' does not exist on type 'Microsoft.Dynamics.CRM.${meta.logical}'. Make sure to only use property names that are defined by the type.`,
  );
}

function typed(meta: EntityMeta, a: AttrDef, v: unknown): unknown {
  if (v === null) return null;
  const wrong = (): DvError =>
    new DvError(
      400,
      CODE.syntax,
      `Cannot convert the literal '${JSON.stringify(v)}' to the expected type '${a.type}' of property '${a.name}' on 'Microsoft.Dynamics.CRM.${meta.logical}'.`,
    );
  switch (a.type) {
    case 'String':
    case 'Memo':
      if (typeof v !== 'string') throw wrong();
      if (a.maxLength !== undefined && v.length > a.maxLength) {
        throw new DvError(
          400,
          CODE.tooLong,
          `A validation error occurred. The length of the '${a.name}' attribute of the '${meta.logical}' entity exceeded the maximum allowed length of '${a.maxLength}'.`,
        );
      }
      return v;
    case 'Picklist':
    case 'State':
    case 'Status':
      if (typeof v !== 'number' || !Number.isInteger(v)) throw wrong();
      if (a.options && !(v in a.options)) {
        throw new DvError(
          400,
          CODE.outOfRange,
          `A validation error occurred. The value ${v} of '${a.name}' on record of type '${meta.logical}' is outside the valid range. Accepted Values: ${Object.keys(a.options).join(',')}`,
        );
      }
      return v;
    case 'Integer':
      if (typeof v !== 'number' || !Number.isInteger(v)) throw wrong();
      return v;
    case 'Boolean':
      if (typeof v !== 'boolean') throw wrong();
      return v ? 1 : 0;
    case 'DateTime': {
      const d = typeof v === 'string' ? normaliseDate(v) : undefined;
      if (!d) throw wrong();
      return d;
    }
    case 'Uniqueidentifier': {
      const g = typeof v === 'string' ? normaliseGuid(v) : undefined;
      if (!g) throw wrong();
      return g;
    }
    case 'Lookup':
      throw invalidProperty(meta, a.name);
  }
}

/** Turns a request body into column changes (no platform columns yet). */
export function bodyToChanges(ctx: WriteContext, meta: EntityMeta, body: Record<string, unknown>): Row {
  const changes: Row = {};
  for (const [key, value] of Object.entries(body)) {
    if (key.startsWith('@odata.')) continue;
    const at = key.indexOf('@');
    if (at >= 0) {
      if (key.slice(at) !== '@odata.bind') continue;
      const nav = key.slice(0, at);
      const target = navigation(meta, nav);
      if (!target) throw invalidProperty(meta, nav);
      if (value === null) {
        changes[target.attr.name] = null;
        continue;
      }
      const ref = parseEntityReference(value);
      const targetMeta = ctx.store.byLogical.get(target.entity)!;
      if (!ref || ref.set !== targetMeta.set) {
        throw new DvError(
          400,
          CODE.syntax,
          `The value '${String(value)}' of '${key}' is not a reference to a ${target.entity} record such as '/${targetMeta.set}(00000000-0000-0000-0000-000000000000)'.`,
        );
      }
      if (!ctx.store.get(targetMeta, ref.id)) throw notExist(target.entity, ref.id);
      changes[target.attr.name] = ref.id;
      if (target.attr.targets!.length > 1) changes[`${target.attr.name}_type`] = target.entity;
      continue;
    }
    const a = meta.attr.get(key);
    if (!a || a.type === 'Lookup') throw invalidProperty(meta, key);
    if (a.readOnly) continue; // Dataverse ignores columns that are not valid for create/update.
    changes[a.name] = typed(meta, a, value);
  }
  return changes;
}

function autonumber(ctx: WriteContext, meta: EntityMeta): string {
  const n = ctx.store.nextCounter(`autonumber:${meta.logical}`, 1000);
  const seq = String(n).padStart(5, '0');
  if (meta.logical !== NAMES.incident.entity) return `${meta.autonumber!.prefix}${seq}`;
  const A = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789';
  const suffix = [...randomBytes(6)].map((b) => A[b % A.length]).join('');
  return `${meta.autonumber!.prefix}${seq}-${suffix}`;
}

function statusLabel(meta: EntityMeta, state: number): string {
  return meta.attrs.find((a) => a.type === 'State')?.options?.[state] ?? String(state);
}

/** Keeps statecode and statuscode consistent (Dataverse rejects a status reason of another state). */
function reconcileState(meta: EntityMeta, current: Row | undefined, changes: Row, id: string): void {
  const status = meta.attrs.find((a) => a.type === 'Status');
  if (!status?.statusState || !meta.attr.has('statecode')) return;
  const state = (changes.statecode ?? current?.statecode ?? 0) as number;
  if (changes.statuscode !== undefined && changes.statuscode !== null) {
    const belongs = status.statusState[changes.statuscode as number];
    if (belongs !== state) {
      throw new DvError(
        400,
        CODE.invalidArgument,
        `${String(changes.statuscode)} is not a valid status code for state code ${meta.logical}State.${statusLabel(meta, state)} on ${meta.logical} with Id ${id}.`,
      );
    }
  } else if (changes.statecode !== undefined && changes.statecode !== current?.statecode) {
    changes.statuscode = defaultStatus(meta, state) ?? null;
  }
}

function incidentRules(ctx: WriteContext, meta: EntityMeta, current: Row | undefined, changes: Row, rules: SandboxRules, viaCloseIncident: boolean): void {
  const I = NAMES.incident;
  if (!current) {
    changes[I.state] ??= 0;
    changes[I.priority] ??= 2;
    changes.severitycode ??= 1;
    changes[I.escalated] ??= 0;
    if (rules.caseCustomerRequired && !changes.customerid) {
      throw new DvError(400, CODE.invalidArgument, 'You should specify a parent contact or account.');
    }
  }
  const newState = changes[I.state] as number | undefined;
  const oldState = (current?.[I.state] as number | undefined) ?? 0;
  if (newState === 1 && oldState !== 1 && !viaCloseIncident) {
    throw new DvError(
      400,
      CODE.invalidArgument,
      'This message can not be used to set the state of incident to Resolved. In order to set state of incident to Resolved, use the CloseIncidentRequest message instead.',
    );
  }
  if (current && oldState !== 0 && (newState === undefined || newState === oldState) && Object.keys(changes).length > 0) {
    throw new DvError(
      400,
      CODE.invalidArgument,
      `The ${meta.logical} with Id ${String(current[meta.primaryId])} is not active: reactivate it (statecode 0) before changing it.`,
    );
  }
  if (newState === 0 && oldState !== 0) changes[I.resolvedOn] = null;
}

function changeRequestRules(changes: Row, current: Row | undefined, nowMs: number): void {
  const C = NAMES.change;
  const cs = changes[C.changeState] as number | undefined;
  if (!current) changes[C.changeState] ??= 100000000;
  if (cs === undefined) return;
  const closed = CHANGE_CLOSED_STATES.includes(cs);
  changes.statecode = closed ? 1 : 0;
  changes.statuscode = closed ? 2 : 1;
  changes[C.closedOn] = closed ? (current?.[C.closedOn] ?? isoSeconds(nowMs)) : null;
}

/** Creates a row from a body; returns its id. */
export function createRow(ctx: WriteContext, meta: EntityMeta, body: Record<string, unknown>, rules: SandboxRules, presetId?: string): string {
  const changes = bodyToChanges(ctx, meta, body);
  const id = presetId ?? (changes[meta.primaryId] as string | undefined) ?? randomUUID();
  if (ctx.store.get(meta, id)) throw new DvError(412, CODE.duplicate, 'A record with matching key values already exists.');
  changes[meta.primaryId] = id;
  if (meta.logical === NAMES.incident.entity) incidentRules(ctx, meta, undefined, changes, rules, false);
  if (meta.logical === NAMES.change.entity) changeRequestRules(changes, undefined, ctx.nowMs);
  if (meta.attr.has('statecode')) changes.statecode ??= 0;
  reconcileState(meta, undefined, changes, id);
  if (meta.autonumber) changes[meta.autonumber.column] = autonumber(ctx, meta);
  if (meta.attr.has('ownerid')) changes.ownerid ??= ctx.userId;
  const now = isoSeconds(ctx.nowMs);
  Object.assign(changes, {
    createdon: now,
    modifiedon: now,
    createdby: ctx.userId,
    modifiedby: ctx.userId,
    versionnumber: ctx.store.nextCounter('version', 1000),
  });
  ctx.store.insert(meta, changes);
  return id;
}

/** Applies an update body to an existing row. */
export function updateRow(ctx: WriteContext, meta: EntityMeta, id: string, body: Record<string, unknown>, rules: SandboxRules, viaCloseIncident = false): void {
  const current = ctx.store.get(meta, id);
  if (!current) throw notExist(meta.logical, id);
  const changes = bodyToChanges(ctx, meta, body);
  delete changes[meta.primaryId];
  if (meta.logical === NAMES.incident.entity) incidentRules(ctx, meta, current, changes, rules, viaCloseIncident);
  if (meta.logical === NAMES.change.entity) changeRequestRules(changes, current, ctx.nowMs);
  reconcileState(meta, current, changes, id);
  Object.assign(changes, { modifiedon: isoSeconds(ctx.nowMs), modifiedby: ctx.userId, versionnumber: ctx.store.nextCounter('version', 1000) });
  ctx.store.update(meta, id, changes);
}

/** The CloseIncident action: an incidentresolution activity plus the case set to Resolved. */
export function closeIncident(ctx: WriteContext, body: Record<string, unknown>, rules: SandboxRules): void {
  const resolution = body.IncidentResolution;
  const status = body.Status;
  if (!resolution || typeof resolution !== 'object' || Array.isArray(resolution)) {
    throw new DvError(400, CODE.syntax, "CloseIncident needs the parameter 'IncidentResolution' (an incidentresolution object).");
  }
  if (typeof status !== 'number' || !Number.isInteger(status))
    throw new DvError(400, CODE.syntax, "CloseIncident needs the parameter 'Status' (an integer status reason).");
  const incidents = ctx.store.byLogical.get(NAMES.incident.entity)!;
  const ref = parseEntityReference((resolution as Record<string, unknown>)['incidentid@odata.bind']);
  if (!ref || ref.set !== incidents.set)
    throw new DvError(400, CODE.syntax, "IncidentResolution needs 'incidentid@odata.bind' referring to the case, e.g. '/incidents(<id>)'.");
  const incident = ctx.store.get(incidents, ref.id);
  if (!incident) throw notExist(incidents.logical, ref.id);
  if (incident[NAMES.incident.state] !== 0) throw new DvError(400, CODE.invalidArgument, `The case with Id ${ref.id} is not active and cannot be resolved.`);
  const resolutions = ctx.store.byLogical.get('incidentresolution')!;
  createRow(ctx, resolutions, { ...(resolution as Record<string, unknown>), statecode: 1, statuscode: 2 }, rules);
  updateRow(ctx, incidents, ref.id, { [NAMES.incident.state]: 1, [NAMES.incident.status]: status }, rules, true);
  const now = isoSeconds(ctx.nowMs);
  ctx.store.update(incidents, ref.id, { [NAMES.incident.resolvedOn]: now });
}
