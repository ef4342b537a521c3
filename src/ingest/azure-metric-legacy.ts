/**
 * The two non-common Azure metric alert webhooks:
 * - classic metric alerts: `{status, context:{timestamp, id, name, condition{…}, resourceId, portalLink…}, properties}`
 *   with no schemaId;
 * - the newer metric alert schema: `{"schemaId":"AzureMonitorMetricAlert","data":{version, status, context{…
 *   severity, condition{windowSize, allOf[]}}, properties}}`.
 * Neither carries an alert instance id: the id is derived from (rule id, resource, status, timestamp) so that a
 * redelivery has the same id, and `instanceKey` = rule id + resource ties Activated to Resolved.
 */
import type { MonitorCondition, NormalizedAlert, PayloadFamily } from '../core/alert.ts';
import type { ParseContext } from './build.ts';
import { Details, httpLink, syntheticId } from './build.ts';
import { metricCriteria } from './azure-common.ts';
import { isResourceId, resourceName, UniqueList } from './ci.ts';
import { parseTimestamp } from './dates.ts';
import type { Probe, Rec } from './json.ts';
import { asRec, pick, str, stringMap, text, field } from './json.ts';
import { azureSeverity, DEFAULT_SEVERITY, toSeverity } from './severity.ts';

export const METRIC_V2_SCHEMA_ID = 'AzureMonitorMetricAlert';

function build(
  family: PayloadFamily,
  body: unknown,
  status: string,
  context: Rec,
  rule: string,
  ctx: ParseContext,
  details: Details,
  labels: Record<string, string>,
): NormalizedAlert {
  const condition: MonitorCondition = status === 'Activated' ? 'Fired' : 'Resolved';
  const ruleId = text(pick(context, 'id')) ?? rule;
  const rid = text(pick(context, 'resourceId'));
  const targets = new UniqueList();
  const cis = new UniqueList();
  if (rid) {
    targets.add(rid);
    cis.add(isResourceId(rid) ? resourceName(rid) : rid);
  } else cis.add(text(pick(context, 'resourceName')));
  details.add('Resource group', pick(context, 'resourceGroupName'));
  details.add('Resource type', pick(context, 'resourceType'));
  details.add('Region', pick(context, 'resourceRegion'));
  details.add('Subscription', pick(context, 'subscriptionId'));
  details.add('Alert rule id', pick(context, 'id'));
  const stamp = parseTimestamp(pick(context, 'timestamp'));
  const at = stamp ?? ctx.receivedAt;
  const link = httpLink(pick(context, 'portalLink')) ?? (rid && isResourceId(rid) ? httpLink(`https://portal.azure.com/#resource${rid}`) : undefined);
  return {
    family,
    alertId: syntheticId(family === 'azure-metric-v2' ? 'metric' : 'classic', [ruleId, rid, condition, stamp]),
    rule,
    severity: toSeverity(pick(context, 'severity')) ?? DEFAULT_SEVERITY,
    signalType: 'Metric',
    monitorCondition: condition,
    firedAt: at,
    ...(condition === 'Resolved' ? { resolvedAt: at } : {}),
    targets: targets.items,
    configurationItems: cis.items,
    description: str(pick(context, 'description'))?.trim() ?? '',
    ...(link ? { link } : {}),
    labels,
    instanceKey: `${family === 'azure-metric-v2' ? 'metric' : 'classic'}:${ruleId.toLowerCase()}|${(rid ?? '').toLowerCase()}`,
    details: details.items,
    raw: body,
  };
}

export function parseClassicMetric(body: unknown, p: Probe, ctx: ParseContext): NormalizedAlert[] {
  const root = p.obj(body, '$', 'a JSON object');
  const schemaId = pick(root, 'schemaId');
  if (schemaId !== undefined) p.fail('schemaId', 'absent (classic metric alerts have no schemaId)', schemaId);
  const context = p.obj(field(root, 'context'), 'context');
  const status = p.oneOf(field(root, 'status'), 'status', ['Activated', 'Resolved'] as const);
  p.strong();
  const rule = p.str(field(context, 'name'), 'context.name');
  azureSeverity(p, pick(context, 'severity'), 'context.severity');
  const cond = asRec(pick(context, 'condition'));
  const details = new Details();
  const conditionType = text(pick(context, 'conditionType'));
  if (cond) {
    const name = text(pick(cond, 'metricName', 'eventName'));
    const unit = text(pick(cond, 'metricUnit'));
    const window = text(pick(cond, 'windowSize'));
    const parts = [
      name,
      text(pick(cond, 'timeAggregation')),
      text(pick(cond, 'operator')),
      [text(pick(cond, 'threshold')), unit].filter(Boolean).join(' '),
      window ? `over ${window}${/^\d+$/.test(window) ? ' min' : ''}` : undefined,
    ].filter(Boolean);
    let line = parts.join(' ');
    const value = str(pick(cond, 'metricValue'));
    if (value !== undefined) line += `; value ${value}${unit ? ` ${unit}` : ''}`;
    details.add('Criterion', line);
  }
  details.add('Condition type', conditionType);
  return [build('azure-classic-metric', body, status, context, rule, ctx, details, stringMap(pick(root, 'properties')))];
}

export function parseMetricV2(body: unknown, p: Probe, ctx: ParseContext): NormalizedAlert[] {
  const root = p.obj(body, '$', 'a JSON object');
  const schemaId = pick(root, 'schemaId');
  if (text(schemaId)?.toLowerCase() !== METRIC_V2_SCHEMA_ID.toLowerCase()) p.fail('schemaId', `"${METRIC_V2_SCHEMA_ID}"`, schemaId);
  p.strong();
  const data = p.obj(field(root, 'data'), 'data');
  const status = p.oneOf(field(data, 'status'), 'data.status', ['Activated', 'Resolved', 'Deactivated'] as const);
  const context = p.obj(field(data, 'context'), 'data.context');
  const rule = p.str(field(context, 'name'), 'data.context.name');
  azureSeverity(p, pick(context, 'severity'), 'data.context.severity');
  const details = new Details();
  const labels = stringMap(pick(data, 'properties'));
  metricCriteria(asRec(pick(context, 'condition')), details, labels);
  details.add('Condition type', pick(context, 'conditionType'));
  return [build('azure-metric-v2', body, status, context, rule, ctx, details, labels)];
}
