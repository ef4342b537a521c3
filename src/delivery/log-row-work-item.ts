/**
 * "Create work item" from a log search result row (ITSMC let users create incidents from log records).
 * The row goes the way every alert goes — stored with its delivery job in one transaction, delivered by
 * the durable queue with a correlation key — so it is never lost and never created twice:
 *
 * - it is sent to an action group of its own per (connection, work item type), `log-search-<type>-<conn>`,
 *   created on first use with one ITSM action, so it shows in the action group list like any other;
 * - the row becomes an Azure common-schema log search alert whose alertId is a hash of workspace,
 *   connection, type and row, so the same row posted again is answered `duplicate` and creates nothing.
 */
import { createHash } from 'node:crypto';
import type { Store } from '../store/store.ts';
import type { ActionGroupService } from '../actiongroups/service.ts';
import type { WorkItemType } from '../partners/partner.ts';
import type { AlertSeverity, LogRow } from '../core/alert.ts';
import type { IngestService } from './ingest.ts';
import { NotFoundError } from '../core/errors.ts';

export interface LogRowWorkItemRequest {
  connectionName: string;
  workItemType: WorkItemType;
  title: string;
  description?: string;
  severity?: AlertSeverity;
  /** The query the row came from (kept in the work item's description). */
  query?: string;
  row: LogRow;
}

export interface LogRowWorkItemResult {
  status: 'accepted' | 'duplicate' | 'ignored';
  alertId: string;
  actionGroup: string;
}

export function logSearchGroupName(type: WorkItemType, connection: string): string {
  const name = `log-search-${type.toLowerCase()}-${connection}`;
  return name.length <= 63 ? name : `log-search-${type.toLowerCase()}-${createHash('sha256').update(connection).digest('hex').slice(0, 16)}`;
}

export function logRowAlertId(workspace: string, req: Pick<LogRowWorkItemRequest, 'connectionName' | 'workItemType' | 'row'>): string {
  const h = createHash('sha256')
    .update(JSON.stringify([workspace, req.connectionName, req.workItemType, req.row]))
    .digest('hex');
  return `/openitsmc/logsearch/${h.slice(0, 40)}`;
}

export class LogRowWorkItems {
  constructor(
    private readonly store: Store,
    private readonly groups: ActionGroupService,
    private readonly ingest: IngestService,
  ) {}

  async create(workspace: string, req: LogRowWorkItemRequest, now = Date.now()): Promise<LogRowWorkItemResult> {
    if (!(await this.store.connections.get(workspace, req.connectionName)))
      throw new NotFoundError(`connection '${req.connectionName}' does not exist in workspace '${workspace}'`);
    const name = logSearchGroupName(req.workItemType, req.connectionName);
    let group = await this.groups.resolveByName(workspace, name);
    if (!group) {
      await this.groups.put(workspace, name, {
        shortName: 'log search',
        enabled: true,
        itsmReceivers: [
          { name: 'create', connectionName: req.connectionName, ticketConfiguration: { WorkItemType: req.workItemType, autoResolve: { mode: 'none' } } },
        ],
      });
      group = await this.groups.resolveByName(workspace, name);
    }
    const alertId = logRowAlertId(workspace, req);
    const result = await this.ingest.ingest(group!, logSearchAlert(alertId, req, now), now);
    return { status: result.status === 'ignored' ? 'ignored' : (result.alerts[0]?.status ?? 'accepted'), alertId, actionGroup: name };
  }
}

/** The row as an Azure common-schema (V1) log search alert, so ingestion and rendering treat it as one. */
function logSearchAlert(alertId: string, req: LogRowWorkItemRequest, now: number) {
  const columns = Object.entries(req.row).map(([name, v]) => ({ name, type: typeof v === 'number' ? 'real' : typeof v === 'boolean' ? 'bool' : 'string' }));
  const computer = typeof req.row.Computer === 'string' && req.row.Computer !== '' ? [req.row.Computer] : [];
  return {
    schemaId: 'azureMonitorCommonAlertSchema',
    data: {
      essentials: {
        alertId,
        alertRule: req.title,
        severity: req.severity ?? 'Sev3',
        signalType: 'Log',
        monitorCondition: 'Fired',
        monitoringService: 'Log Analytics',
        alertTargetIDs: [],
        configurationItems: computer,
        firedDateTime: new Date(now).toISOString(),
        description: req.description ?? 'Created from a log search result row',
      },
      alertContext: {
        SearchQuery: req.query ?? '',
        ResultCount: 1,
        IncludedSearchResults: 'True',
        SearchResults: { tables: [{ name: 'PrimaryResult', columns, rows: [Object.values(req.row)] }] },
      },
    },
  };
}
