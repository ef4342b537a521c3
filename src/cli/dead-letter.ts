import type { Command } from 'commander';
import { ApiClient, CliError, output } from './api-client.ts';

const columns = ['id', 'actionGroup', 'action', 'connectionName', 'alertId', 'attempts', 'failedAt', 'lastError'];

/** `itsmc dead-letter list|replay`: deliveries that failed for good, and sending them again. */
export function registerDeadLetterCommands(program: Command): void {
  const cmd = program.command('dead-letter').description('deliveries that failed for good');
  const common = (c: Command) => c.option('-w, --workspace <ws>', 'workspace', 'default');
  const base = (o: any) => `/api/v1/workspaces/${encodeURIComponent(o.workspace)}/deadLetters`;

  common(
    cmd
      .command('list')
      .description('list dead letters (oldest first)')
      .option('--connection <name>', 'only this connection')
      .option('--limit <n>', 'at most n', '100'),
  ).action(async (o) => {
    const q = new URLSearchParams({ limit: String(o.limit) });
    if (o.connection) q.set('connection', o.connection);
    const data = await new ApiClient(o).call('GET', `${base(o)}?${q}`);
    output(o.json ? data : data.value, !!o.json, columns);
  });

  common(
    cmd
      .command('replay [id]')
      .description('deliver one dead letter again, or all of them with --all')
      .option('--all', 'replay every dead letter')
      .option('--connection <name>', 'with --all: only this connection'),
  ).action(async (id, o) => {
    if (!id && !o.all) throw new CliError('give a dead letter id, or --all');
    const client = new ApiClient(o);
    const data = id
      ? await client.call('POST', `${base(o)}/${encodeURIComponent(id)}/replay`)
      : await client.call('POST', `${base(o)}/replay`, o.connection ? { connectionName: o.connection } : {});
    if (o.json) output(data, true);
    else console.log(`replayed ${data.replayed}`);
  });
}
