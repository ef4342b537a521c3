/**
 * The normalized alert: every payload family (Azure common schema, legacy Azure shapes, Alertmanager,
 * Grafana) is parsed into this one shape. Pure data, no I/O.
 */
export type MonitorCondition = 'Fired' | 'Resolved';

/** Sev0 (critical) … Sev4 (verbose), as Azure Monitor names them. */
export type AlertSeverity = 'Sev0' | 'Sev1' | 'Sev2' | 'Sev3' | 'Sev4';

export type PayloadFamily =
  | 'azure-common-metric'
  | 'azure-common-logsearch'
  | 'azure-common-activitylog'
  | 'azure-common-servicehealth'
  | 'azure-common-resourcehealth'
  | 'azure-common-budget'
  | 'azure-common-other'
  | 'azure-legacy-loganalytics'
  | 'azure-classic-metric'
  | 'azure-legacy-activitylog'
  | 'azure-budget-notification'
  | 'azure-metric-v2'
  | 'alertmanager-v4'
  | 'grafana-v1';

/** One row of a log search result (log search alerts, legacy Log Analytics webhook). */
export type LogRow = Record<string, string | number | boolean | null>;

export interface LogSearchDetails {
  query?: string;
  /** Evaluation window, ISO 8601 duration or free text as the payload gave it. */
  interval?: string;
  /** The rows the search returned, when the payload carries them. */
  rows: LogRow[];
  /** Link to the results in the portal, when present. */
  linkToResults?: string;
  /** Start and end of the searched time range, ISO 8601 UTC (additive). */
  windowStart?: string;
  windowEnd?: string;
  /** Number of results the search returned, as reported by the payload (additive). */
  resultCount?: number;
}

/** One labelled fact about the alert, in display order (metric criteria, activity log operation …). Additive. */
export interface AlertDetail {
  label: string;
  value: string;
}

export interface NormalizedAlert {
  family: PayloadFamily;
  /** Identifier of this alert instance as the source gave it (Azure alertId, Alertmanager fingerprint …). */
  alertId: string;
  /** The rule that fired (Azure alertRule, Alertmanager alertname / group key owner, Grafana rule). */
  rule: string;
  /** Alertmanager `groupKey`, when the alert came from Alertmanager. Grouping uses it instead of the rule. */
  groupKey?: string;
  severity: AlertSeverity;
  signalType: 'Metric' | 'Log' | 'Activity Log' | 'Health' | 'Unknown';
  monitorCondition: MonitorCondition;
  firedAt: string; // ISO 8601 UTC
  resolvedAt?: string; // ISO 8601 UTC
  /** Azure resource ids or other target identifiers. */
  targets: string[];
  /** Names of the affected configuration items (computers, resources). */
  configurationItems: string[];
  description: string;
  /** Where a human can see the alert (portal link, Alertmanager/Grafana URL). */
  link?: string;
  labels: Record<string, string>;
  logSearch?: LogSearchDetails;
  /**
   * Identifies the monitored condition across its Fired and Resolved events when the source does not reuse
   * the alert id for both (resource health: the resource id; service health: the tracking id; classic and
   * non-common metric alerts: rule id + resource). Absent = the alertId. Additive.
   */
  instanceKey?: string;
  /** Family-specific facts for the description (metric criteria, activity log caller …). Additive. */
  details?: AlertDetail[];
  /** The original payload, kept for templates and audit. */
  raw: unknown;
}
