import type { Command } from 'commander';
import { readSettings } from '../config/env.ts';
import { startConnector } from '../runtime/connector.ts';

export function registerServeCommand(program: Command): void {
  program
    .command('serve')
    .description('run the connector (what `npm start` runs)')
    .action(async () => {
      const settings = readSettings();
      const connector = await startConnector({ settings, logger: true });
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
      const stop = async () => {
        await connector.close();
        process.exit(0);
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
}
