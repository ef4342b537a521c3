/**
 * Work item text: title, description, work notes and close notes for a work unit, fitted to the partner's field
 * limits (never cut inside a character; see text.ts). Pure functions of their inputs.
 */
import type { LogRow, NormalizedAlert } from '../core/alert.ts';
import { isResourceCiTarget, resourceName } from '../ingest/ci.ts';
import type { WorkUnit } from './work-unit.ts';
import { renderTemplate } from './placeholders.ts';
import type { FieldLimits } from '../partners/partner.ts';
import { cleanMultiline, oneLine, truncateText } from './text.ts';

export type { FieldLimits };

/**
 * Limits when no partner limits are passed (unit tests, partners still without researched lengths): a title of
 * 160 and 4000 for descriptions and notes, which every supported product accepts. Pass the partner's own.
 */
export const DEFAULT_FIELD_LIMITS: FieldLimits = { titleMax: 160, descriptionMax: 4000, noteMax: 4000, unit: 'utf16' };

/** Caps applied to single parts of a description before the whole is fitted. */
const QUERY_MAX = 1500;
const TEXT_MAX = 1500;
const LIST_MAX = 10;
const ROWS_MAX = 10;

function listSummary(items: string[], max = LIST_MAX): string {
  if (items.length <= max) return items.join(', ');
  return `${items.slice(0, max).join(', ')} (+${items.length - max} more)`;
}

/** What the work item is about, for the title: the unit's CI, else the alert's CIs, else its first target. */
function subject(unit: WorkUnit): string | undefined {
  if (unit.ci) return unit.ci;
  const cis = unit.cis.length ? unit.cis : unit.alert.configurationItems;
  if (cis.length === 1) return cis[0];
  if (cis.length > 1) return `${cis[0]} (+${cis.length - 1} more)`;
  const t = unit.alert.targets.find(isResourceCiTarget);
  return t ? resourceName(t) : undefined;
}

/**
 * `[Sev2] Low disk space on vm-sql-01` — severity, rule and what it is about (the CI; without one, the alert's
 * description: `[Sev4] Service health - West Europe: Virtual Machines - Connectivity issues`). One line, fitted
 * to titleMax.
 */
export function renderTitle(unit: WorkUnit, limits: FieldLimits = DEFAULT_FIELD_LIMITS): string {
  const a = unit.alert;
  const rule = oneLine(a.rule);
  const subj = subject(unit);
  let title = `[${a.severity}] ${rule}`;
  if (subj) {
    if (!rule.toLowerCase().includes(oneLine(subj).toLowerCase())) title += ` on ${oneLine(subj)}`;
  } else {
    const desc = oneLine(a.description.split('\n')[0] ?? '');
    if (desc && desc.toLowerCase() !== rule.toLowerCase()) title += `: ${desc}`;
  }
  return truncateText(title, limits.titleMax, limits.unit);
}

function rowText(row: LogRow): string[] {
  return Object.entries(row).map(([k, v]) => `${k}: ${v === null ? '' : String(v)}`);
}

function rowInline(row: LogRow): string {
  return Object.entries(row)
    .map(([k, v]) => `${k}=${v === null ? '' : String(v)}`)
    .join('; ');
}

const FAMILY_SIGNAL: Partial<Record<NormalizedAlert['family'], string>> = {
  'alertmanager-v4': 'Prometheus Alertmanager',
  'grafana-v1': 'Grafana',
};

/**
 * Description: rule, severity, condition, fired/resolved time, signal, CIs, targets, description, link; for log
 * search alerts the query, interval, result count and affected CIs — and in per-row mode that row (placed early
 * so it survives the cut) — then family details and labels. Fitted to descriptionMax.
 */
export function renderDescription(unit: WorkUnit, limits: FieldLimits = DEFAULT_FIELD_LIMITS): string {
  const a = unit.alert;
  const L: string[] = [];
  L.push(`Alert rule: ${oneLine(a.rule)}`);
  L.push(`Severity: ${a.severity}`);
  L.push(`Condition: ${a.monitorCondition}`);
  L.push(`Fired at (UTC): ${a.firedAt}`);
  if (a.resolvedAt) L.push(`Resolved at (UTC): ${a.resolvedAt}`);
  L.push(`Signal: ${FAMILY_SIGNAL[a.family] ?? a.signalType} (${a.family})`);
  const cis = unit.ci ? [unit.ci] : unit.cis;
  if (cis.length) L.push(`Configuration items: ${oneLine(listSummary(cis))}`);
  if (unit.row) {
    // Per-row mode: the row is what this work item is about; early, so that it survives the cut.
    L.push('', '<-- Log Entry -->', ...rowText(unit.row).map((l) => truncateText(oneLine(l), 500)), '');
  }
  if (a.targets.length) {
    L.push('Targets:');
    for (const t of a.targets.slice(0, LIST_MAX)) L.push(`- ${oneLine(t)}`);
    if (a.targets.length > LIST_MAX) L.push(`- … (+${a.targets.length - LIST_MAX} more)`);
  }
  if (a.description) L.push(`Description: ${truncateText(cleanMultiline(a.description), TEXT_MAX)}`);
  if (a.link) L.push(`Link: ${oneLine(a.link)}`);
  L.push(`Alert id: ${oneLine(a.alertId)}`);

  const ls = a.logSearch;
  if (ls) {
    L.push('');
    L.push(`Alert (alert rule name) : ${oneLine(a.rule)}`);
    if (ls.query) L.push(`Search Query : ${truncateText(cleanMultiline(ls.query), QUERY_MAX)}`);
    if (ls.windowStart) L.push(`Search Start Time(UTC) : ${ls.windowStart}`);
    if (ls.windowEnd) L.push(`Search End Time(UTC) : ${ls.windowEnd}`);
    if (ls.interval) L.push(`Search interval : ${oneLine(ls.interval)}`);
    if (ls.resultCount !== undefined) L.push(`Result count : ${ls.resultCount}`);
    L.push(`AffectedConfigurationItems : [${oneLine(listSummary(a.configurationItems, 50))}]`);
    if (ls.linkToResults && ls.linkToResults !== a.link) L.push(`Link to search results : ${oneLine(ls.linkToResults)}`);
    if (!unit.row && unit.rows.length) {
      const shown = unit.rows.slice(0, ROWS_MAX);
      L.push(
        `Results (${shown.length} of ${unit.rows.length}${ls.resultCount !== undefined && ls.resultCount > unit.rows.length ? `, ${ls.resultCount} in all` : ''}):`,
      );
      for (const r of shown) L.push(`- ${truncateText(oneLine(rowInline(r)), 500)}`);
    }
  }
  const details = a.details ?? [];
  if (details.length) {
    L.push('');
    for (const d of details) L.push(`${oneLine(d.label)}: ${truncateText(cleanMultiline(d.value), TEXT_MAX)}`);
  }
  const labels = Object.entries(a.labels);
  if (labels.length) L.push('', `Labels: ${truncateText(oneLine(labels.map(([k, v]) => `${k}=${v}`).join(', ')), TEXT_MAX)}`);
  return truncateText(L.join('\n'), limits.descriptionMax, limits.unit);
}

function fit(s: string, limits: FieldLimits): string {
  return truncateText(cleanMultiline(s), limits.noteMax, limits.unit);
}

function where(unit: WorkUnit): string {
  const s = subject(unit);
  return s ? ` on ${oneLine(s)}` : '';
}

export interface OccurrenceInfo {
  /** CIs this occurrence adds to the work item. */
  newCis: string[];
  /** Earlier occurrences folded into this note (coalesced under a storm). */
  folded: number;
  /** When the first folded occurrence arrived. */
  foldedSince?: string;
}

/** Work note for a new firing of the same dedup key (or a partial resolve while others still fire). */
export function renderOccurrenceNote(unit: WorkUnit, info: OccurrenceInfo, limits: FieldLimits = DEFAULT_FIELD_LIMITS): string {
  const a = unit.alert;
  const L: string[] = [];
  if (a.monitorCondition === 'Fired') L.push(`Alert fired again at ${a.firedAt} (${a.severity}): ${oneLine(a.rule)}${where(unit)}.`);
  else L.push(`Alert resolved at ${a.resolvedAt ?? a.firedAt}: ${oneLine(a.rule)}${where(unit)}.`);
  if (a.description) L.push(`Description: ${truncateText(oneLine(a.description), 500)}`);
  if (info.newCis.length) L.push(`New configuration items: ${oneLine(listSummary(info.newCis, 50))}`);
  if (unit.row) L.push(`Log entry: ${truncateText(oneLine(rowInline(unit.row)), 1000)}`);
  if (info.folded > 0)
    L.push(`${info.folded} further alert event${info.folded === 1 ? '' : 's'} since ${info.foldedSince ?? 'the last note'} folded into this note.`);
  L.push(`Alert id: ${oneLine(a.alertId)}`);
  if (a.link) L.push(`Link: ${oneLine(a.link)}`);
  return fit(L.join('\n'), limits);
}

/** Note when one alert of a group resolves while others still fire. */
export function renderPartialResolveNote(unit: WorkUnit, stillFiring: number, info: OccurrenceInfo, limits: FieldLimits = DEFAULT_FIELD_LIMITS): string {
  const base = renderOccurrenceNote(unit, info, { ...limits, noteMax: Number.MAX_SAFE_INTEGER });
  return fit(`${base}\n${stillFiring} alert${stillFiring === 1 ? '' : 's'} still firing for this work item; it stays open.`, limits);
}

/** Work note written when the work item is resolved (mode resolve) or only noted (mode note). */
export function renderResolveNote(
  unit: WorkUnit,
  mode: 'resolve' | 'note',
  info: { folded: number; foldedSince?: string },
  limits: FieldLimits = DEFAULT_FIELD_LIMITS,
): string {
  const a = unit.alert;
  const L = [`Alert resolved at ${a.resolvedAt ?? a.firedAt}: ${oneLine(a.rule)}${where(unit)}.`];
  L.push(
    mode === 'resolve'
      ? 'Resolved automatically by OpenITSMC because the alert condition cleared.'
      : 'The work item is left open (auto-resolve mode "note"); close it when done.',
  );
  if (info.folded > 0)
    L.push(`${info.folded} further alert event${info.folded === 1 ? '' : 's'} since ${info.foldedSince ?? 'the last note'} folded into this note.`);
  L.push(`Alert id: ${oneLine(a.alertId)}`);
  return fit(L.join('\n'), limits);
}

/** close_notes when resolving: the action's template (placeholders rendered) or a default text. */
export function renderCloseNotes(unit: WorkUnit, template: string | undefined, limits: FieldLimits = DEFAULT_FIELD_LIMITS): string {
  const a = unit.alert;
  const text = template
    ? renderTemplate(template, { alert: a, ci: unit.ci, row: unit.row })
    : `Alert "${oneLine(a.rule)}" resolved at ${a.resolvedAt ?? a.firedAt}; resolved automatically by OpenITSMC.`;
  return fit(text, limits);
}

/** Work note when a recently closed work item is reopened by a new firing. */
export function renderReopenNote(unit: WorkUnit, closedAt: string | undefined, newCis: string[], limits: FieldLimits = DEFAULT_FIELD_LIMITS): string {
  const a = unit.alert;
  const L = [
    `Reopened by OpenITSMC: the alert fired again at ${a.firedAt} (${a.severity}): ${oneLine(a.rule)}${where(unit)}` +
      (closedAt ? `, within the reopen window after closing at ${closedAt}.` : '.'),
  ];
  if (newCis.length) L.push(`New configuration items: ${oneLine(listSummary(newCis, 50))}`);
  L.push(`Alert id: ${oneLine(a.alertId)}`);
  if (a.link) L.push(`Link: ${oneLine(a.link)}`);
  return fit(L.join('\n'), limits);
}

/** Note that flushes occurrences coalesced since the last note (no new alert at hand). */
export function renderFoldedNote(
  pending: { count: number; since?: string; latest?: { alertId: string; condition: string; at: string } },
  limits: FieldLimits = DEFAULT_FIELD_LIMITS,
): string {
  const L = [`${pending.count} further alert event${pending.count === 1 ? '' : 's'}${pending.since ? ` since ${pending.since}` : ''}.`];
  if (pending.latest) L.push(`Latest: ${pending.latest.condition} at ${pending.latest.at} (alert id ${oneLine(pending.latest.alertId)}).`);
  return fit(L.join('\n'), limits);
}
