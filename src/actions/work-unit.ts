/** The unit an ITSM action works on: one alert, or one of its CIs or log rows (see grouping.ts). */
import type { LogRow, NormalizedAlert } from '../core/alert.ts';

/** One work item's worth of an alert: what is deduplicated and decided on. */
export interface WorkUnit {
  actionId: string;
  /** Canonical dedup key (SPEC 2.3): action, rule or Alertmanager group key, and the CI or log row when split. */
  dedupKey: string;
  /** Correlation key of the first work item of this key (generation 0). */
  correlationKey: string;
  alert: NormalizedAlert;
  /** Ties Fired to Resolved: alert.instanceKey ?? alert.alertId. */
  instanceKey: string;
  /** The CI this unit is about (CreateOneWIPerCI, or the row's CI in CreateOneWIPerLog). */
  ci?: string;
  /** The log row this unit is about (CreateOneWIPerLog). */
  row?: LogRow;
  rowIndex?: number;
  /** CIs to link for this unit. */
  cis: string[];
  /** Log rows this unit covers (all rows; per CI: that CI's rows; per row: the row). */
  rows: LogRow[];
}
