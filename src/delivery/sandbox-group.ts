import type { Store } from '../store/store.ts';
import type { ActionGroupsTable } from '../store/schema.ts';
import type { ActionGroupService } from '../actiongroups/service.ts';

export const SANDBOX_ACTION_GROUP = 'sandbox';
export const SANDBOX_CONNECTION_NAME = 'servicenow-sandbox';

/**
 * Quick start: the action group `sandbox` (one ServiceNow Incident action on `servicenow-sandbox`),
 * created once when that connection exists; an existing group is left as the user changed it.
 */
export async function ensureSandboxActionGroup(store: Store, groups: ActionGroupService, workspace = 'default'): Promise<ActionGroupsTable | null> {
  const existing = await store.actionGroups.get(workspace, SANDBOX_ACTION_GROUP);
  if (existing) return existing;
  if (!(await store.connections.get(workspace, SANDBOX_CONNECTION_NAME))) return null;
  try {
    const { row } = await groups.put(workspace, SANDBOX_ACTION_GROUP, {
      shortName: 'sandbox',
      enabled: true,
      itsmReceivers: [
        {
          name: 'sandbox-incident',
          connectionName: SANDBOX_CONNECTION_NAME,
          ticketConfiguration: { PayloadRevision: 0, WorkItemType: 'Incident', UseTemplate: false, WorkItemData: {}, CreateOneWIPerCI: false, autoResolve: { mode: 'resolve' } },
        },
      ],
    });
    return row;
  } catch {
    // Another process created it at the same moment.
    return store.actionGroups.get(workspace, SANDBOX_ACTION_GROUP).then((r) => r ?? null);
  }
}
