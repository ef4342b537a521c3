/**
 * Legacy activity log alert webhook (`schemaId: Microsoft.Insights/activityLogs`), including service health and
 * resource health events, which carry their details in `activityLog.properties`.
 * The payload names no alert rule: the rule is the event's `operationName` (service health: plus the tracking id,
 * so each service incident gets its own work item).
 */
import type { MonitorCondition, NormalizedAlert } from '../core/alert.ts';
import type { ParseContext } from './build.ts';
import { Details, httpLink, syntheticId } from './build.ts';
import { isResourceCiTarget, isResourceId, resourceName, UniqueList } from './ci.ts';
import { parseTimestamp } from './dates.ts';
import type { Probe } from './json.ts';
import { asRec, pick, str, stringMap, text, field } from './json.ts';
import { DEFAULT_SEVERITY, fromEventLevel } from './severity.ts';
import { resourceHealthFacts, serviceHealthFacts } from './azure-health.ts';

export const ACTIVITY_LOG_SCHEMA_ID = 'Microsoft.Insights/activityLogs';

export function parseLegacyActivityLog(body: unknown, p: Probe, ctx: ParseContext): NormalizedAlert[] {
  const root = p.obj(body, '$', 'a JSON object');
  const schemaId = pick(root, 'schemaId');
  if (text(schemaId)?.toLowerCase() !== ACTIVITY_LOG_SCHEMA_ID.toLowerCase()) p.fail('schemaId', `"${ACTIVITY_LOG_SCHEMA_ID}"`, schemaId);
  p.strong();
  const data = p.obj(field(root, 'data'), 'data');
  const context = p.obj(field(data, 'context'), 'data.context');
  const al = p.obj(field(context, 'activityLog'), 'data.context.activityLog');
  // Some events carry no operationName: the rule is then named by what they do carry.
  const operation = text(pick(al, 'operationName')) ?? text(pick(asRec(pick(al, 'authorization')), 'action'));
  const baseRule =
    operation ?? ([text(pick(al, 'eventSource')), text(pick(al, 'resourceType', 'resourceProviderName'))].filter(Boolean).join(' ') || undefined);
  if (baseRule === undefined)
    p.fail(
      'data.context.activityLog.operationName',
      'a non-empty string (or authorization.action or eventSource to name the rule by)',
      field(al, 'operationName'),
    );
  p.pass();
  const statusRaw = pick(data, 'status');
  let condition: MonitorCondition = 'Fired';
  if (statusRaw !== undefined) {
    const s = p.oneOf(statusRaw, 'data.status', ['Activated', 'Resolved', 'Fired'] as const);
    condition = s === 'Resolved' ? 'Resolved' : 'Fired';
  }

  const props = asRec(pick(al, 'properties'));
  const eventSource = text(pick(al, 'eventSource'))?.toLowerCase() ?? '';
  const opLower = operation?.toLowerCase() ?? '';
  const isServiceHealth = eventSource === 'servicehealth' || opLower.startsWith('microsoft.servicehealth/');
  const isResourceHealth = eventSource === 'resourcehealth' || opLower.startsWith('microsoft.resourcehealth/');

  const details = new Details();
  const targets = new UniqueList();
  const cis = new UniqueList();
  const rid = text(pick(al, 'resourceId'));
  if (rid) {
    targets.add(rid);
    if (isResourceCiTarget(rid)) cis.add(resourceName(rid));
    else if (!isResourceId(rid)) cis.add(rid);
  }
  let rule = baseRule;
  let description = str(pick(al, 'description'))?.trim() ?? '';
  let instanceKey: string | undefined;
  if (isServiceHealth) {
    const facts = serviceHealthFacts(props, details, condition, false);
    if (facts.tracking) {
      rule = `${baseRule} (${facts.tracking})`;
      instanceKey = `servicehealth:${facts.tracking.toLowerCase()}`;
    }
    if (!description && facts.title) description = facts.title;
    condition = facts.condition;
  } else if (isResourceHealth) {
    const facts = resourceHealthFacts(props, details, condition);
    if (!description && facts.title) description = facts.title;
    if (rid) instanceKey = `resourcehealth:${rid.toLowerCase()}`;
    condition = facts.condition;
  }
  details.add('Operation', operation);
  details.add('Status', [text(pick(al, 'status')), text(pick(al, 'subStatus'))].filter(Boolean).join(' / '));
  details.add('Caller', pick(al, 'caller'));
  details.add('Event source', pick(al, 'eventSource'));
  details.add('Level', pick(al, 'level'));
  details.add('Resource group', pick(al, 'resourceGroupName'));
  details.add('Resource type', pick(al, 'resourceType'));
  details.add('Correlation id', pick(al, 'correlationId'));
  details.add('Subscription', pick(al, 'subscriptionId'));

  const firedAt = parseTimestamp(pick(al, 'eventTimestamp')) ?? parseTimestamp(pick(al, 'submissionTimestamp')) ?? ctx.receivedAt;
  const link = rid && isResourceId(rid) ? httpLink(`https://portal.azure.com/#resource${rid}`) : undefined;
  const alert: NormalizedAlert = {
    family: 'azure-legacy-activitylog',
    alertId: text(pick(al, 'eventDataId')) ?? syntheticId('activity', [baseRule, text(pick(al, 'correlationId')), firedAt, rid, condition]),
    rule,
    severity: fromEventLevel(pick(al, 'level')) ?? DEFAULT_SEVERITY,
    signalType: isServiceHealth || isResourceHealth ? 'Health' : 'Activity Log',
    monitorCondition: condition,
    firedAt,
    ...(condition === 'Resolved' ? { resolvedAt: firedAt } : {}),
    targets: targets.items,
    configurationItems: cis.items,
    description,
    ...(link ? { link } : {}),
    labels: stringMap(pick(data, 'properties')),
    ...(instanceKey ? { instanceKey } : {}),
    details: details.items,
    raw: body,
  };
  return [alert];
}
