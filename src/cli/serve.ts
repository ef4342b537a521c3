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
      console.log(`OpenITSMC listening on ${connector.url} (store: ${connector.store.dialect}, data: ${settings.dataDir})`);
      console.log(`  API docs: ${connector.url}/docs`);
      if (connector.sandboxUrl) console.log(`  sandbox ServiceNow: ${connector.sandboxUrl} (connection 'servicenow-sandbox' in workspace 'default')`);
      if (connector.adminTokenCreated) {
        console.log(`  admin token (shown once; also in ${settings.dataDir}/admin.token, mode 0600): ${connector.adminToken}`);
      }
      // The webhook URL carries the action group's secret (anyone holding it can post alerts). Unlike a
      // generated admin token it is printed on every start, which is fine: the console belongs to the
      // operator who runs the connector, and the URL is what they paste into their monitoring tool.
      if (connector.sandboxWebhookUrl) console.log(`  webhook for action group 'sandbox': ${connector.sandboxWebhookUrl}`);
      const stop = async () => {
        await connector.close();
        process.exit(0);
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
}
