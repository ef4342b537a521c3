import type { Command } from 'commander';

/** A process manager sends SIGKILL some seconds after SIGTERM (Docker and Kubernetes: 10 s, 30 s): stop well within. */
const SHUTDOWN_DEADLINE_MS = 9_000;

export function registerServeCommand(program: Command): void {
  program
    .command('serve')
    .description('run the connector (what `npm start` runs); SIGTERM or SIGINT stops it gracefully')
    .action(async () => {
      // Loaded here, not at the top: the other commands start without the server's modules.
      const { readSettings } = await import('../config/env.ts');
      const { startConnector } = await import('../runtime/connector.ts');
      const settings = readSettings();
      const starting = startConnector({ settings, logger: true });
      // Installed before the start completes: a signal during start-up stops the connector once it is up.
      stopGracefullyOnSignals(async () => (await starting).close());
      const connector = await starting;
      console.log(`OpenITSMC listening on ${connector.url} (store: ${connector.store.databaseKind}, data: ${settings.dataDir})`);
      console.log(`  API docs: ${connector.url}/docs`);
      for (const sb of connector.sandboxes) console.log(`  sandbox ${sb.displayName}: ${sb.url} (connection '${sb.connectionName}' in workspace 'default')`);
      if (connector.adminTokenCreated) {
        console.log(`  admin token (shown once; also in ${settings.dataDir}/admin.token, mode 0600): ${connector.adminToken}`);
      }
      // The webhook URL carries the action group's secret (anyone holding it can post alerts). Unlike a
      // generated admin token it is printed on every start, which is fine: the console belongs to the
      // operator who runs the connector, and the URL is what they paste into their monitoring tool.
      for (const sb of connector.sandboxes) if (sb.webhookUrl) console.log(`  webhook for action group '${sb.actionGroup}': ${sb.webhookUrl}`);
    });
}

/**
 * SIGTERM/SIGINT: stop accepting requests, let requests and ingest commits in flight finish, stop the
 * delivery and sync workers (releasing what they hold), close the store, log one line and exit 0. Past the
 * deadline, or on a second signal, exit 1 at once (unfinished deliveries are reclaimed after their lease).
 */
function stopGracefullyOnSignals(close: () => Promise<void>): void {
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) {
      console.error(`OpenITSMC: ${signal} again, exiting without waiting`);
      process.exit(1);
    }
    stopping = true;
    const started = Date.now();
    setTimeout(() => {
      console.error(`OpenITSMC: not stopped ${SHUTDOWN_DEADLINE_MS / 1000} s after ${signal}, exiting anyway`);
      process.exit(1);
    }, SHUTDOWN_DEADLINE_MS).unref();
    close().then(
      () => {
        console.log(`OpenITSMC stopped on ${signal} in ${Date.now() - started} ms`);
        process.exit(0);
      },
      (err: unknown) => {
        console.error(`OpenITSMC: error while stopping on ${signal}:`, err);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}
