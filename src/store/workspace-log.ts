/**
 * The one writer of the connector's own workspace rows: `ItsmActionOutcome_CL` (one row per work item
 * operation) and `ServiceDeskLog_CL` (the connector log: failures, connection state changes). Inside a
 * transaction (the delivery engine writes them with the acknowledgement of their jobs) or on their own.
 */
import type { Kysely } from 'kysely';
import type { Database } from './schema.ts';
import type { Dialect } from './dialect.ts';
import { appendRowsInTransaction, SOURCE_SYSTEM, type WorkspaceRows } from './workspace-rows.ts';
import type { ItsmActionOutcomeRow, ServiceDeskLogRow, WorkspaceTableName } from '../workspace/tables.ts';

/** A transaction handed out by `Store.writeTransaction`; opaque outside the store. */
export type StoreTransaction = Kysely<Database>;

export type Operation = 'Created' | 'Updated' | 'Resolved' | 'Reopened' | 'Failed';

export interface OutcomeRow {
  workspace: string;
  time: number;
  alertId: string;
  rule: string;
  actionGroup: string;
  action: string;
  connection: string;
  workItemType: string;
  workItemId: string;
  workItemNumber: string;
  operation: Operation;
  computer: string;
  message: string;
}

export interface LogRow {
  workspace: string;
  time: number;
  connection: string;
  partnerType: string;
  level: 'ERROR' | 'WARNING' | 'INFO';
  message: string;
  exception?: string;
  success: boolean;
  connectionState?: string;
  computer?: string;
}

const TEXT_MAX = 8000;

export class WorkspaceLog {
  constructor(
    private readonly dialect: Dialect,
    private readonly rows: WorkspaceRows,
  ) {}

  appendOutcomes(outcomes: OutcomeRow[], trx?: StoreTransaction): Promise<void> {
    return this.append(
      'ItsmActionOutcome_CL',
      outcomes.map((r) => ({
        workspace: r.workspace,
        row: {
          TimeGenerated: r.time,
          AlertId_s: r.alertId,
          AlertRule_s: r.rule,
          ActionGroup_s: r.actionGroup,
          Action_s: r.action,
          ServiceDeskConnectionName_s: r.connection,
          WorkItemType_s: r.workItemType,
          WorkItemId_s: r.workItemId,
          WorkItemNumber_s: r.workItemNumber,
          Operation_s: r.operation,
          Computer: r.computer,
          Message: r.message.slice(0, TEXT_MAX),
        } satisfies ItsmActionOutcomeRow,
      })),
      trx,
    );
  }

  appendLogs(logs: LogRow[], trx?: StoreTransaction): Promise<void> {
    return this.append(
      'ServiceDeskLog_CL',
      logs.map((r) => ({
        workspace: r.workspace,
        row: {
          TimeGenerated: r.time,
          ServiceDeskConnectionName_s: r.connection,
          LogType_s: r.level,
          Message: r.message.slice(0, TEXT_MAX),
          ExceptionMessage_s: (r.exception ?? '').slice(0, TEXT_MAX),
          Status_b: r.success,
          StatusLogTime_t: r.time,
          ConnectionState_s: r.connectionState ?? '',
          PartnerType_s: r.partnerType,
          Computer: r.computer ?? '',
          SourceSystem: SOURCE_SYSTEM,
        } satisfies ServiceDeskLogRow,
      })),
      trx,
    );
  }

  private async append(table: WorkspaceTableName, rows: { workspace: string; row: Record<string, unknown> }[], trx?: StoreTransaction): Promise<void> {
    if (trx) return appendRowsInTransaction(trx, this.dialect, table, rows);
    const byWorkspace = new Map<string, Record<string, unknown>[]>();
    for (const r of rows) byWorkspace.set(r.workspace, [...(byWorkspace.get(r.workspace) ?? []), r.row]);
    for (const [workspace, list] of byWorkspace) await this.rows.append(table, workspace, list);
  }
}
