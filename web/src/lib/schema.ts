/**
 * The workspace schema for the KQL editor, in the Log Analytics metadata shape
 * `{"tables":[{"name","description","columns":[{"name","type","description"}]}]}`: from the connector's
 * `GET /v1/workspaces/{ws}/metadata`, or, on a connector without it, derived from the query API
 * (`<table> | take 0` answers with the columns and their types).
 */
import { api, ApiError, runQuery } from './api';

export interface WorkspaceSchema {
  tables: { name: string; description?: string; columns: { name: string; type: string; description?: string }[] }[];
}

const KNOWN_TABLES = ['ServiceDesk_CL', 'ServiceDeskLog_CL', 'ItsmActionOutcome_CL'];

export async function loadSchema(ws: string): Promise<WorkspaceSchema> {
  try {
    const meta = await api<WorkspaceSchema>(`/v1/workspaces/${encodeURIComponent(ws)}/metadata`);
    if (Array.isArray(meta?.tables)) return meta;
  } catch (err) {
    if (!(err instanceof ApiError && err.status === 404)) throw err;
  }
  const tables = await Promise.all(
    KNOWN_TABLES.map(async (name) => {
      const r = await runQuery(ws, `${name} | take 0`);
      return { name, columns: r.tables[0].columns.map((c) => ({ name: c.name, type: c.type })) };
    }),
  );
  return { tables };
}

const DOTNET: Record<string, string> = {
  string: 'System.String',
  datetime: 'System.DateTime',
  bool: 'System.Boolean',
  int: 'System.Int32',
  long: 'System.Int64',
  real: 'System.Double',
  decimal: 'System.Data.SqlTypes.SqlDecimal',
  dynamic: 'System.Object',
  timespan: 'System.TimeSpan',
  guid: 'System.Guid',
};

/** The `.show schema as json` shape the Kusto language service takes. */
export function toShowSchema(schema: WorkspaceSchema, database: string) {
  const Tables = Object.fromEntries(
    schema.tables.map((t) => [
      t.name,
      {
        Name: t.name,
        EntityType: 'Table',
        DocString: t.description ?? '',
        OrderedColumns: t.columns.map((c) => ({ Name: c.name, Type: DOTNET[c.type] ?? 'System.String', CslType: c.type, DocString: c.description ?? '' })),
      },
    ]),
  );
  return {
    Plugins: [],
    Databases: {
      [database]: {
        Name: database,
        Tables,
        ExternalTables: {},
        MaterializedViews: {},
        EntityGroups: {},
        MajorVersion: 1,
        MinorVersion: 0,
        Functions: {},
        DatabaseAccessMode: 'ReadOnly',
      },
    },
  };
}
