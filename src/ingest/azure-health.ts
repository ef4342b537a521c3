/**
 * What Service Health and Resource Health events mean, shared by the common alert schema and the legacy
 * activity log webhook (both carry the same `properties`).
 */
import type { MonitorCondition } from '../core/alert.ts';
import { htmlToText, type Details } from './build.ts';
import { parseTimestamp } from './dates.ts';
import type { Rec } from './json.ts';
import { pick, text } from './json.ts';

/**
 * Adds a Service Health event's facts to the details; returns its title, tracking id and the condition
 * its stage implies (resolved, complete, canceled or RCA = over, the work item can resolve).
 * The common schema also carries the impact times; the legacy webhook does not.
 */
export function serviceHealthFacts(
  props: Rec | undefined,
  details: Details,
  current: MonitorCondition,
  withImpactTimes: boolean,
): { title?: string; tracking?: string; condition: MonitorCondition } {
  const title = text(pick(props, 'title', 'defaultLanguageTitle'));
  const tracking = text(pick(props, 'trackingId'));
  const stage = text(pick(props, 'stage'));
  details.add('Title', title);
  details.add('Service', pick(props, 'service'));
  details.add('Region', pick(props, 'region'));
  details.add('Incident type', pick(props, 'incidentType'));
  details.add('Tracking id', tracking);
  details.add('Stage', stage);
  if (withImpactTimes) {
    details.add('Impact start', parseTimestamp(pick(props, 'impactStartTime')));
    details.add('Impact mitigated', parseTimestamp(pick(props, 'impactMitigationTime')));
  }
  const communication = text(pick(props, 'communication', 'defaultLanguageContent'));
  if (communication) details.add('Communication', htmlToText(communication));
  const over = stage && /^(resolved|complete|completed|canceled|cancelled|rca)$/i.test(stage);
  return { title, tracking, condition: over ? 'Resolved' : current };
}

/**
 * Adds a Resource Health event's facts to the details; returns its title and the condition it implies
 * (back to Available after not being Available = resolved).
 */
export function resourceHealthFacts(props: Rec | undefined, details: Details, current: MonitorCondition): { title?: string; condition: MonitorCondition } {
  const title = text(pick(props, 'title'));
  const now = text(pick(props, 'currentHealthStatus'));
  const before = text(pick(props, 'previousHealthStatus'));
  details.add('Title', title);
  details.add('Details', pick(props, 'details'));
  details.add('Current health status', now);
  details.add('Previous health status', before);
  details.add('Type', pick(props, 'type'));
  details.add('Cause', pick(props, 'cause'));
  const recovered = now?.toLowerCase() === 'available' && before?.toLowerCase() !== 'available';
  return { title, condition: recovered ? 'Resolved' : current };
}
