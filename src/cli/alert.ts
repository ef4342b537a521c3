import fs from 'node:fs';
import type { Command } from 'commander';
import { ApiClient, CliError, output } from './api-client.ts';

/** `itsmc alert send FILE --action-group NAME`: posts a webhook payload through the bearer endpoint. */
export function registerAlertCommands(program: Command): void {
  const cmd = program.command('alert').description('send alerts to an action group');
  cmd
    .command('send <file>')
    .description('post an alert payload (any supported webhook shape, JSON; - reads stdin) to an action group')
    .requiredOption('-g, --action-group <name>', 'action group')
    .option('-w, --workspace <ws>', 'workspace', 'default')
    .action(async (file, o) => {
      let body: unknown;
      try {
        body = JSON.parse(fs.readFileSync(file === '-' ? 0 : file, 'utf8'));
      } catch (err: any) {
        throw new CliError(`cannot read an alert payload from ${file}: ${err.message}`);
      }
      const result = await new ApiClient(o).call(
        'POST',
        `/api/v1/workspaces/${encodeURIComponent(o.workspace)}/actionGroups/${encodeURIComponent(o.actionGroup)}/alerts`,
        body,
      );
      if (o.json) output(result, true);
      else {
        console.log(`${result.status}${result.reason ? `: ${result.reason}` : ''}`);
        if (result.alerts?.length) output(result.alerts, false, ['alertId', 'monitorCondition', 'status', 'workItems']);
      }
    });
}
