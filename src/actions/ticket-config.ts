/**
 * The ITSM action's `ticketConfiguration`: ITSMC's keys (`PayloadRevision`, `WorkItemType`, `UseTemplate`,
 * `TemplateName`, `WorkItemData`, `CreateOneWIPerCI`, `CreateOneWIPerLog`) plus ours (`autoResolve`,
 * `reopenWindow`, `severityMapping`, `noteCoalesceSeconds`).
 *
 * - `TicketConfigurationSchema` (TypeBox) is the wire shape the API validates.
 * - `validateTicketConfiguration` adds the checks that need the partner's configuration (templates, choice
 *   lists) and the placeholder grammar, with the valid alternatives in each problem.
 * - `normalizeTicketConfiguration` applies defaults and parses durations into what grouping/rendering use.
 */
import { Type, type Static } from 'typebox';
import type { AlertSeverity } from '../core/alert.ts';
import type { ChoiceEntry, PartnerConfiguration, WorkItemType } from '../partners/partner.ts';
import { tableMatchesTypeBySubstring, type ImpactUrgency, type PartnerDescriptor, type SeverityMapping } from '../partners/descriptor.ts';
import { checkTemplate } from './placeholders.ts';

export const WORK_ITEM_TYPES: readonly WorkItemType[] = ['Incident', 'Event', 'Alert'];
export const SEVERITIES: readonly AlertSeverity[] = ['Sev0', 'Sev1', 'Sev2', 'Sev3', 'Sev4'];

/** Longest value accepted for one WorkItemData field (before rendering). */
export const MAX_FIELD_VALUE = 8000;
export const MAX_WORK_ITEM_FIELDS = 100;
/** Upper bounds of our extensions. */
export const MAX_REOPEN_WINDOW_SECONDS = 90 * 86400;
export const MAX_NOTE_COALESCE_SECONDS = 86400;

const ImpactUrgencySchema = Type.Object(
  {
    impact: Type.String({ minLength: 1, maxLength: 40 }),
    urgency: Type.String({ minLength: 1, maxLength: 40 }),
  },
  { additionalProperties: false },
);

export const TicketConfigurationSchema = Type.Object(
  {
    PayloadRevision: Type.Optional(Type.Integer({ minimum: 0, maximum: 1000, default: 0 })),
    WorkItemType: Type.Union([Type.Literal('Incident'), Type.Literal('Event'), Type.Literal('Alert')]),
    UseTemplate: Type.Optional(Type.Boolean({ default: false })),
    TemplateName: Type.Optional(Type.String({ maxLength: 256 })),
    WorkItemData: Type.Optional(
      Type.Union([
        Type.Record(Type.String({ maxLength: 128 }), Type.String({ maxLength: MAX_FIELD_VALUE }), {
          maxProperties: MAX_WORK_ITEM_FIELDS,
        }),
        Type.String({ maxLength: 65536, description: 'ITSMC stored WorkItemData as a JSON string; accepted too' }),
      ]),
    ),
    CreateOneWIPerCI: Type.Optional(Type.Boolean({ default: false })),
    CreateOneWIPerLog: Type.Optional(Type.Boolean({ default: false })),
    autoResolve: Type.Optional(
      Type.Object(
        {
          mode: Type.Union([Type.Literal('resolve'), Type.Literal('note'), Type.Literal('none')], { default: 'resolve' }),
          state: Type.Optional(Type.String({ maxLength: 40 })),
          closeCode: Type.Optional(Type.String({ maxLength: 80 })),
          closeNotes: Type.Optional(Type.String({ maxLength: 4000 })),
        },
        { additionalProperties: false },
      ),
    ),
    reopenWindow: Type.Optional(
      Type.Union([
        Type.Integer({ minimum: 0, maximum: MAX_REOPEN_WINDOW_SECONDS, description: 'seconds' }),
        Type.String({ maxLength: 40, description: 'ISO 8601 duration (P1D, PT4H, PT30M) or seconds as text' }),
      ]),
    ),
    severityMapping: Type.Optional(
      Type.Object(
        {
          Sev0: Type.Optional(ImpactUrgencySchema),
          Sev1: Type.Optional(ImpactUrgencySchema),
          Sev2: Type.Optional(ImpactUrgencySchema),
          Sev3: Type.Optional(ImpactUrgencySchema),
          Sev4: Type.Optional(ImpactUrgencySchema),
        },
        { additionalProperties: false },
      ),
    ),
    noteCoalesceSeconds: Type.Optional(Type.Integer({ minimum: 0, maximum: MAX_NOTE_COALESCE_SECONDS, default: 60 })),
  },
  { additionalProperties: false, $id: 'TicketConfiguration' },
);

/** The ticketConfiguration as stored/sent (all our extensions optional). */
export type TicketConfigurationInput = Static<typeof TicketConfigurationSchema>;

export type AutoResolveMode = 'resolve' | 'note' | 'none';
export interface AutoResolve {
  mode: AutoResolveMode;
  state?: string;
  closeCode?: string;
  closeNotes?: string;
}
export type { ImpactUrgency, SeverityMapping };

/** What validation and normalization read of the partner's descriptor. */
export type PartnerRules = Pick<PartnerDescriptor, 'type' | 'workItemTypes' | 'configuration' | 'severity'>;

/** Default Sev → (impact, urgency) on ITIL's 1 High / 2 Medium / 3 Low scale, when no partner default is given. */
export const DEFAULT_SEVERITY_MAPPING: SeverityMapping = {
  Sev0: { impact: '1', urgency: '1' },
  Sev1: { impact: '1', urgency: '2' },
  Sev2: { impact: '2', urgency: '2' },
  Sev3: { impact: '2', urgency: '3' },
  Sev4: { impact: '3', urgency: '3' },
};

export const DEFAULT_NOTE_COALESCE_SECONDS = 60;

/** Normalized configuration, defaults applied: what grouping and rendering read. */
export interface TicketConfiguration {
  PayloadRevision: number;
  WorkItemType: WorkItemType;
  UseTemplate: boolean;
  TemplateName?: string;
  WorkItemData: Record<string, string>;
  CreateOneWIPerCI: boolean;
  CreateOneWIPerLog: boolean;
  autoResolve: AutoResolve;
  /** 0 = never reopen: a closed work item is followed by a new one. */
  reopenWindowSeconds: number;
  severityMapping: SeverityMapping;
  /** Whether the action set severityMapping itself (then it applies even with a template). */
  severityMappingExplicit: boolean;
  /** 0 = no coalescing: one note per occurrence. */
  noteCoalesceSeconds: number;
}

/**
 * Parse `reopenWindow`: seconds (number or digits) or an ISO 8601 duration with weeks, days, hours, minutes,
 * seconds (`P1D`, `PT4H`, `P1DT12H`, `PT90S`, `P2W`). Years and months are refused (ambiguous length).
 */
export function parseDurationSeconds(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) && v >= 0 ? Math.floor(v) : undefined;
  if (typeof v !== 'string') return undefined;
  const s = v.trim();
  if (/^\d{1,10}$/.test(s)) return Number(s);
  const m = /^P(?:(\d{1,6})W)?(?:(\d{1,6})D)?(?:T(?:(\d{1,7})H)?(?:(\d{1,9})M)?(?:(\d{1,10}(?:[.,]\d+)?)S)?)?$/i.exec(s);
  if (!m || s.toUpperCase() === 'P' || s.toUpperCase().endsWith('T')) return undefined;
  const [w, d, h, mi, sec] = [m[1], m[2], m[3], m[4], m[5]].map((x) => (x === undefined ? 0 : Number(x.replace(',', '.'))));
  return Math.floor(w * 604800 + d * 86400 + h * 3600 + mi * 60 + sec);
}

function parseWorkItemData(v: unknown): Record<string, string> | undefined {
  let obj: unknown = v;
  if (typeof v === 'string') {
    if (v.trim() === '') return {};
    try {
      obj = JSON.parse(v);
    } catch {
      return undefined;
    }
  }
  if (obj === undefined || obj === null) return {};
  if (typeof obj !== 'object' || Array.isArray(obj)) return undefined;
  const out: Record<string, string> = {};
  for (const [k, x] of Object.entries(obj as Record<string, unknown>)) {
    if (k === '__proto__' || k === 'constructor' || k === 'prototype') return undefined;
    if (typeof x === 'string') out[k] = x;
    else if (typeof x === 'number' || typeof x === 'boolean') out[k] = String(x);
    else return undefined;
  }
  return out;
}

function asObject(v: unknown): Record<string, unknown> | undefined {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
}

/**
 * Defaults applied, durations parsed, WorkItemData decoded. Lenient: a value that does not parse falls back to
 * its default (validate first to report it).
 */
export function normalizeTicketConfiguration(
  input: TicketConfigurationInput | Record<string, unknown>,
  partner?: Pick<PartnerRules, 'severity'>,
): TicketConfiguration {
  const i = input as Record<string, unknown>;
  const ar = asObject(i.autoResolve);
  const mode = ar?.mode === 'note' || ar?.mode === 'none' || ar?.mode === 'resolve' ? ar.mode : 'resolve';
  const sm = asObject(i.severityMapping);
  const mapping: SeverityMapping = { ...(partner?.severity.defaultMapping ?? DEFAULT_SEVERITY_MAPPING) };
  let explicit = false;
  for (const sev of SEVERITIES) {
    const e = asObject(sm?.[sev]);
    if (e && typeof e.impact === 'string' && typeof e.urgency === 'string') {
      mapping[sev] = { impact: e.impact, urgency: e.urgency };
      explicit = true;
    }
  }
  const coalesce = i.noteCoalesceSeconds;
  const type = WORK_ITEM_TYPES.includes(i.WorkItemType as WorkItemType) ? (i.WorkItemType as WorkItemType) : 'Incident';
  return {
    PayloadRevision: typeof i.PayloadRevision === 'number' ? i.PayloadRevision : 0,
    WorkItemType: type,
    UseTemplate: i.UseTemplate === true,
    ...(typeof i.TemplateName === 'string' && i.TemplateName.trim() !== '' ? { TemplateName: i.TemplateName.trim() } : {}),
    WorkItemData: parseWorkItemData(i.WorkItemData) ?? {},
    CreateOneWIPerCI: i.CreateOneWIPerCI === true,
    CreateOneWIPerLog: i.CreateOneWIPerLog === true,
    autoResolve: {
      mode,
      ...(typeof ar?.state === 'string' && ar.state !== '' ? { state: ar.state } : {}),
      ...(typeof ar?.closeCode === 'string' && ar.closeCode !== '' ? { closeCode: ar.closeCode } : {}),
      ...(typeof ar?.closeNotes === 'string' && ar.closeNotes !== '' ? { closeNotes: ar.closeNotes } : {}),
    },
    reopenWindowSeconds: Math.min(parseDurationSeconds(i.reopenWindow) ?? 0, MAX_REOPEN_WINDOW_SECONDS),
    severityMapping: mapping,
    severityMappingExplicit: explicit,
    noteCoalesceSeconds:
      typeof coalesce === 'number' && Number.isInteger(coalesce) && coalesce >= 0
        ? Math.min(coalesce, MAX_NOTE_COALESCE_SECONDS)
        : DEFAULT_NOTE_COALESCE_SECONDS,
  };
}

export interface ConfigProblem {
  /** Dotted path into ticketConfiguration (`WorkItemData.impact`, `autoResolve.closeCode`). */
  path: string;
  message: string;
  /** The valid values, when there is a closed set. */
  allowed?: string[];
}

/** Choice entries of `field` for the tables of `type`. */
export function choicesFor(pc: PartnerConfiguration, type: WorkItemType, field: string, matches = tableMatchesTypeBySubstring): ChoiceEntry[] {
  const f = field.toLowerCase();
  return pc.choices.filter((c) => c.field.toLowerCase() === f && matches(c.table, type));
}

/**
 * A WorkItemData field the partner's table does not have (a typo such as `categroy`) is refused, with the fields
 * the configuration sync found. Events are exempt: their unknown fields travel in additional_info. Returns true
 * when refused.
 */
function checkFieldName(
  problems: ConfigProblem[],
  pc: PartnerConfiguration,
  type: WorkItemType,
  field: string,
  path: string,
  matches: PartnerRules['configuration']['tableMatchesType'],
): boolean {
  if (type === 'Event') return false;
  const tables = (pc.fields ?? []).filter((t) => matches(t.table, type));
  if (tables.length === 0) return false; // not synced (yet), or the partner does not show its fields
  const known = [...new Set(tables.flatMap((t) => t.fields))].sort();
  const name = field.split('.')[0].toLowerCase();
  if (known.some((k) => k.toLowerCase() === name)) return false;
  const near = closest(name, known);
  problems.push({
    path,
    message: `${tables.map((t) => t.table).join('/')} has no field "${field}"${near ? `; did you mean "${near}"?` : ''} Fields: ${known.join(', ')}`,
    allowed: known,
  });
  return true;
}

/** The known name within two edits of `name` (a typo), if any. */
function closest(name: string, known: string[]): string | undefined {
  let best: { k: string; d: number } | undefined;
  for (const k of known) {
    const d = editDistance(name, k.toLowerCase(), 2);
    if (d <= 2 && (!best || d < best.d)) best = { k, d };
  }
  return best?.k;
}

/** Damerau–Levenshtein distance (adjacent swaps count one), stopping early past `max`. */
function editDistance(a: string, b: string, max: number): number {
  if (Math.abs(a.length - b.length) > max) return max + 1;
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.length][b.length];
}

function checkChoice(
  problems: ConfigProblem[],
  pc: PartnerConfiguration,
  type: WorkItemType,
  field: string,
  value: string,
  path: string,
  matches: PartnerRules['configuration']['tableMatchesType'],
): void {
  const choices = choicesFor(pc, type, field, matches);
  if (choices.length === 0) return; // free text, or the partner has no list for it
  if (choices.some((c) => c.value === value)) return;
  const allowed = [...new Set(choices.map((c) => c.value))];
  const byLabel = choices.find((c) => c.label.toLowerCase() === value.trim().toLowerCase());
  const listed = choices.map((c) => `${c.value} (${c.label})`).join(', ');
  problems.push({
    path,
    message: byLabel
      ? `"${value}" is the label of ${field} value "${byLabel.value}"; use the value. Valid: ${listed}`
      : `"${value}" is not a valid ${field}. Valid: ${listed}`,
    allowed,
  });
}

function checkPlaceholders(problems: ConfigProblem[], value: string, path: string, perLog: boolean): void {
  for (const p of checkTemplate(value, { perLog })) {
    problems.push({ path, message: `${p.message}; valid placeholders: ${p.allowed.map((a) => `{{${a}}}`).join(', ')}`, allowed: p.allowed });
  }
}

/**
 * Every problem with a ticketConfiguration, against the partner's synced configuration. Empty list = valid.
 * Structural problems (types, unknown keys) are reported too, so this can run on raw input.
 */
export function validateTicketConfiguration(cfg: unknown, partnerConfig: PartnerConfiguration, options: { partner?: PartnerRules } = {}): ConfigProblem[] {
  const matches = options.partner?.configuration.tableMatchesType ?? tableMatchesTypeBySubstring;
  const problems: ConfigProblem[] = [];
  const c = asObject(cfg);
  if (!c) return [{ path: '', message: 'ticketConfiguration must be an object' }];

  const known = new Set(Object.keys(TicketConfigurationSchema.properties));
  for (const k of Object.keys(c)) {
    if (!known.has(k)) problems.push({ path: k, message: `unknown key "${k}"`, allowed: [...known] });
  }

  // WorkItemType
  const allowedTypes = options.partner?.workItemTypes ?? WORK_ITEM_TYPES;
  let type: WorkItemType = 'Incident';
  if (typeof c.WorkItemType !== 'string' || !WORK_ITEM_TYPES.includes(c.WorkItemType as WorkItemType)) {
    problems.push({ path: 'WorkItemType', message: `WorkItemType must be one of ${allowedTypes.join(', ')}`, allowed: [...allowedTypes] });
  } else {
    type = c.WorkItemType as WorkItemType;
    if (!allowedTypes.includes(type))
      problems.push({
        path: 'WorkItemType',
        message: `${options.partner?.type} connections create ${allowedTypes.join(', ')} only, not ${type}`,
        allowed: [...allowedTypes],
      });
  }

  if (c.PayloadRevision !== undefined && !(typeof c.PayloadRevision === 'number' && Number.isInteger(c.PayloadRevision) && c.PayloadRevision >= 0))
    problems.push({ path: 'PayloadRevision', message: 'PayloadRevision must be a non-negative integer' });
  for (const k of ['UseTemplate', 'CreateOneWIPerCI', 'CreateOneWIPerLog'] as const) {
    if (c[k] !== undefined && typeof c[k] !== 'boolean') problems.push({ path: k, message: `${k} must be true or false` });
  }
  if (c.CreateOneWIPerCI === true && c.CreateOneWIPerLog === true)
    problems.push({
      path: 'CreateOneWIPerLog',
      message: 'CreateOneWIPerCI and CreateOneWIPerLog are alternatives (one work item per CI, or per log row); set only one',
    });
  const perLog = c.CreateOneWIPerLog === true;

  // Template
  const templatesForType = partnerConfig.templates.filter((t) => matches(t.table, type));
  if (c.UseTemplate === true) {
    const name = typeof c.TemplateName === 'string' ? c.TemplateName.trim() : '';
    const names = templatesForType.map((t) => t.name);
    if (name === '') {
      problems.push({
        path: 'TemplateName',
        message: `UseTemplate is set but TemplateName is empty; templates for ${type}: ${names.join(', ') || '(none synced)'}`,
        allowed: names,
      });
    } else if (!templatesForType.some((t) => t.name === name)) {
      const other = partnerConfig.templates.find((t) => t.name === name);
      const ci = templatesForType.find((t) => t.name.toLowerCase() === name.toLowerCase());
      problems.push({
        path: 'TemplateName',
        message: other
          ? `template "${name}" is for table ${other.table}, not ${type}; templates for ${type}: ${names.join(', ') || '(none)'}`
          : ci
            ? `unknown template "${name}" (did you mean "${ci.name}"?); templates for ${type}: ${names.join(', ')}`
            : `unknown template "${name}"; templates for ${type}: ${names.join(', ') || '(none synced)'}`,
        allowed: names,
      });
    }
  } else if (c.TemplateName !== undefined && typeof c.TemplateName !== 'string') {
    problems.push({ path: 'TemplateName', message: 'TemplateName must be a string' });
  }

  // WorkItemData
  if (c.WorkItemData !== undefined) {
    const data = parseWorkItemData(c.WorkItemData);
    if (!data) {
      problems.push({ path: 'WorkItemData', message: 'WorkItemData must be an object (or a JSON object string) of field → text value' });
    } else {
      const keys = Object.keys(data);
      if (keys.length > MAX_WORK_ITEM_FIELDS) problems.push({ path: 'WorkItemData', message: `at most ${MAX_WORK_ITEM_FIELDS} fields` });
      for (const [field, value] of Object.entries(data)) {
        const path = `WorkItemData.${field}`;
        if (!/^[A-Za-z_][A-Za-z0-9_.]{0,127}$/.test(field)) {
          problems.push({ path, message: `"${field}" is not a valid field name` });
          continue;
        }
        if (checkFieldName(problems, partnerConfig, type, field, path, matches)) continue;
        if (value.length > MAX_FIELD_VALUE) problems.push({ path, message: `value longer than ${MAX_FIELD_VALUE} characters` });
        if (/\{\{/.test(value)) checkPlaceholders(problems, value, path, perLog);
        else checkChoice(problems, partnerConfig, type, field, value, path, matches);
      }
    }
  }

  // autoResolve
  if (c.autoResolve !== undefined) {
    const ar = asObject(c.autoResolve);
    if (!ar) problems.push({ path: 'autoResolve', message: 'autoResolve must be an object {mode, state?, closeCode?, closeNotes?}' });
    else {
      for (const k of Object.keys(ar))
        if (!['mode', 'state', 'closeCode', 'closeNotes'].includes(k))
          problems.push({ path: `autoResolve.${k}`, message: `unknown key "${k}"`, allowed: ['mode', 'state', 'closeCode', 'closeNotes'] });
      if (ar.mode !== undefined && !['resolve', 'note', 'none'].includes(ar.mode as string))
        problems.push({ path: 'autoResolve.mode', message: 'mode must be resolve, note or none', allowed: ['resolve', 'note', 'none'] });
      for (const [k, field] of [
        ['state', 'state'],
        ['closeCode', 'close_code'],
      ] as const) {
        const v = ar[k];
        if (v === undefined) continue;
        if (typeof v !== 'string') problems.push({ path: `autoResolve.${k}`, message: `${k} must be a string` });
        else checkChoice(problems, partnerConfig, type, field, v, `autoResolve.${k}`, matches);
      }
      if (ar.closeNotes !== undefined) {
        if (typeof ar.closeNotes !== 'string') problems.push({ path: 'autoResolve.closeNotes', message: 'closeNotes must be a string' });
        else checkPlaceholders(problems, ar.closeNotes, 'autoResolve.closeNotes', perLog);
      }
    }
  }

  // reopenWindow
  if (c.reopenWindow !== undefined) {
    const s = parseDurationSeconds(c.reopenWindow);
    if (s === undefined)
      problems.push({ path: 'reopenWindow', message: 'reopenWindow must be seconds or an ISO 8601 duration such as PT4H, P1D, P1DT12H (no years or months)' });
    else if (s > MAX_REOPEN_WINDOW_SECONDS)
      problems.push({ path: 'reopenWindow', message: `reopenWindow is at most ${MAX_REOPEN_WINDOW_SECONDS} seconds (90 days)` });
  }

  // severityMapping
  if (c.severityMapping !== undefined) {
    const sm = asObject(c.severityMapping);
    if (!sm) problems.push({ path: 'severityMapping', message: 'severityMapping must be an object Sev0..Sev4 → {impact, urgency}' });
    else {
      for (const [sev, entry] of Object.entries(sm)) {
        const path = `severityMapping.${sev}`;
        if (!(SEVERITIES as readonly string[]).includes(sev)) {
          problems.push({ path, message: `unknown severity "${sev}"`, allowed: [...SEVERITIES] });
          continue;
        }
        const e = asObject(entry);
        if (!e) {
          problems.push({ path, message: 'must be {impact, urgency}' });
          continue;
        }
        for (const k of ['impact', 'urgency'] as const) {
          if (typeof e[k] !== 'string' || e[k] === '') problems.push({ path: `${path}.${k}`, message: `${k} must be a non-empty string` });
          else if (type === 'Incident') checkChoice(problems, partnerConfig, type, k, e[k] as string, `${path}.${k}`, matches);
        }
        for (const k of Object.keys(e))
          if (k !== 'impact' && k !== 'urgency') problems.push({ path: `${path}.${k}`, message: `unknown key "${k}"`, allowed: ['impact', 'urgency'] });
      }
    }
  }

  // noteCoalesceSeconds
  if (c.noteCoalesceSeconds !== undefined) {
    const n = c.noteCoalesceSeconds;
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n > MAX_NOTE_COALESCE_SECONDS)
      problems.push({ path: 'noteCoalesceSeconds', message: `noteCoalesceSeconds must be an integer from 0 to ${MAX_NOTE_COALESCE_SECONDS}` });
  }
  return problems;
}
