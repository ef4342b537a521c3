import type { Command } from 'commander';
import { ApiClient, output } from './api-client.ts';

const columns = ['id', 'state', 'nextAttemptAt', 'attempts', 'lastError', 'alertRule', 'actionGroup', 'action', 'connectionName'];

/** `itsmc queue list`: what is waiting to be delivered, and why. */
export function registerQueueCommands(program: Command): void {
  const cmd = program.command('queue').description('the delivery queue');
  cmd
    .command('list')
    .description('delivery jobs not finished yet (oldest first): state, next attempt, attempts, last error, alert rule, action group, connection')
    .option('--url <url>', 'connector base URL (default http://127.0.0.1:$PORT)')
    .option('-w, --workspace <ws>', 'workspace', 'default')
    .option('--json', 'JSON output')
    .option('--connection <name>', 'only this connection')
    .option('--limit <n>', 'at most n', '100')
    .action(async (o) => {
      const q = new URLSearchParams({ limit: String(o.limit) });
      if (o.connection) q.set('connection', o.connection);
      const data = await new ApiClient(o).call('GET', `/api/v1/workspaces/${encodeURIComponent(o.workspace)}/deliveryQueue/jobs?${q}`);
      output(o.json ? data : data.value, !!o.json, columns);
    });
}
