/**
 * Rows the delivery engine appends to the workspace: one `ItsmActionOutcome_CL` row per work item
 * operation (Created/Updated/Resolved/Reopened/Failed) and `ServiceDeskLog_CL` rows for failures and
 * connection state changes. They are written in the same transaction that acknowledges the jobs, so
 * an outcome row exists exactly when its jobs are done.
 */
import type { Kysely, Transaction } from 'kysely';
import type { Database } from '../store/schema.ts';
import type { Dialect } from '../store/dialect.ts';
import { appendRowsInTransaction as appendRows } from '../store/workspace-rows.ts';

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

type Db = Kysely<Database> | Transaction<Database>;

export async function appendOutcomes(db: Db, dialect: Dialect, rows: OutcomeRow[]): Promise<void> {
  await appendRows(
    db,
    dialect,
    'ItsmActionOutcome_CL',
    rows.map((r) => ({
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
        Message: r.message.slice(0, 8000),
      },
    })),
  );
}

export async function appendLogs(db: Db, dialect: Dialect, rows: LogRow[]): Promise<void> {
  await appendRows(
    db,
    dialect,
    'ServiceDeskLog_CL',
    rows.map((r) => ({
      workspace: r.workspace,
      row: {
        TimeGenerated: r.time,
        ServiceDeskConnectionName_s: r.connection,
        LogType_s: r.level,
        Message: r.message.slice(0, 8000),
        ExceptionMessage_s: (r.exception ?? '').slice(0, 8000),
        Status_b: r.success,
        StatusLogTime_t: r.time,
        ConnectionState_s: r.connectionState ?? '',
        PartnerType_s: r.partnerType,
        Computer: r.computer ?? '',
        SourceSystem: 'OpenITSMC',
      },
    })),
  );
}
