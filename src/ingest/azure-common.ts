/**
 * Azure Monitor common alert schema (`schemaId: azureMonitorCommonAlertSchema`): metric, log search (V1 with
 * embedded search results, V2 `LogQueryCriteria`), activity log, service health, resource health, and any other
 * monitoring service (parsed from essentials only).
 */
import type { LogRow, MonitorCondition, NormalizedAlert, PayloadFamily } from '../core/alert.ts';
import type { ParseContext } from './build.ts';
import { compact, Details, httpLink, minutesToDuration, syntheticId } from './build.ts';
import { ciName, ciOfRow, isResourceCiTarget, isResourceId, resourceIdsOfRow, resourceName, UniqueList } from './ci.ts';
import { parseTimestamp } from './dates.ts';
import type { Probe, Rec } from './json.ts';
import { arr, asRec, num, pick, str, stringMap, strList, text, field } from './json.ts';
import { parseSearchResults } from './log-results.ts';
import { resourceHealthFacts, serviceHealthFacts } from './azure-health.ts';
import { azureSeverity, DEFAULT_SEVERITY, fromEventLevel, toSeverity } from './severity.ts';

export const COMMON_SCHEMA_ID = 'azureMonitorCommonAlertSchema';

/** `[{name, value}]` dimensions → pairs. */
export function dimensionPairs(v: unknown): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (const d of arr(v) ?? []) {
    const r = asRec(d);
    const n = text(pick(r, 'name'));
    const val = str(pick(r, 'value'));
    if (n !== undefined && val !== undefined) out.push([n, val]);
  }
  return out;
}

const CI_DIMENSIONS = ['computer', '_resourceid', 'resourceid', 'resource'];

/** CIs and resource ids from dimensions named Computer/_ResourceId/ResourceId/Resource. */
export function cisFromDimensions(pairs: Array<[string, string]>, cis: UniqueList, targets: UniqueList): void {
  for (const want of CI_DIMENSIONS) {
    for (const [n, v] of pairs) {
      if (n.toLowerCase() !== want || v.trim() === '') continue;
      if (isResourceId(v)) targets.add(v);
      cis.add(ciName(v));
    }
  }
}

/** Rows' CIs (Computer, _ResourceId, ResourceId, Resource) into the CI and target lists. */
export function cisFromRows(rows: LogRow[], cis: UniqueList, targets: UniqueList): void {
  for (const row of rows) {
    const ci = ciOfRow(row);
    if (!ci) continue;
    cis.add(ci.name);
    for (const id of resourceIdsOfRow(row)) targets.add(id);
  }
}

function familyOf(ms: string, signal: string, actx: Rec | undefined): PayloadFamily {
  const cond = asRec(pick(actx, 'condition'));
  const first = asRec((arr(pick(cond, 'allOf')) ?? [])[0]);
  const eventSource = text(pick(actx, 'eventSource'))?.toLowerCase();
  const op = text(pick(actx, 'operationName'))?.toLowerCase() ?? '';
  if (ms === 'servicehealth' || ms === 'service health' || eventSource === 'servicehealth' || op.startsWith('microsoft.servicehealth/'))
    return 'azure-common-servicehealth';
  if (ms === 'resource health' || ms === 'resourcehealth' || eventSource === 'resourcehealth' || op.startsWith('microsoft.resourcehealth/'))
    return 'azure-common-resourcehealth';
  if (ms.startsWith('activity log') || signal === 'activity log') return 'azure-common-activitylog';
  if (
    ms === 'log alerts v2' ||
    ms === 'log analytics' ||
    pick(actx, 'SearchQuery') !== undefined ||
    pick(first, 'searchQuery') !== undefined ||
    text(pick(actx, 'conditionType'))?.toLowerCase() === 'logquerycriteria'
  )
    return 'azure-common-logsearch';
  if (signal === 'metric' || pick(first, 'metricName') !== undefined) return 'azure-common-metric';
  return 'azure-common-other';
}

const SIGNAL: Record<PayloadFamily, NormalizedAlert['signalType'] | undefined> = {
  'azure-common-metric': 'Metric',
  'azure-common-logsearch': 'Log',
  'azure-common-activitylog': 'Activity Log',
  'azure-common-servicehealth': 'Health',
  'azure-common-resourcehealth': 'Health',
  'azure-common-budget': 'Unknown',
  'azure-common-other': undefined,
  'azure-budget-notification': 'Unknown',
  'azure-legacy-loganalytics': 'Log',
  'azure-classic-metric': 'Metric',
  'azure-legacy-activitylog': 'Activity Log',
  'azure-metric-v2': 'Metric',
  'alertmanager-v4': 'Unknown',
  'grafana-v1': 'Unknown',
};

function signalOf(family: PayloadFamily, raw: string): NormalizedAlert['signalType'] {
  const s = SIGNAL[family];
  if (s) return s;
  if (raw === 'metric') return 'Metric';
  if (raw === 'log') return 'Log';
  if (raw === 'activity log') return 'Activity Log';
  return 'Unknown';
}

/** Metric criteria (`condition.allOf[]`) as details; dimensions as labels. */
export function metricCriteria(cond: Rec | undefined, details: Details, labels: Record<string, string>): void {
  const window = text(pick(cond, 'windowSize'));
  const all = arr(pick(cond, 'allOf')) ?? [];
  all.slice(0, 50).forEach((c, i) => {
    const r = asRec(c);
    if (!r) return;
    const name = text(pick(r, 'metricName', 'webTestName', 'name')) ?? `criterion ${i + 1}`;
    const ns = text(pick(r, 'metricNamespace'));
    const agg = text(pick(r, 'timeAggregation'));
    const op = text(pick(r, 'operator'));
    const thr = text(pick(r, 'threshold'));
    const sens = text(pick(r, 'alertSensitivity'));
    const value = str(pick(r, 'metricValue'));
    const parts = [`${name}${ns ? ` (${ns})` : ''}`];
    if (agg) parts.push(agg);
    if (op) parts.push(op);
    if (thr) parts.push(thr);
    else if (sens) parts.push(`dynamic threshold, sensitivity ${sens}`);
    if (window) parts.push(`over ${window}`);
    let line = parts.join(' ');
    if (value !== undefined) line += `; value ${value}`;
    details.add(all.length > 1 ? `Criterion ${i + 1}` : 'Criterion', line);
    for (const [n, v] of dimensionPairs(pick(r, 'dimensions'))) if (!Object.hasOwn(labels, n)) labels[n] = v;
  });
  if (all.length === 0 && window) details.add('Window size', window);
}

/**
 * The rule's name: `alertRule`, or — where Azure sends it null, as for budget alerts — the budget name,
 * the activity log operation, or the monitoring service with the alert's own name.
 */
function ruleOf(ess: Rec, actx: Rec | undefined, budget: Rec | undefined): string | undefined {
  const named = text(pick(ess, 'alertRule')) ?? text(pick(budget, 'BudgetName')) ?? text(pick(actx, 'operationName'));
  if (named) return named;
  const service = text(pick(ess, 'monitoringService'));
  const alertName = text(pick(ess, 'alertId'))?.split('/').pop();
  return service && alertName ? `${service} ${alertName}` : service;
}

/** The amounts of a cost budget alert (`alertContext.AlertData`) as details. */
function budgetFacts(data: Rec | undefined, details: Details): void {
  const unit = text(pick(data, 'Unit'));
  const amount = (v: unknown) => (text(v) && unit && !/[^\d.,\s-]/.test(text(v)!) ? `${text(v)} ${unit}` : v);
  details.add('Budget', pick(data, 'BudgetName'));
  details.add('Threshold type', pick(data, 'ThresholdType'));
  details.add('Budget type', pick(data, 'BudgetType'));
  details.add('Budget amount', amount(pick(data, 'BudgetThreshold')));
  details.add('Notification threshold', amount(pick(data, 'NotificationThresholdAmount')));
  details.add('Spent', amount(pick(data, 'SpentAmount')));
  details.add('Forecast for the period', amount(pick(data, 'ForecastedTotalForPeriod')));
  details.add('Scope', pick(data, 'Scope'));
  details.add('Budget start', pick(data, 'BudgetStartDate'));
  details.add('Budget created by', pick(data, 'BudgetCreator'));
}

export function parseAzureCommon(body: unknown, p: Probe, ctx: ParseContext): NormalizedAlert[] {
  const root = p.obj(body, '$', 'a JSON object');
  const schemaId = pick(root, 'schemaId');
  if (text(schemaId)?.toLowerCase() !== COMMON_SCHEMA_ID.toLowerCase()) p.fail('schemaId', `"${COMMON_SCHEMA_ID}"`, schemaId);
  p.strong();
  const data = p.obj(field(root, 'data'), 'data');
  const ess = p.obj(field(data, 'essentials'), 'data.essentials');
  const actx = asRec(pick(data, 'alertContext'));
  const budget = asRec(pick(actx, 'AlertData'));
  const rule = ruleOf(ess, actx, budget);
  if (rule === undefined)
    p.fail(
      'data.essentials.alertRule',
      'a non-empty string (or a budget name, operation name or monitoring service to name the rule by)',
      field(ess, 'alertRule'),
    );
  p.pass();
  // Budget alerts (and other services) send monitorCondition null: a notification that something happened.
  const condRaw = pick(ess, 'monitorCondition');
  let condition: MonitorCondition = condRaw === undefined ? 'Fired' : p.oneOf(condRaw, 'data.essentials.monitorCondition', ['Fired', 'Resolved'] as const);
  const sevRaw = pick(ess, 'severity');
  azureSeverity(p, sevRaw, 'data.essentials.severity');

  const ms = text(pick(ess, 'monitoringService'))?.toLowerCase() ?? '';
  const signalRaw = text(pick(ess, 'signalType'))?.toLowerCase() ?? '';
  const family = ms === 'costalerts' || text(pick(actx, 'AlertCategory'))?.toLowerCase() === 'budgets' ? 'azure-common-budget' : familyOf(ms, signalRaw, actx);
  const details = new Details();
  const targets = new UniqueList();
  const cis = new UniqueList();
  targets.addAll(strList(pick(ess, 'alertTargetIDs', 'alertTargetIds')));
  // A budget alert lists the word "budgets" as its configuration item: not a CI.
  if (family !== 'azure-common-budget') cis.addAll(strList(pick(ess, 'configurationItems')).map(ciName));

  const labels: Record<string, string> = {};
  stringMap(pick(data, 'customProperties'), labels);
  stringMap(pick(root, 'customProperties'), labels);

  const cond = asRec(pick(actx, 'condition'));
  const windowStart = parseTimestamp(pick(cond, 'windowStartTime'));
  const windowEnd = parseTimestamp(pick(cond, 'windowEndTime'));
  let severity = toSeverity(sevRaw);
  let description = str(pick(ess, 'description'))?.trim() ?? '';
  let link: string | undefined;
  let instanceKey: string | undefined;
  let logSearch: NormalizedAlert['logSearch'];
  let eventTime: string | undefined;

  switch (family) {
    case 'azure-common-metric': {
      metricCriteria(cond, details, labels);
      details.add('Condition type', pick(actx, 'conditionType'));
      if (windowStart || windowEnd) details.add('Evaluation window', `${windowStart ?? '?'} – ${windowEnd ?? '?'}`);
      break;
    }
    case 'azure-common-logsearch': {
      if (pick(actx, 'SearchQuery') !== undefined) {
        // V1 (Log Analytics / Application Insights, older API)
        const res = parseSearchResults(pick(actx, 'SearchResults', 'SearchResult'));
        const rows = res?.rows ?? [];
        cis.addAll(strList(pick(actx, 'AffectedConfigurationItems')).map(ciName));
        cisFromRows(rows, cis, targets);
        const dims = dimensionPairs(pick(actx, 'Dimensions'));
        cisFromDimensions(dims, cis, targets);
        for (const [n, v] of dims) if (!Object.hasOwn(labels, n)) labels[n] = v;
        logSearch = {
          query: str(pick(actx, 'SearchQuery')),
          interval: minutesToDuration(pick(actx, 'SearchIntervalInMinutes')) ?? minutesToDuration(pick(actx, 'SearchIntervalDurationMin')),
          rows,
          linkToResults: httpLink(pick(actx, 'LinkToFilteredSearchResultsUI')) ?? httpLink(pick(actx, 'LinkToSearchResults')),
          windowStart: parseTimestamp(pick(actx, 'SearchIntervalStartTimeUtc')),
          windowEnd: parseTimestamp(pick(actx, 'SearchIntervalEndtimeUtc', 'SearchIntervalEndTimeUtc')),
          resultCount: num(pick(actx, 'ResultCount')),
        };
        details.add('Alert type', pick(actx, 'AlertType'));
        const op = text(pick(actx, 'Operator'));
        const thr = str(pick(actx, 'Threshold'));
        if (op || thr) details.add('Threshold', [op, thr].filter(Boolean).join(' '));
        details.add('Workspace', pick(actx, 'WorkspaceId'));
        details.add('Application', pick(actx, 'ApplicationId'));
        const included = text(pick(actx, 'IncludedSearchResults'));
        if (included && included.toLowerCase() === 'false') details.add('Search results', 'not included (payload over the 256 KB limit)');
        severity ??= toSeverity(pick(actx, 'SeverityDescription'));
      } else {
        // V2 (LogQueryCriteria): no embedded results.
        const all = arr(pick(cond, 'allOf')) ?? [];
        const queries: string[] = [];
        let ui: string | undefined;
        all.slice(0, 50).forEach((c, i) => {
          const r = asRec(c);
          if (!r) return;
          const q = str(pick(r, 'searchQuery'));
          if (q) queries.push(q);
          ui ??= httpLink(pick(r, 'linkToFilteredSearchResultsUI')) ?? httpLink(pick(r, 'linkToSearchResultsUI'));
          const dims = dimensionPairs(pick(r, 'dimensions'));
          cisFromDimensions(dims, cis, targets);
          for (const [n, v] of dims) if (!Object.hasOwn(labels, n)) labels[n] = v;
          const measure = text(pick(r, 'metricMeasureColumn'));
          const agg = text(pick(r, 'timeAggregation'));
          const parts = [measure ? `${agg ?? 'Count'}(${measure})` : (agg ?? 'Count'), text(pick(r, 'operator')), text(pick(r, 'threshold'))].filter(Boolean);
          let line = parts.join(' ');
          const value = str(pick(r, 'metricValue'));
          if (value !== undefined) line += `; value ${value}`;
          const fp = asRec(pick(r, 'failingPeriods'));
          const min = str(pick(fp, 'minFailingPeriodsToAlert'));
          const of = str(pick(fp, 'numberOfEvaluationPeriods'));
          if (min && of) line += `; failing periods ${min} of ${of}`;
          details.add(all.length > 1 ? `Criterion ${i + 1}` : 'Criterion', line);
        });
        logSearch = {
          query: queries.length ? queries.join('\n\n') : undefined,
          interval: text(pick(cond, 'windowSize')),
          rows: [],
          linkToResults: ui,
          windowStart,
          windowEnd,
        };
        details.add('Condition type', pick(actx, 'conditionType'));
      }
      link = logSearch.linkToResults;
      break;
    }
    case 'azure-common-activitylog':
    case 'azure-common-servicehealth':
    case 'azure-common-resourcehealth': {
      const props = asRec(pick(actx, 'properties'));
      eventTime = parseTimestamp(pick(actx, 'eventTimestamp'));
      if (family === 'azure-common-servicehealth') {
        const facts = serviceHealthFacts(props, details, condition, true);
        if (!description && facts.title) description = facts.title;
        if (facts.tracking) instanceKey = `servicehealth:${facts.tracking.toLowerCase()}`;
        condition = facts.condition;
      } else if (family === 'azure-common-resourcehealth') {
        const facts = resourceHealthFacts(props, details, condition);
        if (!description && facts.title) description = facts.title;
        const resource = targets.items[0] ?? text(pick(actx, 'resourceId'));
        if (resource) instanceKey = `resourcehealth:${resource.toLowerCase()}`;
        condition = facts.condition;
      }
      details.add('Operation', pick(actx, 'operationName'));
      details.add('Status', [text(pick(actx, 'status')), text(pick(actx, 'subStatus'))].filter(Boolean).join(' / '));
      details.add('Caller', pick(actx, 'caller'));
      details.add('Event source', pick(actx, 'eventSource'));
      details.add('Level', pick(actx, 'level'));
      details.add('Correlation id', pick(actx, 'correlationId'));
      details.add('Event time', eventTime);
      const rid = text(pick(actx, 'resourceId'));
      if (rid && isResourceId(rid)) {
        targets.add(rid);
        if (isResourceCiTarget(rid)) cis.add(resourceName(rid));
      }
      severity ??= fromEventLevel(pick(actx, 'level'));
      break;
    }
    case 'azure-common-budget':
      budgetFacts(budget, details);
      details.add('Alert category', pick(actx, 'AlertCategory'));
      break;
    default:
      details.add('Monitoring service', pick(ess, 'monitoringService'));
      break;
  }

  if (cis.items.length === 0) for (const t of targets.items) if (isResourceCiTarget(t)) cis.add(resourceName(t));
  if (!link) {
    const t = targets.items.find(isResourceId);
    if (t) link = `https://portal.azure.com/#resource${t.startsWith('/') ? '' : '/'}${t}`;
  }
  details.add('Monitoring service', family === 'azure-common-other' ? undefined : pick(ess, 'monitoringService'));
  details.add('Origin alert id', pick(ess, 'originAlertId'));

  const firedAt = parseTimestamp(pick(ess, 'firedDateTime')) ?? eventTime ?? windowEnd ?? ctx.receivedAt;
  let resolvedAt: string | undefined;
  if (condition === 'Resolved')
    resolvedAt = parseTimestamp(pick(ess, 'resolvedDateTime')) ?? (instanceKey ? firedAt : undefined) ?? windowEnd ?? ctx.receivedAt;
  const alertId = text(pick(ess, 'alertId')) ?? text(pick(ess, 'originAlertId')) ?? syntheticId('azure', [rule, firedAt, condition, targets.items.join('|')]);

  const alert: NormalizedAlert = {
    family,
    alertId,
    rule,
    severity: severity ?? DEFAULT_SEVERITY,
    signalType: signalOf(family, signalRaw),
    monitorCondition: condition,
    firedAt,
    ...(resolvedAt ? { resolvedAt } : {}),
    targets: targets.items,
    configurationItems: cis.items,
    description,
    ...(link ? { link } : {}),
    labels,
    ...(logSearch ? { logSearch: compact(logSearch) } : {}),
    ...(instanceKey ? { instanceKey } : {}),
    details: details.items,
    raw: body,
  };
  return [alert];
}
