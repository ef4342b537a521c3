/**
 * Payload family auto-detection. Every shape parser is tried in order until one accepts the body; when none
 * does, IngestError lists the shapes tried and the mismatch of the shape that got furthest. The only exception
 * that ever leaves parseAlertPayload is IngestError, whatever the input (hostile keys, deep nesting, huge
 * strings, wrong types, throwing getters).
 */
import type { NormalizedAlert } from '../core/alert.ts';
import type { ParseContext } from './build.ts';
import { parseAlertmanager, parseGrafana } from './alertmanager.ts';
import { parseAzureCommon } from './azure-common.ts';
import { parseLegacyActivityLog } from './azure-legacy-activitylog.ts';
import { parseLegacyLogAnalytics } from './azure-legacy-loganalytics.ts';
import { parseClassicMetric, parseMetricV2 } from './azure-metric-legacy.ts';
import type { IngestMismatch } from './errors.ts';
import { IngestError, ShapeMismatch } from './errors.ts';
import { Probe, STRONG_MATCH } from './json.ts';

export interface PayloadShape {
  /** Name reported in `shapesTried`. */
  name: string;
  /** Families this shape yields. */
  families: NormalizedAlert['family'][];
  parse(body: unknown, p: Probe, ctx: ParseContext): NormalizedAlert[];
}

export const PAYLOAD_SHAPES: readonly PayloadShape[] = [
  {
    name: 'azure-common',
    families: [
      'azure-common-metric',
      'azure-common-logsearch',
      'azure-common-activitylog',
      'azure-common-servicehealth',
      'azure-common-resourcehealth',
      'azure-common-other',
    ],
    parse: parseAzureCommon,
  },
  { name: 'azure-metric-v2', families: ['azure-metric-v2'], parse: parseMetricV2 },
  { name: 'azure-legacy-activitylog', families: ['azure-legacy-activitylog'], parse: parseLegacyActivityLog },
  { name: 'azure-legacy-loganalytics', families: ['azure-legacy-loganalytics'], parse: parseLegacyLogAnalytics },
  { name: 'azure-classic-metric', families: ['azure-classic-metric'], parse: parseClassicMetric },
  { name: 'alertmanager-v4', families: ['alertmanager-v4'], parse: parseAlertmanager },
  { name: 'grafana-v1', families: ['grafana-v1'], parse: parseGrafana },
];

export interface ParseOptions {
  /** When the request arrived, ISO 8601; used only when a payload carries no usable time. Default: now. */
  receivedAt?: string;
}

/**
 * Parse a webhook body (already JSON-decoded) into normalized alerts. Alertmanager/Grafana yield one alert per
 * element of `alerts` (possibly none); every other family yields exactly one. Log search rows are not split
 * here (the action layer does that with CreateOneWIPerLog).
 * @throws IngestError when the body matches no known shape.
 */
export function parseAlertPayload(body: unknown, options: ParseOptions = {}): NormalizedAlert[] {
  const shapesTried: string[] = [];
  const mismatches: Array<IngestMismatch & { score: number }> = [];
  let receivedAt: string;
  try {
    const t = options.receivedAt ? new Date(options.receivedAt) : new Date();
    receivedAt = Number.isNaN(t.getTime()) ? new Date().toISOString() : t.toISOString();
  } catch {
    receivedAt = new Date().toISOString();
  }
  const ctx: ParseContext = { receivedAt };
  for (const shape of PAYLOAD_SHAPES) {
    shapesTried.push(shape.name);
    const probe = new Probe();
    try {
      return shape.parse(body, probe, ctx);
    } catch (e) {
      if (e instanceof ShapeMismatch) {
        mismatches.push({ shape: shape.name, path: e.path, expected: e.expected, actual: e.actual, score: e.score });
      } else {
        // Not a shape problem but something the input provoked (a throwing getter, a stack overflow …).
        mismatches.push({
          shape: shape.name,
          path: '$',
          expected: 'a JSON value that can be read',
          actual: 'unreadable (reading it threw)',
          score: probe.score,
        });
      }
    }
  }
  let best = mismatches[0];
  for (const m of mismatches) if (m.score > best.score) best = m;
  const strip = ({ shape, path, expected, actual }: IngestMismatch & { score: number }): IngestMismatch => ({
    shape,
    path,
    expected,
    actual,
  });
  const firstMismatch = strip(best);
  // A shape recognised by its markers (schemaId, version …) is that shape with one bad field: say only that.
  const message =
    best.score >= STRONG_MATCH
      ? `${firstMismatch.shape} alert refused at ${firstMismatch.path}: expected ${firstMismatch.expected}, found ${firstMismatch.actual}`
      : `payload matches no known alert schema (tried ${shapesTried.join(', ')}); ` +
        `closest: ${firstMismatch.shape} at ${firstMismatch.path}: expected ${firstMismatch.expected}, found ${firstMismatch.actual}`;
  throw new IngestError(message, { shapesTried, firstMismatch, mismatches: mismatches.map(strip) });
}

/** Which shape name a body would be parsed as, or undefined. Never throws. */
export function detectShape(body: unknown): string | undefined {
  for (const shape of PAYLOAD_SHAPES) {
    try {
      shape.parse(body, new Probe(), { receivedAt: '1970-01-01T00:00:00.000Z' });
      return shape.name;
    } catch {
      // next
    }
  }
  return undefined;
}
