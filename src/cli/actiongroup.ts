import fs from 'node:fs';
import type { Command } from 'commander';
import { ApiClient, CliError, output } from './api-client.ts';

const columns = ['name', 'enabled', 'shortName', 'actions', 'webhookUrl'];

/** `itsmc actiongroup list|show|apply|rm|rotate-secret` over the REST API. */
export function registerActionGroupCommands(program: Command): void {
  const cmd = program.command('actiongroup').description('manage action groups (ITSM actions and their webhook URLs)');
  const common = (c: Command) => c.option('-w, --workspace <ws>', 'workspace', 'default');
  const base = (o: any) => `/api/v1/workspaces/${encodeURIComponent(o.workspace)}/actionGroups`;
  const row = (g: any) => ({ ...g, actions: (g.itsmReceivers ?? []).map((r: any) => `${r.name}→${r.connectionName}:${r.ticketConfiguration?.WorkItemType}`) });

  common(cmd.command('list').description('list action groups')).action(async (o) => {
    const data = await new ApiClient(o).call('GET', base(o));
    output(o.json ? data : data.value.map(row), !!o.json, columns);
  });

  common(cmd.command('show <name>').description('show one action group, with its webhook URL')).action(async (name, o) => {
    output(await new ApiClient(o).call('GET', `${base(o)}/${encodeURIComponent(name)}`), true);
  });

  common(
    cmd
      .command('apply')
      .description('create or replace action groups from a YAML/JSON file: one group {name, shortName?, enabled?, itsmReceivers} or a list of them')
      .requiredOption('-f, --file <file>', 'YAML or JSON file'),
  ).action(async (o) => {
    let doc: unknown;
    try {
      const text = fs.readFileSync(o.file, 'utf8');
      doc = /\.json$/i.test(o.file) ? JSON.parse(text) : (await import('yaml')).parse(text);
    } catch (err: any) {
      throw new CliError(`cannot read ${o.file}: ${err.message}`);
    }
    const groups = (Array.isArray(doc) ? doc : [doc]) as Record<string, unknown>[];
    const client = new ApiClient(o);
    const results = [];
    for (const g of groups) {
      if (!g || typeof g.name !== 'string') throw new CliError(`${o.file}: every action group needs a name`);
      const { name, ...body } = g;
      results.push(await client.call('PUT', `${base(o)}/${encodeURIComponent(name as string)}`, body));
    }
    output(o.json ? results : results.map(row), !!o.json, columns);
  });

  common(cmd.command('rotate-secret <name>').description('new webhook secret (the old webhook URL stops working)')).action(async (name, o) => {
    output(await new ApiClient(o).call('POST', `${base(o)}/${encodeURIComponent(name)}/rotateWebhookSecret`), !!o.json, ['name', 'webhookUrl']);
  });

  common(cmd.command('rm <name>').description('delete an action group')).action(async (name, o) => {
    await new ApiClient(o).call('DELETE', `${base(o)}/${encodeURIComponent(name)}`);
    if (!o.json) console.log(`deleted ${name}`);
  });
}
