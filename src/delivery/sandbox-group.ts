import type { Store } from '../store/store.ts';
import type { ActionGroupsTable } from '../store/schema.ts';
import type { ActionGroupService } from '../actiongroups/service.ts';
import { sandboxConnectionName } from '../partners/descriptor.ts';
import { sandboxedPartners } from '../partners/registry.ts';

/**
 * Quick start: for each partner sandbox, its action group (one Incident action on `<type>-sandbox`), created
 * once when that connection exists; an existing group is left as the user changed it.
 */
export async function ensureSandboxActionGroups(store: Store, groups: ActionGroupService, workspace = 'default'): Promise<ActionGroupsTable[]> {
  const rows: ActionGroupsTable[] = [];
  for (const partner of sandboxedPartners()) {
    const row = await ensureActionGroup(store, groups, workspace, partner.sandbox.quickStart.actionGroup, sandboxConnectionName(partner.type));
    if (row) rows.push(row);
  }
  return rows;
}

async function ensureActionGroup(
  store: Store,
  groups: ActionGroupService,
  workspace: string,
  group: { name: string; action: string },
  connectionName: string,
): Promise<ActionGroupsTable | null> {
  const existing = await store.actionGroups.get(workspace, group.name);
  if (existing) return existing;
  if (!(await store.connections.get(workspace, connectionName))) return null;
  try {
    const { row } = await groups.put(workspace, group.name, {
      shortName: group.name.slice(0, 12),
      enabled: true,
      itsmReceivers: [
        {
          name: group.action,
          connectionName,
          ticketConfiguration: {
            PayloadRevision: 0,
            WorkItemType: 'Incident',
            UseTemplate: false,
            WorkItemData: {},
            CreateOneWIPerCI: false,
            autoResolve: { mode: 'resolve' },
          },
        },
      ],
    });
    return row;
  } catch {
    // Another process created it at the same moment.
    return store.actionGroups.get(workspace, group.name).then((r) => r ?? null);
  }
}
