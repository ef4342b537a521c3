/**
 * `{{…}}` placeholders in WorkItemData values and close notes, e.g. `{{alert.rule}}`, `{{alert.targets[0]}}`,
 * `{{alert.labels.team}}`, `{{alert.labels["app.kubernetes.io/name"]}}`, `{{row.Computer}}`.
 *
 * Safe by construction: a placeholder is parsed against a fixed grammar and looked up in a fixed table — no
 * expression evaluation, no property walk on objects (labels and rows are read with Object.hasOwn, and
 * `__proto__`/`constructor`/`prototype` are refused). Substituted values are never re-scanned, so an alert
 * cannot inject placeholders. Unknown placeholders are a validation error at configuration time and render as
 * "" at run time.
 */
import type { LogRow, NormalizedAlert } from '../core/alert.ts';

/** Every placeholder form, for error messages and the action editor. */
export const PLACEHOLDERS: readonly string[] = [
  'alert.rule',
  'alert.severity',
  'alert.monitorCondition',
  'alert.signalType',
  'alert.family',
  'alert.alertId',
  'alert.groupKey',
  'alert.firedAt',
  'alert.resolvedAt',
  'alert.description',
  'alert.link',
  'alert.targets',
  'alert.targets[N]',
  'alert.configurationItems',
  'alert.configurationItems[N]',
  'alert.labels',
  'alert.labels.NAME',
  'alert.logSearch.query',
  'alert.logSearch.interval',
  'alert.logSearch.linkToResults',
  'alert.logSearch.windowStart',
  'alert.logSearch.windowEnd',
  'alert.logSearch.resultCount',
  'unit.ci',
  'row.COLUMN (CreateOneWIPerLog only)',
];

const SCALAR_FIELDS = [
  'rule',
  'severity',
  'monitorCondition',
  'signalType',
  'family',
  'alertId',
  'groupKey',
  'firedAt',
  'resolvedAt',
  'description',
  'link',
] as const;
type ScalarField = (typeof SCALAR_FIELDS)[number];
const LIST_FIELDS = ['targets', 'configurationItems'] as const;
type ListField = (typeof LIST_FIELDS)[number];
const LOG_FIELDS = ['query', 'interval', 'linkToResults', 'windowStart', 'windowEnd', 'resultCount'] as const;
type LogField = (typeof LOG_FIELDS)[number];

export type Placeholder =
  | { kind: 'scalar'; field: ScalarField }
  | { kind: 'list'; field: ListField; index?: number }
  | { kind: 'labels' }
  | { kind: 'label'; name: string }
  | { kind: 'logSearch'; field: LogField }
  | { kind: 'unitCi' }
  | { kind: 'row'; column: string };

const FORBIDDEN = new Set(['__proto__', 'constructor', 'prototype']);

type Segment = { name: string } | { index: number };

/** `alert.labels["x"][0].y` → segments; undefined when it is not a path. */
function segments(expr: string): Segment[] | undefined {
  const out: Segment[] = [];
  const re = /^(?:\.?([A-Za-z0-9_$@-]+)|\[(\d{1,6})\]|\[\s*"([^"\]]*)"\s*\]|\[\s*'([^'\]]*)'\s*\])/;
  let rest = expr;
  let first = true;
  while (rest.length > 0) {
    if (first && rest.startsWith('.')) return undefined;
    const m = re.exec(rest);
    if (!m || m[0].length === 0) return undefined;
    if (!first && m[1] !== undefined && !m[0].startsWith('.')) return undefined;
    if (m[1] !== undefined) out.push({ name: m[1] });
    else if (m[2] !== undefined) out.push({ index: Number(m[2]) });
    else out.push({ name: m[3] ?? m[4] ?? '' });
    rest = rest.slice(m[0].length);
    first = false;
  }
  return out;
}

function isName(s: Segment | undefined, name?: string): s is { name: string } {
  return s !== undefined && 'name' in s && (name === undefined || s.name === name);
}

/** Parse the inside of `{{ … }}`. */
export function parsePlaceholder(raw: string): { ok: true; placeholder: Placeholder } | { ok: false; message: string } {
  const expr = raw.trim();
  const segs = segments(expr);
  if (!segs || segs.length === 0) return { ok: false, message: `"{{${raw}}}" is not a placeholder path` };
  if (segs.some((s) => 'name' in s && FORBIDDEN.has(s.name))) return { ok: false, message: `"{{${expr}}}" uses a forbidden name` };
  const [root, a, b, ...more] = segs;
  const unknown = { ok: false as const, message: `unknown placeholder "{{${expr}}}"` };
  if (isName(root, 'alert')) {
    if (!isName(a)) return unknown;
    if ((SCALAR_FIELDS as readonly string[]).includes(a.name)) {
      return b === undefined ? { ok: true, placeholder: { kind: 'scalar', field: a.name as ScalarField } } : unknown;
    }
    if ((LIST_FIELDS as readonly string[]).includes(a.name)) {
      if (b === undefined) return { ok: true, placeholder: { kind: 'list', field: a.name as ListField } };
      if ('index' in b && more.length === 0) return { ok: true, placeholder: { kind: 'list', field: a.name as ListField, index: b.index } };
      return unknown;
    }
    if (a.name === 'labels') {
      if (b === undefined) return { ok: true, placeholder: { kind: 'labels' } };
      if (isName(b) && more.length === 0) return { ok: true, placeholder: { kind: 'label', name: b.name } };
      return unknown;
    }
    if (a.name === 'logSearch') {
      if (isName(b) && more.length === 0 && (LOG_FIELDS as readonly string[]).includes(b.name))
        return { ok: true, placeholder: { kind: 'logSearch', field: b.name as LogField } };
      return unknown;
    }
    return unknown;
  }
  if (isName(root, 'unit') && isName(a, 'ci') && b === undefined) return { ok: true, placeholder: { kind: 'unitCi' } };
  if (isName(root, 'row') && isName(a) && b === undefined) return { ok: true, placeholder: { kind: 'row', column: a.name } };
  return unknown;
}

/** What a placeholder can read when rendered. */
export interface PlaceholderScope {
  alert: NormalizedAlert;
  /** The CI of the work unit (CreateOneWIPerCI / per-log row CI). */
  ci?: string;
  /** The log row of the work unit (CreateOneWIPerLog). */
  row?: LogRow;
}

function scalarText(v: unknown): string {
  if (v === undefined || v === null) return '';
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return '';
}

/** The text a placeholder stands for in `scope` ("" when it has no value). */
export function resolvePlaceholder(p: Placeholder, scope: PlaceholderScope): string {
  const a = scope.alert;
  switch (p.kind) {
    case 'scalar':
      return scalarText(a[p.field]);
    case 'list': {
      const list = a[p.field] ?? [];
      if (p.index === undefined) return list.join(', ');
      return p.index < list.length ? list[p.index] : '';
    }
    case 'labels':
      return Object.entries(a.labels ?? {})
        .map(([k, v]) => `${k}=${v}`)
        .join(', ');
    case 'label':
      return a.labels && Object.hasOwn(a.labels, p.name) ? scalarText(a.labels[p.name]) : '';
    case 'logSearch':
      return scalarText(a.logSearch?.[p.field]);
    case 'unitCi':
      return scope.ci ?? '';
    case 'row': {
      const row = scope.row;
      if (!row) return '';
      if (Object.hasOwn(row, p.column)) return scalarText(row[p.column]);
      const lower = p.column.toLowerCase();
      const key = Object.keys(row).find((k) => k.toLowerCase() === lower);
      return key === undefined ? '' : scalarText(row[key]);
    }
  }
}

const PLACEHOLDER_RE = /\{\{([^{}]{0,300})\}\}/g;

/** Render every `{{…}}` in `template`; unknown or malformed placeholders become "". */
export function renderTemplate(template: string, scope: PlaceholderScope): string {
  return template.replace(PLACEHOLDER_RE, (_m, inner: string) => {
    const parsed = parsePlaceholder(inner);
    return parsed.ok ? resolvePlaceholder(parsed.placeholder, scope) : '';
  });
}

export interface PlaceholderProblem {
  placeholder: string;
  message: string;
  allowed: string[];
}

/**
 * Check every placeholder in a template. `perLog`: whether `{{row.…}}` is available (CreateOneWIPerLog).
 * A `{{` that never closes is reported too.
 */
export function checkTemplate(template: string, opts: { perLog: boolean }): PlaceholderProblem[] {
  const problems: PlaceholderProblem[] = [];
  const allowed = [...PLACEHOLDERS];
  for (const m of template.matchAll(PLACEHOLDER_RE)) {
    const parsed = parsePlaceholder(m[1]);
    if (!parsed.ok) problems.push({ placeholder: m[0], message: parsed.message, allowed });
    else if (parsed.placeholder.kind === 'row' && !opts.perLog)
      problems.push({
        placeholder: m[0],
        message: `"${m[0]}" needs CreateOneWIPerLog (one work item per log row)`,
        allowed: allowed.filter((x) => !x.startsWith('row.')),
      });
  }
  const stripped = template.replace(PLACEHOLDER_RE, '');
  if (stripped.includes('{{')) {
    const at = stripped.indexOf('{{');
    problems.push({
      placeholder: stripped.slice(at, at + 40),
      message: 'unterminated or malformed placeholder (expected {{alert.…}})',
      allowed,
    });
  }
  return problems;
}

/** Whether a value contains any placeholder. */
export function hasPlaceholder(s: string): boolean {
  return /\{\{[^{}]{0,300}\}\}/.test(s);
}
