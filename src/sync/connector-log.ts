import type { Store } from '../store/store.ts';
import type { ConnectionEvent } from '../connections/service.ts';

/** One line of the connector log (ServiceDeskLog_CL), in ITSMC's shape. */
export interface ConnectorLogEntry {
  workspace: string;
  connection: string;
  /** ERROR, WARNING or INFO (ITSMC documented ERROR). */
  logType: 'ERROR' | 'WARNING' | 'INFO';
  message: string;
  exception?: string;
  /** true = success (ITSMC's Status_b). */
  status: boolean;
  /** Connection status after the event (Healthy, Degraded, Error, Pending). */
  connectionState?: string;
  partnerType?: string;
}

export interface ConnectorLog {
  write(entry: ConnectorLogEntry): Promise<void>;
}

/** Writes connector log lines into the workspace's ServiceDeskLog_CL; a failing write never breaks the caller. */
export function workspaceConnectorLog(store: Store, onError?: (err: unknown) => void): ConnectorLog {
  return {
    async write(entry) {
      const now = Date.now();
      try {
        await store.workspaceRows.append('ServiceDeskLog_CL', entry.workspace, [
          {
            TimeGenerated: now,
            StatusLogTime_t: now,
            ServiceDeskConnectionName_s: entry.connection,
            LogType_s: entry.logType,
            Message: entry.message,
            ExceptionMessage_s: entry.exception ?? '',
            Status_b: entry.status,
            ConnectionState_s: entry.connectionState ?? '',
            PartnerType_s: entry.partnerType ?? '',
            SourceSystem: 'RestAPI',
          },
        ]);
      } catch (err) {
        onError?.(err);
      }
    },
  };
}

/** ConnectionService's status events (created, failed, healthy again) as connector log lines. */
export function connectionEventLogger(log: ConnectorLog) {
  return (event: ConnectionEvent): Promise<void> =>
    log.write({
      workspace: event.workspace,
      connection: event.connection,
      logType: event.status === 'Error' ? 'ERROR' : event.status === 'Degraded' ? 'WARNING' : 'INFO',
      message: event.message,
      exception: event.error,
      status: event.status === 'Healthy' || event.status === 'Pending',
      connectionState: event.status,
    });
}
