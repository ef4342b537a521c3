/**
 * Legacy (non-common) Log Analytics alert webhook: a flat object with `AlertRuleName`, `SearchQuery`,
 * `SearchResult`… and no schemaId; and its Application Insights variant wrapped as
 * `{"schemaId":"Microsoft.Insights/LogAlert","data":{…}}`. These alerts are stateless: always Fired.
 */
import type { NormalizedAlert } from '../core/alert.ts';
import type { ParseContext } from './build.ts';
import { compact, Details, httpLink, syntheticId } from './build.ts';
import { cisFromRows } from './azure-common.ts';
import { UniqueList } from './ci.ts';
import { parseTimestamp } from './dates.ts';
import type { Probe, Rec } from './json.ts';
import { num, pick, str, stringMap, text, field } from './json.ts';
import { parseSearchResults } from './log-results.ts';
import { azureSeverity, DEFAULT_SEVERITY, toSeverity } from './severity.ts';

export const APPINSIGHTS_LOG_SCHEMA_ID = 'Microsoft.Insights/LogAlert';

function secondsToDuration(v: unknown): string | undefined {
  const n = num(v);
  if (n === undefined || n <= 0 || !Number.isInteger(n) || n > 1e9) return undefined;
  return n % 60 === 0 ? `PT${n / 60}M` : `PT${n}S`;
}

export function parseLegacyLogAnalytics(body: unknown, p: Probe, ctx: ParseContext): NormalizedAlert[] {
  const root = p.obj(body, '$', 'a JSON object');
  const schemaId = pick(root, 'schemaId');
  let inner: Rec = root;
  let prefix = '';
  if (schemaId !== undefined) {
    if (text(schemaId)?.toLowerCase() !== APPINSIGHTS_LOG_SCHEMA_ID.toLowerCase()) p.fail('schemaId', `absent, or "${APPINSIGHTS_LOG_SCHEMA_ID}"`, schemaId);
    p.strong();
    inner = p.obj(field(root, 'data'), 'data');
    prefix = 'data.';
  }
  const rule = p.str(field(inner, 'AlertRuleName'), `${prefix}AlertRuleName`);
  p.strong();
  azureSeverity(p, pick(inner, 'Severity'), `${prefix}Severity`);
  const query = p.str(field(inner, 'SearchQuery'), `${prefix}SearchQuery`);

  const res = parseSearchResults(pick(inner, 'SearchResult', 'SearchResults'));
  const rows = res?.rows ?? [];
  const cis = new UniqueList();
  const targets = new UniqueList();
  cisFromRows(rows, cis, targets);

  const windowStart = parseTimestamp(pick(inner, 'SearchIntervalStartTimeUtc'));
  const windowEnd = parseTimestamp(pick(inner, 'SearchIntervalEndtimeUtc', 'SearchIntervalEndTimeUtc'));
  const link = httpLink(pick(inner, 'LinkToSearchResults'));
  const scope = text(pick(inner, 'WorkspaceId')) ?? text(pick(inner, 'ApplicationId'));

  const details = new Details();
  details.add('Alert type', pick(inner, 'AlertType'));
  const op = text(pick(inner, 'AlertThresholdOperator'));
  const thr = str(pick(inner, 'AlertThresholdValue'));
  if (op || thr) details.add('Threshold', [op, thr].filter(Boolean).join(' '));
  details.add('Result count', pick(inner, 'ResultCount'));
  details.add('Workspace', pick(inner, 'WorkspaceId'));
  details.add('Application', pick(inner, 'ApplicationId'));
  details.add('Subscription', pick(inner, 'SubscriptionId'));

  const firedAt = windowEnd ?? ctx.receivedAt;
  const logSearch = compact({
    query,
    interval: secondsToDuration(pick(inner, 'SearchIntervalInSeconds')),
    rows,
    linkToResults: link,
    windowStart,
    windowEnd,
    resultCount: num(pick(inner, 'ResultCount')),
  });
  const alert: NormalizedAlert = {
    family: 'azure-legacy-loganalytics',
    alertId: syntheticId('la', [rule, windowStart, windowEnd, scope, num(pick(inner, 'ResultCount'))]),
    rule,
    severity: toSeverity(pick(inner, 'Severity')) ?? DEFAULT_SEVERITY,
    signalType: 'Log',
    monitorCondition: 'Fired',
    firedAt,
    targets: targets.items,
    configurationItems: cis.items,
    description: str(pick(inner, 'Description'))?.trim() ?? '',
    ...(link ? { link } : {}),
    labels: stringMap(pick(inner, 'properties', 'customProperties')),
    logSearch,
    details: details.items,
    raw: body,
  };
  return [alert];
}
