import type { ConnectionsTable } from '../store/schema.ts';
import type { LogRow } from '../store/workspace-log.ts';

/** A ServiceDeskLog_CL line about a connection (INFO lines count as successes). */
export function connectorLogRow(workspace: string, conn: ConnectionsTable | null, level: LogRow['level'], message: string, exception?: string): LogRow {
  return {
    workspace,
    time: Date.now(),
    connection: conn?.name ?? '',
    partnerType: conn?.partner_type ?? '',
    level,
    message,
    exception,
    success: level === 'INFO',
    connectionState: conn?.status,
  };
}

/** "action group G, action A, alert rule R" for connector-log lines about a delivery. */
export function deliveryOf(actionGroup: string, action: string, rules: (string | undefined)[]): string {
  const named = rules.filter(Boolean);
  return `action group ${actionGroup}, action ${action}${named.length ? `, alert rule ${named.slice(0, 5).join(', ')}${named.length > 5 ? ' …' : ''}` : ''}`;
}
