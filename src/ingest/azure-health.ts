/**
 * What Service Health and Resource Health events mean, shared by the common alert schema and the legacy
 * activity log webhook (both carry the same `properties`).
 */
import type { MonitorCondition } from '../core/alert.ts';
import type { Details } from './build.ts';
import type { Rec } from './json.ts';
import { pick, text } from './json.ts';

/** A Service Health event in one of these stages is over: the work item can resolve. */
export function serviceHealthCondition(stage: string | undefined, current: MonitorCondition): MonitorCondition {
  return stage && /^(resolved|complete|completed|canceled|cancelled|rca)$/i.test(stage) ? 'Resolved' : current;
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
