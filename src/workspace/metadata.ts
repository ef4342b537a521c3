/**
 * The workspace schema in the shape of the Log Analytics metadata API
 * (`GET /v1/workspaces/{workspaceId}/metadata`), for editors' completion (the dashboard feeds it to
 * Microsoft's Kusto language service). Subset: `tables` (id, name, description, timespanColumn, columns
 * with name, type, description) and `workspaces` (id, name, the table ids). Categories, solutions,
 * functions, saved queries and resource types are not produced.
 */
import { workspaceTables, type WorkspaceTableName } from './tables.ts';

export interface MetadataColumn {
  name: string;
  type: string;
  description?: string;
}

export interface MetadataTable {
  id: string;
  name: string;
  description: string;
  timespanColumn: string;
  columns: MetadataColumn[];
}

export interface WorkspaceMetadata {
  tables: MetadataTable[];
  workspaces: { id: string; name: string; tables: string[] }[];
}

const TABLE_DESCRIPTIONS: Record<WorkspaceTableName, string> = {
  ServiceDesk_CL: 'Incidents and change requests synced from the ITSM tool; one row per version of a work item',
  ServiceDeskLog_CL: "The connector's own log: syncs, connection state, errors",
  ItsmActionOutcome_CL: 'What each ITSM action did with an alert: work item created, updated, or failed',
};

/** Metadata of a workspace (every workspace has the same tables). */
export function workspaceMetadata(workspace: string): WorkspaceMetadata {
  const tables = Object.values(workspaceTables).map((t) => ({
    id: `t/${t.name}`,
    name: t.name,
    description: TABLE_DESCRIPTIONS[t.name],
    timespanColumn: 'TimeGenerated',
    columns: t.columns.map((c) => ({ name: c.name, type: c.type, ...(c.description ? { description: c.description } : {}) })),
  }));
  return { tables, workspaces: [{ id: workspace, name: workspace, tables: tables.map((t) => t.id) }] };
}
