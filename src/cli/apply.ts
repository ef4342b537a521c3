/**
 * `itsmc apply -f FILE [--dry-run]`: configuration as code. The file (YAML or JSON) lists connections and
 * action groups of one workspace; secrets are `${env:NAME}` references resolved from the environment, so
 * the file can live in version control. Apply is idempotent: what already matches is left alone, and the
 * dry run prints the same plan without changing anything. Nothing absent from the file is deleted.
 *
 * ```yaml
 * workspace: default
 * connections:
 *   - name: snow-prod
 *     partnerType: ServiceNow
 *     serverUrl: https://contoso.service-now.com
 *     username: itsmc.integration
 *     password: ${env:SNOW_PASSWORD}
 *     clientId: 0123abcd
 *     clientSecret: ${env:SNOW_CLIENT_SECRET}
 * actionGroups:
 *   - name: ops
 *     itsmReceivers:
 *       - name: incident
 *         connectionName: snow-prod
 *         ticketConfiguration: { WorkItemType: Incident, autoResolve: { mode: resolve } }
 * ```
 */
import fs from 'node:fs';
import type { Command } from 'commander';
import { ApiClient, CliError } from './api-client.ts';

export interface ConfigFile {
  workspace: string;
  connections: Record<string, unknown>[];
  actionGroups: Record<string, unknown>[];
}

export type PlanAction = 'create' | 'update' | 'unchanged';

export interface PlanItem {
  kind: 'connection' | 'actionGroup';
  name: string;
  action: PlanAction;
  changes: string[];
}

const SECRET_FIELDS = new Set(['password', 'clientSecret']);
const CONNECTION_FIELDS = ['partnerType', 'serverUrl', 'clientId', 'dataSyncScope', 'syncDataDays', 'createNewConfigurationItems', 'syncIntervalSeconds'];

/** Reads and checks the file; `${env:NAME}` references are resolved (a missing variable is an error). */
export async function readConfigFile(file: string, env: NodeJS.ProcessEnv = process.env): Promise<ConfigFile> {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err: any) {
    throw new CliError(`cannot read ${file}: ${err.code ?? err.message}`);
  }
  let doc: unknown;
  try {
    doc = /\.json$/i.test(file) ? JSON.parse(text) : (await import('yaml')).parse(text);
  } catch (err: any) {
    throw new CliError(`${file} is not valid ${/\.json$/i.test(file) ? 'JSON' : 'YAML'}: ${err.message}`);
  }
  return parseConfig(doc, env, file);
}

export function parseConfig(doc: unknown, env: NodeJS.ProcessEnv, source = 'the file'): ConfigFile {
  if (!doc || typeof doc !== 'object' || Array.isArray(doc)) throw new CliError(`${source} must be a mapping with connections and/or actionGroups`);
  const missing = new Set<string>();
  const resolved = resolveEnv(doc, env, missing) as Record<string, unknown>;
  if (missing.size) throw new CliError(`${source} refers to environment variables that are not set: ${[...missing].join(', ')}`);
  const unknown = Object.keys(resolved).filter((k) => !['workspace', 'connections', 'actionGroups'].includes(k));
  if (unknown.length) throw new CliError(`${source}: unknown top-level key(s) ${unknown.join(', ')} (expected workspace, connections, actionGroups)`);
  const list = (key: string): Record<string, unknown>[] => {
    const v = resolved[key] ?? [];
    if (!Array.isArray(v)) throw new CliError(`${source}: ${key} must be a list`);
    v.forEach((item, i) => {
      if (!item || typeof item !== 'object' || typeof (item as any).name !== 'string') throw new CliError(`${source}: ${key}[${i}] needs a name`);
    });
    const names = v.map((x: any) => x.name);
    const dup = names.find((n, i) => names.indexOf(n) !== i);
    if (dup) throw new CliError(`${source}: ${key} lists '${dup}' twice`);
    return v as Record<string, unknown>[];
  };
  return { workspace: typeof resolved.workspace === 'string' ? resolved.workspace : 'default', connections: list('connections'), actionGroups: list('actionGroups') };
}

function resolveEnv(v: unknown, env: NodeJS.ProcessEnv, missing: Set<string>): unknown {
  if (typeof v === 'string') {
    return v.replace(/\$\{env:([A-Za-z_][A-Za-z0-9_]*)\}/g, (_m, name: string) => {
      const value = env[name];
      if (value === undefined) {
        missing.add(name);
        return '';
      }
      return value;
    });
  }
  if (Array.isArray(v)) return v.map((x) => resolveEnv(x, env, missing));
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, resolveEnv(x, env, missing)]));
  return v;
}

/** Schema defaults the server fills into a stored ticketConfiguration (so leaving them out is no change). */
async function ticketDefaults(): Promise<Record<string, unknown>> {
  const { TicketConfigurationSchema } = await import('../actions/ticket-config.ts');
  return Object.fromEntries(
    Object.entries(TicketConfigurationSchema.properties as Record<string, { default?: unknown }>)
      .filter(([, s]) => s.default !== undefined)
      .map(([k, s]) => [k, s.default]),
  );
}

function stripDefaults(current: unknown, desired: unknown, defaults: Record<string, unknown>): unknown {
  if (!current || typeof current !== 'object' || Array.isArray(current)) return current;
  const d = (desired && typeof desired === 'object' ? desired : {}) as Record<string, unknown>;
  return Object.fromEntries(Object.entries(current as Record<string, unknown>).filter(([k, v]) => k in d || !(k in defaults) || JSON.stringify(defaults[k]) !== JSON.stringify(v)));
}

/** Differences as `path: old → new` lines (secrets never printed). */
export function diff(current: unknown, desired: unknown, path = ''): string[] {
  if (JSON.stringify(current) === JSON.stringify(desired)) return [];
  const isObj = (x: unknown) => x !== null && typeof x === 'object' && !Array.isArray(x);
  if (isObj(current) && isObj(desired)) {
    const out: string[] = [];
    const keys = [...new Set([...Object.keys(current as object), ...Object.keys(desired as object)])];
    for (const k of keys) out.push(...diff((current as any)[k], (desired as any)[k], path ? `${path}.${k}` : k));
    return out;
  }
  if (Array.isArray(current) && Array.isArray(desired) && current.length === desired.length) {
    return current.flatMap((c, i) => diff(c, desired[i], `${path}[${i}]`));
  }
  const show = (x: unknown) => (x === undefined ? '(none)' : JSON.stringify(x));
  return [`${path || '(root)'}: ${show(current)} → ${show(desired)}`];
}

function normalizeGroup(g: Record<string, unknown>): Record<string, unknown> {
  const receivers = Array.isArray(g.itsmReceivers) ? g.itsmReceivers : [];
  return {
    shortName: g.shortName ?? String(g.name).slice(0, 12),
    enabled: g.enabled ?? true,
    itsmReceivers: receivers.map((r: any) => ({ name: r?.name, connectionName: r?.connectionName, ticketConfiguration: r?.ticketConfiguration })),
  };
}

/** What apply would do, computed against the running connector. */
export async function plan(client: ApiClient, cfg: ConfigFile): Promise<PlanItem[]> {
  const ws = encodeURIComponent(cfg.workspace);
  const items: PlanItem[] = [];
  const existingConnections = new Map<string, any>(((await client.call('GET', `/api/v1/workspaces/${ws}/connections`)).value as any[]).map((c) => [c.name, c]));
  for (const c of cfg.connections) {
    const name = String(c.name);
    const current = existingConnections.get(name);
    if (!current) {
      items.push({ kind: 'connection', name, action: 'create', changes: Object.keys(c).filter((k) => k !== 'name').map((k) => `${k}: ${SECRET_FIELDS.has(k) ? '***' : JSON.stringify(c[k])}`) });
      continue;
    }
    const changes: string[] = [];
    for (const f of CONNECTION_FIELDS) {
      if (c[f] === undefined) continue;
      changes.push(...diff(current[f], c[f], f));
    }
    if (c.clientSecret !== undefined && !current.hasClientSecret) changes.push('clientSecret: (none) → ***');
    items.push({ kind: 'connection', name, action: changes.length ? 'update' : 'unchanged', changes });
  }
  const defaults = await ticketDefaults();
  const existingGroups = new Map<string, any>(((await client.call('GET', `/api/v1/workspaces/${ws}/actionGroups`)).value as any[]).map((g) => [g.name, g]));
  for (const g of cfg.actionGroups) {
    const name = String(g.name);
    const desired = normalizeGroup(g);
    const current = existingGroups.get(name);
    if (!current) {
      items.push({ kind: 'actionGroup', name, action: 'create', changes: diff(undefined, desired) });
      continue;
    }
    const cur = normalizeGroup(current);
    cur.itsmReceivers = (cur.itsmReceivers as any[]).map((r, i) => ({ ...r, ticketConfiguration: stripDefaults(r.ticketConfiguration, (desired.itsmReceivers as any[])[i]?.ticketConfiguration, defaults) }));
    const changes = diff(cur, desired);
    items.push({ kind: 'actionGroup', name, action: changes.length ? 'update' : 'unchanged', changes });
  }
  return items;
}

/** Applies the plan: connections first (action groups refer to them), then action groups. */
export async function apply(client: ApiClient, cfg: ConfigFile, items: PlanItem[]): Promise<void> {
  const ws = encodeURIComponent(cfg.workspace);
  for (const item of items) {
    if (item.action === 'unchanged') continue;
    if (item.kind === 'connection') {
      const { name: _n, ...body } = cfg.connections.find((c) => c.name === item.name)!;
      await client.call('PUT', `/api/v1/workspaces/${ws}/connections/${encodeURIComponent(item.name)}`, body);
    } else {
      const { name: _n, ...body } = cfg.actionGroups.find((g) => g.name === item.name)!;
      await client.call('PUT', `/api/v1/workspaces/${ws}/actionGroups/${encodeURIComponent(item.name)}`, body);
    }
  }
}

export function formatPlan(items: PlanItem[], dryRun: boolean): string {
  const lines: string[] = [];
  const verb: Record<PlanAction, string> = dryRun ? { create: 'would create', update: 'would update', unchanged: 'unchanged' } : { create: 'created', update: 'updated', unchanged: 'unchanged' };
  for (const i of items) {
    lines.push(`${i.kind === 'connection' ? 'connection' : 'action group'} ${i.name}: ${verb[i.action]}`);
    if (i.action !== 'unchanged') for (const c of i.changes) lines.push(`    ${i.action === 'create' ? '+' : '~'} ${c}`);
  }
  const n = (a: PlanAction) => items.filter((i) => i.action === a).length;
  lines.push(`${dryRun ? 'plan' : 'applied'}: ${n('create')} to create, ${n('update')} to update, ${n('unchanged')} unchanged${dryRun ? ' (dry run: nothing changed)' : ''}`);
  return lines.join('\n');
}

export function registerApplyCommand(program: Command): void {
  program
    .command('apply')
    .description('create or update connections and action groups from a YAML/JSON file (secrets as ${env:NAME})')
    .requiredOption('-f, --file <file>', 'configuration file (.yaml, .yml or .json)')
    .option('--dry-run', 'print what would change and change nothing')
    .action(async (o) => {
      const cfg = await readConfigFile(o.file);
      const client = new ApiClient(o);
      const items = await plan(client, cfg);
      if (!o.dryRun) await apply(client, cfg, items);
      if (o.json) console.log(JSON.stringify({ dryRun: !!o.dryRun, items }, null, 2));
      else console.log(formatPlan(items, !!o.dryRun));
    });
}
