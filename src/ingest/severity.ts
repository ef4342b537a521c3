/**
 * Severity normalization to Azure Monitor's Sev0 (critical) … Sev4 (verbose).
 *
 * | input (case-insensitive, trimmed)                                              | result |
 * |--------------------------------------------------------------------------------|--------|
 * | `Sev0`, `0`, `critical`, `crit`, `fatal`, `emergency`, `emerg`, `alert`, `page`, `disaster`, `p0`, `p1` | Sev0 |
 * | `Sev1`, `1`, `error`, `err`, `high`, `major`, `severe`, `p2`                    | Sev1 |
 * | `Sev2`, `2`, `warning`, `warn`, `medium`, `moderate`, `minor`, `average`, `p3`  | Sev2 |
 * | `Sev3`, `3`, `informational`, `information`, `info`, `notice`, `low`, `p4`      | Sev3 |
 * | `Sev4`, `4`, `verbose`, `debug`, `trace`, `none`, `ok`, `p5`, `planning`        | Sev4 |
 * | anything else or missing                                                        | the family's default (Sev3) |
 *
 * Numbers 0–4 (and `"Sev 2"`, `"sev-2"`) are Azure's scale. Alertmanager and Grafana read the `severity` label,
 * then `priority`. Azure activity log `level` names use the same words; numeric activity log levels follow the
 * EventLevel enum (1 Critical, 2 Error, 3 Warning, 4 Informational, 5 Verbose) — see `fromEventLevel`.
 */
import type { AlertSeverity } from '../core/alert.ts';
import type { Probe } from './json.ts';

export const DEFAULT_SEVERITY: AlertSeverity = 'Sev3';

const WORDS: Record<string, AlertSeverity> = {
  critical: 'Sev0',
  crit: 'Sev0',
  fatal: 'Sev0',
  emergency: 'Sev0',
  emerg: 'Sev0',
  alert: 'Sev0',
  page: 'Sev0',
  disaster: 'Sev0',
  p0: 'Sev0',
  p1: 'Sev0',
  error: 'Sev1',
  err: 'Sev1',
  high: 'Sev1',
  major: 'Sev1',
  severe: 'Sev1',
  p2: 'Sev1',
  warning: 'Sev2',
  warn: 'Sev2',
  medium: 'Sev2',
  moderate: 'Sev2',
  minor: 'Sev2',
  average: 'Sev2',
  p3: 'Sev2',
  informational: 'Sev3',
  information: 'Sev3',
  info: 'Sev3',
  notice: 'Sev3',
  low: 'Sev3',
  p4: 'Sev3',
  verbose: 'Sev4',
  debug: 'Sev4',
  trace: 'Sev4',
  none: 'Sev4',
  ok: 'Sev4',
  p5: 'Sev4',
  planning: 'Sev4',
};

const SEVS: readonly AlertSeverity[] = ['Sev0', 'Sev1', 'Sev2', 'Sev3', 'Sev4'];

/** Normalize a severity value (see the table above); undefined when it is not recognised. */
export function toSeverity(v: unknown): AlertSeverity | undefined {
  if (typeof v === 'number') return Number.isInteger(v) && v >= 0 && v <= 4 ? SEVS[v] : undefined;
  if (typeof v !== 'string') return undefined;
  const s = v.trim().toLowerCase();
  if (s.length > 32) return undefined;
  const m = /^(?:sev(?:erity)?[\s_-]?)?([0-4])$/.exec(s);
  if (m) return SEVS[Number(m[1])];
  return Object.hasOwn(WORDS, s) ? WORDS[s] : undefined;
}

/** Activity log `level`: names as in the table; numbers are the EventLevel enum (1 Critical … 5 Verbose). */
export function fromEventLevel(v: unknown): AlertSeverity | undefined {
  const n = typeof v === 'number' ? v : typeof v === 'string' && /^\s*\d\s*$/.test(v) ? Number(v) : undefined;
  if (n !== undefined) {
    // 0 is LogAlways (no severity meaning) → undefined, so the caller's default applies.
    return n >= 1 && n <= 5 ? SEVS[n - 1] : undefined;
  }
  return toSeverity(v);
}

/**
 * An Azure payload's severity field: absent → undefined (the caller's default); a value that is not Sev0–Sev4
 * (or a word from the table) refuses the payload, naming the field.
 */
export function azureSeverity(p: Probe, v: unknown, path: string): AlertSeverity | undefined {
  if (v === undefined || v === null || v === '') return undefined;
  return toSeverity(v) ?? p.fail(path, 'one of "Sev0".."Sev4"', v);
}

export function isSeverity(v: unknown): v is AlertSeverity {
  return typeof v === 'string' && (SEVS as readonly string[]).includes(v);
}

export const ALL_SEVERITIES = SEVS;
