/** The overview's tiles: each is one self-contained KQL query over the workspace (opened as-is in log search). */
import type { ChartKind } from '../lib/chart-data.ts';
import { binFor, inRange, type TimeRange } from '../lib/time.ts';

export interface TileDef {
  id: string;
  title: string;
  view: 'kpi' | 'table' | ChartKind;
  /** Wide tiles span two grid columns. */
  wide?: boolean;
  query(r: TimeRange): string;
  /** A column of table tiles that links to the computer page. */
  computerColumn?: string;
}

const latest = 'ServiceDesk_CL\n| summarize arg_max(TimeGenerated, *) by ServiceDeskId_s';
const incidents = `${latest}\n| where ServiceDeskWorkItemType_s == "Incident"`;
const changes = `${latest}\n| where ServiceDeskWorkItemType_s == "ChangeRequest"`;
const OPEN = '!in ("Resolved", "Closed", "Canceled")';

export const TILES: TileDef[] = [
  { id: 'kpi-incidents', title: 'Incidents created', view: 'kpi', query: (r) => `${incidents}\n| where ${inRange('CreatedDate_t', r)}\n| count` },
  { id: 'kpi-changes', title: 'Change requests created', view: 'kpi', query: (r) => `${changes}\n| where ${inRange('CreatedDate_t', r)}\n| count` },
  {
    id: 'kpi-open',
    title: 'Open incidents',
    view: 'kpi',
    query: (r) => `${incidents}\n| where ${inRange('CreatedDate_t', r)}\n| where IncidentState_s ${OPEN}\n| count`,
  },
  {
    id: 'kpi-mttr',
    title: 'Mean time to resolve (hours)',
    view: 'kpi',
    query: (r) =>
      `${incidents}\n| where isnotnull(ResolvedDate_t) and ${inRange('ResolvedDate_t', r)}\n| summarize MTTRHours = round(avg(datetime_diff("minute", ResolvedDate_t, CreatedDate_t)) / 60.0, 1)`,
  },
  {
    id: 'created-by-type',
    title: 'Work items created by type',
    view: 'timechart',
    wide: true,
    query: (r) =>
      `${latest}\n| where ${inRange('CreatedDate_t', r)}\n| summarize count() by bin(CreatedDate_t, ${binFor(r)}), ServiceDeskWorkItemType_s\n| render timechart`,
  },
  {
    id: 'connector-status',
    title: 'Connector status (errors first)',
    view: 'table',
    wide: true,
    query: (r) =>
      `ServiceDeskLog_CL\n| where ${inRange('TimeGenerated', r)}\n| summarize Errors = countif(LogType_s == "ERROR"), Warnings = countif(LogType_s == "WARNING"), Events = count(), LastEvent = max(TimeGenerated) by ServiceDeskConnectionName_s\n| order by Errors desc, Warnings desc`,
  },
  {
    id: 'impacted-computers',
    title: 'Impacted computers',
    view: 'table',
    computerColumn: 'Computer',
    query: (r) =>
      `${latest}\n| where ${inRange('CreatedDate_t', r)} and Computer != ""\n| summarize WorkItems = count(), Open = countif(IncidentState_s ${OPEN} and ServiceDeskWorkItemType_s == "Incident") by Computer\n| top 10 by WorkItems`,
  },
  {
    id: 'alert-rules',
    title: 'Top alert rules by work items',
    view: 'barchart',
    query: (r) =>
      `ItsmActionOutcome_CL\n| where ${inRange('TimeGenerated', r)} and Operation_s == "Created"\n| summarize WorkItems = count() by AlertRule_s\n| top 10 by WorkItems`,
  },
  {
    id: 'open-by-state',
    title: 'Open incidents by state and priority',
    view: 'columnchart',
    query: (r) => `${incidents}\n| where ${inRange('CreatedDate_t', r)} and IncidentState_s ${OPEN}\n| summarize count() by IncidentState_s, Priority_s`,
  },
  {
    id: 'open-age',
    title: 'Open incidents by age',
    view: 'columnchart',
    query: (r) =>
      `${incidents}\n| where ${inRange('CreatedDate_t', r)} and IncidentState_s ${OPEN}\n| extend AgeDays = datetime_diff("day", now(), CreatedDate_t)\n| extend Age = case(AgeDays < 1, "0: under 1 day", AgeDays < 7, "1: 1–7 days", AgeDays < 30, "2: 7–30 days", "3: over 30 days")\n| summarize Incidents = count() by Age\n| order by Age asc`,
  },
  {
    id: 'created-vs-resolved',
    title: 'Incidents created vs resolved',
    view: 'timechart',
    wide: true,
    query: (r) =>
      `let base = ${incidents.replace(/\n/g, ' ')};\nunion\n  (base | where ${inRange('CreatedDate_t', r)} | summarize Incidents = count() by Day = bin(CreatedDate_t, ${binFor(r)}) | extend Series = "Created"),\n  (base | where isnotnull(ResolvedDate_t) and ${inRange('ResolvedDate_t', r)} | summarize Incidents = count() by Day = bin(ResolvedDate_t, ${binFor(r)}) | extend Series = "Resolved")\n| render timechart`,
  },
  {
    id: 'mttr-by-priority',
    title: 'MTTR by priority (hours)',
    view: 'columnchart',
    query: (r) =>
      `${incidents}\n| where isnotnull(ResolvedDate_t) and ${inRange('ResolvedDate_t', r)}\n| summarize MTTRHours = round(avg(datetime_diff("minute", ResolvedDate_t, CreatedDate_t)) / 60.0, 1) by Priority_s\n| order by Priority_s asc`,
  },
  {
    id: 'top-assignees',
    title: 'Top assignees',
    view: 'barchart',
    query: (r) =>
      `${incidents}\n| where ${inRange('CreatedDate_t', r)} and AssignedTo_s != ""\n| summarize Incidents = count() by AssignedTo_s\n| top 10 by Incidents`,
  },
  {
    id: 'top-categories',
    title: 'Top categories',
    view: 'piechart',
    query: (r) =>
      `${incidents}\n| where ${inRange('CreatedDate_t', r)} and Category_s != ""\n| summarize Incidents = count() by Category_s\n| top 8 by Incidents`,
  },
  {
    id: 'changes-by-state-risk',
    title: 'Change requests by state and risk',
    view: 'columnchart',
    query: (r) => `${changes}\n| where ${inRange('CreatedDate_t', r)}\n| summarize count() by CRState_s, Risk_s`,
  },
];
