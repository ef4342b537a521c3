/**
 * The small, hand-checked dataset the golden tests run against (test-only). `NOW` is the fixed
 * `now()` of every golden query.
 */
import type { WorkspaceTableName } from '../tables.ts';

export const NOW = new Date('2026-03-10T12:00:00Z');

export const serviceDesk: Record<string, unknown>[] = [
  {
    TimeGenerated: '2026-03-01T08:00:00Z', ServiceDeskConnectionName_s: 'snow-prod', ServiceDeskWorkItemType_s: 'Incident', ServiceDeskId_s: 'INC001',
    IncidentState_s: 'New', Priority_s: '2 - High', Urgency_s: '2 - Medium', Impact_s: '1 - High', Title_s: 'Disk full on srv-01', Computer: 'srv-01',
    CreatedDate_t: '2026-03-01T07:55:00Z', AssignedTo_s: 'alice', Category_s: 'Hardware', Description_s: 'Volume C: at 99%',
  },
  {
    TimeGenerated: '2026-03-02T09:30:00Z', ServiceDeskConnectionName_s: 'snow-prod', ServiceDeskWorkItemType_s: 'Incident', ServiceDeskId_s: 'INC001',
    IncidentState_s: 'Resolved', Priority_s: '2 - High', Urgency_s: '2 - Medium', Impact_s: '1 - High', Title_s: 'Disk full on srv-01', Computer: 'srv-01',
    CreatedDate_t: '2026-03-01T07:55:00Z', ResolvedDate_t: '2026-03-02T09:00:00Z', ResolvedBy_s: 'alice', AssignedTo_s: 'alice', Category_s: 'Hardware',
    Description_s: 'Volume C: at 99%',
  },
  {
    TimeGenerated: '2026-03-05T10:00:00Z', ServiceDeskConnectionName_s: 'snow-prod', ServiceDeskWorkItemType_s: 'Incident', ServiceDeskId_s: 'INC002',
    IncidentState_s: 'In Progress', Priority_s: '1 - Critical', Urgency_s: '1 - High', Impact_s: '1 - High', Title_s: 'Service down: API-gateway', Computer: 'srv-02',
    CreatedDate_t: '2026-03-05T09:00:00Z', AssignedTo_s: 'bob', Category_s: 'Network', Description_s: 'HTTP 503 from /health',
  },
  {
    TimeGenerated: '2026-03-09T11:00:00Z', ServiceDeskConnectionName_s: 'scsm-lab', ServiceDeskWorkItemType_s: 'Incident', ServiceDeskId_s: 'INC003',
    IncidentState_s: 'New', Priority_s: '4 - Low', Urgency_s: '3 - Low', Impact_s: '3 - Low', Title_s: 'printer jam', Computer: '',
    CreatedDate_t: '2026-03-09T10:00:00Z', AssignedTo_s: '', Category_s: 'Inquiry / Help',
  },
  {
    TimeGenerated: '2026-03-10T06:00:00Z', ServiceDeskConnectionName_s: 'snow-prod', ServiceDeskWorkItemType_s: 'Incident', ServiceDeskId_s: 'INC004',
    IncidentState_s: 'Closed', Priority_s: '3 - Moderate', Urgency_s: '2 - Medium', Impact_s: '2 - Medium', Title_s: 'CPU high on SRV-01', Computer: 'srv-01',
    CreatedDate_t: '2026-02-20T00:00:00Z', ResolvedDate_t: '2026-02-21T12:00:00Z', ClosedDate_t: '2026-02-25T00:00:00Z', ClosedBy_s: 'carol',
    AssignedTo_s: 'alice', Category_s: 'Software',
  },
  {
    TimeGenerated: '2026-02-15T00:00:00Z', ServiceDeskConnectionName_s: 'snow-prod', ServiceDeskWorkItemType_s: 'ChangeRequest', ServiceDeskId_s: 'CHG001',
    CRState_s: 'Scheduled', Priority_s: '3 - Moderate', Title_s: 'Patch window for srv-01', Computer: 'srv-01', Type_s: 'Normal', Risk_s: 'Moderate',
    RequestedDate_t: '2026-02-10T00:00:00Z', PlannedStartDate_t: '2026-02-20T22:00:00Z', PlannedEndDate_t: '2026-02-21T02:00:00Z', Category_s: 'Software',
  },
  {
    TimeGenerated: '2026-03-03T00:00:00Z', ServiceDeskConnectionName_s: 'snow-prod', ServiceDeskWorkItemType_s: 'ChangeRequest', ServiceDeskId_s: 'CHG001',
    CRState_s: 'Closed', Priority_s: '3 - Moderate', Title_s: 'Patch window for srv-01', Computer: 'srv-01', Type_s: 'Normal', Risk_s: 'Moderate',
    RequestedDate_t: '2026-02-10T00:00:00Z', PlannedStartDate_t: '2026-02-20T22:00:00Z', PlannedEndDate_t: '2026-02-21T02:00:00Z',
    WorkStartDate_t: '2026-02-20T22:05:00Z', WorkEndDate_t: '2026-02-21T01:00:00Z', ClosedDate_t: '2026-03-03T00:00:00Z', Category_s: 'Software',
  },
  {
    TimeGenerated: '2026-03-08T00:00:00Z', ServiceDeskConnectionName_s: 'scsm-lab', ServiceDeskWorkItemType_s: 'ChangeRequest', ServiceDeskId_s: 'CHG002',
    CRState_s: 'Assess', Priority_s: '4 - Low', Title_s: 'Upgrade firmware', Computer: 'srv-03', Type_s: 'Standard', Risk_s: 'Low', Category_s: 'Hardware',
  },
];

export const serviceDeskLog: Record<string, unknown>[] = [
  {
    TimeGenerated: '2026-03-09T00:00:00Z', ServiceDeskConnectionName_s: 'snow-prod', LogType_s: 'ERROR', Message: 'Could not contact ITSM Partner.',
    ExceptionMessage_s: 'HTTP 429 Too Many Requests', Status_b: false, ActionStatus_d: 1, StatusLogTime_t: '2026-03-09T00:00:00Z', SourceSystem: 'RestAPI',
  },
  { TimeGenerated: '2026-03-09T01:00:00Z', ServiceDeskConnectionName_s: 'snow-prod', LogType_s: 'INFO', Message: 'Sync completed', Status_b: true, ActionStatus_d: 0 },
  {
    TimeGenerated: '2026-03-10T00:00:00Z', ServiceDeskConnectionName_s: 'scsm-lab', LogType_s: 'WARNING', Message: 'Token expires soon', Status_b: true,
    ConnectionState_s: 'Connected',
  },
];

export const actionOutcomes: Record<string, unknown>[] = [
  {
    TimeGenerated: '2026-03-09T10:00:00Z', AlertId_s: 'a1', AlertRule_s: 'CPU > 90', ActionGroup_s: 'ops', Action_s: 'create-incident',
    ServiceDeskConnectionName_s: 'snow-prod', WorkItemType_s: 'Incident', WorkItemId_s: 'sys1', WorkItemNumber_s: 'INC001', Operation_s: 'Created', Computer: 'srv-01',
  },
  {
    TimeGenerated: '2026-03-09T11:00:00Z', AlertId_s: 'a1', AlertRule_s: 'CPU > 90', ActionGroup_s: 'ops', Action_s: 'create-incident',
    ServiceDeskConnectionName_s: 'snow-prod', WorkItemType_s: 'Incident', WorkItemId_s: 'sys1', WorkItemNumber_s: 'INC001', Operation_s: 'Resolved', Computer: 'srv-01',
  },
  {
    TimeGenerated: '2026-03-09T12:00:00Z', AlertId_s: 'a2', AlertRule_s: 'Disk', ActionGroup_s: 'ops', Action_s: 'create-incident',
    ServiceDeskConnectionName_s: 'snow-prod', WorkItemType_s: 'Incident', Operation_s: 'Failed', Computer: 'srv-02', Message: 'HTTP 500 from partner',
  },
];

/** Rows of another workspace: never visible to queries on `default`. */
export const otherWorkspace: Record<string, unknown>[] = [
  { TimeGenerated: '2026-03-09T00:00:00Z', ServiceDeskWorkItemType_s: 'Incident', ServiceDeskId_s: 'INC900', IncidentState_s: 'New', Title_s: 'secret' },
  { TimeGenerated: '2026-03-09T00:00:00Z', ServiceDeskWorkItemType_s: 'Incident', ServiceDeskId_s: 'INC901', IncidentState_s: 'New', Title_s: 'secret' },
];

export async function loadFixtures(runner: {
  insert(table: WorkspaceTableName, workspace: string, rows: Record<string, unknown>[]): Promise<void>;
}): Promise<void> {
  await runner.insert('ServiceDesk_CL', 'default', serviceDesk);
  await runner.insert('ServiceDeskLog_CL', 'default', serviceDeskLog);
  await runner.insert('ItsmActionOutcome_CL', 'default', actionOutcomes);
  await runner.insert('ServiceDesk_CL', 'other', otherWorkspace);
}
