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
      try {
        await store.workspaceLog.appendLogs([
          {
            workspace: entry.workspace,
            time: Date.now(),
            connection: entry.connection,
            partnerType: entry.partnerType ?? '',
            level: entry.logType,
            message: entry.message,
            exception: entry.exception,
            success: entry.status,
            connectionState: entry.connectionState,
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
