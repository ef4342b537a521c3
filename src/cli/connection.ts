import type { Command } from 'commander';
import { ApiClient, CliError, output } from './api-client.ts';

const columns = ['name', 'partnerType', 'status', 'serverUrl', 'lastSyncAt', 'lastError'];

export function registerConnectionCommands(program: Command): void {
  const cmd = program.command('connection').description('manage ITSM connections');
  const common = (c: Command) => c.option('-w, --workspace <ws>', 'workspace', 'default');
  const base = (o: any) => `/api/v1/workspaces/${encodeURIComponent(o.workspace)}/connections`;

  common(cmd.command('list').description('list connections')).action(async (o) => {
    const data = await new ApiClient(o).call('GET', base(o));
    output(o.json ? data : data.value, !!o.json, columns);
  });

  common(cmd.command('show <name>').description('show one connection')).action(async (name, o) => {
    output(await new ApiClient(o).call('GET', `${base(o)}/${encodeURIComponent(name)}`), true);
  });

  common(
    cmd
      .command('add <name>')
      .description('create or update a connection (checks the credentials first)')
      .requiredOption('--partner <type>', 'partner type, as the connector lists them at GET /api/v1/partners')
      .requiredOption('--server-url <url>', 'partner server URL')
      .option('--username <user>')
      .option('--password <password>', 'used once to obtain tokens, never stored (or ITSMC_PARTNER_PASSWORD)')
      .option('--client-id <id>')
      .option('--client-secret <secret>', 'or ITSMC_PARTNER_CLIENT_SECRET')
      .option('--scope <list>', 'Incident,ChangeRequest')
      .option('--sync-days <n>', 'days of history to sync (1-120)')
      .option('--create-cis', 'create missing configuration items')
      .option('--sync-interval <seconds>', 'data sync interval (>= 30)'),
  ).action(async (name, o) => {
    const body = {
      partnerType: o.partner,
      serverUrl: o.serverUrl,
      username: o.username,
      password: o.password ?? process.env.ITSMC_PARTNER_PASSWORD,
      clientId: o.clientId,
      clientSecret: o.clientSecret ?? process.env.ITSMC_PARTNER_CLIENT_SECRET,
      dataSyncScope: o.scope ? String(o.scope).split(',') : undefined,
      syncDataDays: o.syncDays ? Number(o.syncDays) : undefined,
      createNewConfigurationItems: o.createCis ? true : undefined,
      syncIntervalSeconds: o.syncInterval ? Number(o.syncInterval) : undefined,
    };
    output(await new ApiClient(o).call('PUT', `${base(o)}/${encodeURIComponent(name)}`, body), !!o.json, columns);
  });

  common(cmd.command('test <name>').description('check the credentials and refresh templates and choices now')).action(async (name, o) => {
    output(await new ApiClient(o).call('POST', `${base(o)}/${encodeURIComponent(name)}/test`), !!o.json, columns);
  });

  common(cmd.command('sync <name>').description('sync configuration and data now')).action(async (name, o) => {
    output(await new ApiClient(o).call('POST', `${base(o)}/${encodeURIComponent(name)}/sync`), true);
  });

  common(cmd.command('rm <name>').description('delete a connection').option('--force', 'even while action groups use it')).action(async (name, o) => {
    try {
      await new ApiClient(o).call('DELETE', `${base(o)}/${encodeURIComponent(name)}${o.force ? '?force=true' : ''}`);
    } catch (err) {
      // The API's message names its query parameter; the CLI user needs the flag.
      if (err instanceof CliError && err.status === 409)
        throw new CliError(err.message.replace('?force=true', '--force').replace(/\n.*$/s, ''), err.status, err.code);
      throw err;
    }
    if (!o.json) console.log(`deleted ${name}`);
  });
}
