/**
 * `itsmc apply -f FILE [--dry-run]`: configuration as code. The file (YAML or JSON) lists connections and
 * action groups of one workspace; secrets are `${env:NAME}` references resolved from the environment, so
 * the file can live in version control. Apply is idempotent: what already matches is left alone. Before
 * anything is written the connector validates every item (`?dryRun=true`); the dry run stops there. Secrets
 * cannot be compared (never stored readable): they are checked against the partner on every run and sent
 * only when the connection is not Healthy or with --rotate-credentials. Nothing absent from the file is deleted.
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
  return {
    workspace: typeof resolved.workspace === 'string' ? resolved.workspace : 'default',
    connections: list('connections'),
    actionGroups: list('actionGroups'),
  };
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
  return Object.fromEntries(
    Object.entries(current as Record<string, unknown>).filter(([k, v]) => k in d || !(k in defaults) || JSON.stringify(defaults[k]) !== JSON.stringify(v)),
  );
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
export async function plan(client: ApiClient, cfg: ConfigFile, options: { rotateCredentials?: boolean } = {}): Promise<PlanItem[]> {
  const ws = encodeURIComponent(cfg.workspace);
  const items: PlanItem[] = [];
  const existingConnections = new Map<string, any>(((await client.call('GET', `/api/v1/workspaces/${ws}/connections`)).value as any[]).map((c) => [c.name, c]));
  for (const c of cfg.connections) {
    const name = String(c.name);
    const current = existingConnections.get(name);
    if (!current) {
      items.push({
        kind: 'connection',
        name,
        action: 'create',
        changes: Object.keys(c)
          .filter((k) => k !== 'name')
          .map((k) => `${k}: ${SECRET_FIELDS.has(k) ? '***' : JSON.stringify(c[k])}`),
      });
      continue;
    }
    const changes: string[] = [];
    for (const f of CONNECTION_FIELDS) {
      if (c[f] === undefined) continue;
      changes.push(...diff(current[f], c[f], f));
    }
    if (c.clientSecret !== undefined && !current.hasClientSecret) changes.push('clientSecret: (none) → ***');
    // Secrets are never stored readable, so they cannot be compared: the validation step checks them against
    // the partner, and they are sent (a new sign-in) when asked to or when the connection cannot sign in now.
    const secrets = [...SECRET_FIELDS].filter((k) => c[k] !== undefined);
    if (secrets.length && (options.rotateCredentials || current.status !== 'Healthy')) {
      changes.push(
        `${secrets.join(', ')}: sign in again with the file's ${secrets.join(' and ')}${options.rotateCredentials ? ' (--rotate-credentials)' : ` (status ${current.status})`}`,
      );
    }
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
    cur.itsmReceivers = (cur.itsmReceivers as any[]).map((r, i) => ({
      ...r,
      ticketConfiguration: stripDefaults(r.ticketConfiguration, (desired.itsmReceivers as any[])[i]?.ticketConfiguration, defaults),
    }));
    const changes = diff(cur, desired);
    items.push({ kind: 'actionGroup', name, action: changes.length ? 'update' : 'unchanged', changes });
  }
  return items;
}

const pathOf = (cfg: ConfigFile, item: PlanItem) =>
  `/api/v1/workspaces/${encodeURIComponent(cfg.workspace)}/${item.kind === 'connection' ? 'connections' : 'actionGroups'}/${encodeURIComponent(item.name)}`;

function bodyOf(cfg: ConfigFile, item: PlanItem): Record<string, unknown> {
  const list = item.kind === 'connection' ? cfg.connections : cfg.actionGroups;
  const { name: _name, ...body } = list.find((x) => x.name === item.name)!;
  return body;
}

const label = (item: PlanItem) => `${item.kind === 'connection' ? 'connection' : 'action group'} ${item.name}`;

/**
 * Runs the connector's own validation on everything the plan would write (`?dryRun=true`: schema, SSRF
 * guard, credential check against the partner, ticketConfiguration against the connection's templates) and
 * on every connection whose file gives secrets, writing nothing. An action group that uses a connection
 * this apply creates cannot be checked against its templates yet; that check happens when it is applied.
 * Returns one line per problem.
 */
export async function validatePlan(client: ApiClient, cfg: ConfigFile, items: PlanItem[]): Promise<string[]> {
  const creating = new Set(items.filter((i) => i.kind === 'connection' && i.action === 'create').map((i) => i.name));
  const problems: string[] = [];
  for (const item of items) {
    const body = bodyOf(cfg, item);
    const hasSecrets = [...SECRET_FIELDS].some((k) => body[k] !== undefined);
    if (item.action === 'unchanged' && !(item.kind === 'connection' && hasSecrets)) continue;
    try {
      await client.call('PUT', `${pathOf(cfg, item)}?dryRun=true`, body);
    } catch (err) {
      if (!(err instanceof CliError) || err.status === undefined || err.status >= 500 || err.status === 401 || err.status === 403) throw err;
      const details = Array.isArray(err.details) ? (err.details as { path?: string; message?: string }[]) : [];
      const receivers = (body.itsmReceivers ?? []) as { connectionName?: string }[];
      const laterConnection = (d: { path?: string }) => {
        const m = /^body\/itsmReceivers\/(\d+)\/connectionName$/.exec(d.path ?? '');
        return !!m && creating.has(String(receivers[Number(m[1])]?.connectionName));
      };
      if (item.kind === 'actionGroup' && details.length && details.every(laterConnection)) continue;
      const reported = details.filter((d) => !laterConnection(d));
      if (reported.length) for (const d of reported) problems.push(`${label(item)}: ${(d.path ?? '').replace(/^body\/?/, '') || 'body'}: ${d.message}`);
      else problems.push(`${label(item)}: ${err.message.split('\n')[0]}`);
    }
  }
  return problems;
}

export interface AppliedStep {
  item: PlanItem;
  /** Webhook URL of an action group this apply created. */
  webhookUrl?: string;
  status?: string;
}

/** Applies the plan, connections first (action groups refer to them), reporting each step as it is done. */
export async function apply(client: ApiClient, cfg: ConfigFile, items: PlanItem[], report: (step: AppliedStep) => void = () => {}): Promise<AppliedStep[]> {
  const done: AppliedStep[] = [];
  for (const item of items) {
    if (item.action === 'unchanged') continue;
    let answer: { status?: string; webhookUrl?: string | null };
    try {
      answer = await client.call('PUT', pathOf(cfg, item), bodyOf(cfg, item));
    } catch (err) {
      const before = done.length
        ? `already applied: ${done.map((d) => `${label(d.item)} ${d.item.action === 'create' ? 'created' : 'updated'}`).join(', ')}`
        : 'nothing was applied';
      throw new CliError(
        `${label(item)}: ${(err as Error).message}\napply stopped here; ${before}`,
        (err as CliError).status,
        (err as CliError).code,
        (err as CliError).details,
      );
    }
    const step: AppliedStep = {
      item,
      ...(item.kind === 'connection' ? { status: answer.status } : {}),
      ...(item.kind === 'actionGroup' && item.action === 'create' && answer.webhookUrl ? { webhookUrl: answer.webhookUrl } : {}),
    };
    done.push(step);
    report(step);
  }
  return done;
}

function formatStep(step: AppliedStep): string {
  const verb = step.item.action === 'create' ? 'created' : 'updated';
  return `${label(step.item)}: ${verb}${step.status ? ` (status ${step.status})` : ''}${step.webhookUrl ? `\n    webhook URL: ${step.webhookUrl}` : ''}`;
}

export function formatPlan(items: PlanItem[], dryRun: boolean): string {
  const lines: string[] = [];
  const verb: Record<PlanAction, string> = dryRun
    ? { create: 'would create', update: 'would update', unchanged: 'unchanged' }
    : { create: 'created', update: 'updated', unchanged: 'unchanged' };
  for (const i of items) {
    lines.push(`${i.kind === 'connection' ? 'connection' : 'action group'} ${i.name}: ${verb[i.action]}`);
    if (i.action !== 'unchanged') for (const c of i.changes) lines.push(`    ${i.action === 'create' ? '+' : '~'} ${c}`);
  }
  const n = (a: PlanAction) => items.filter((i) => i.action === a).length;
  lines.push(
    `${dryRun ? 'plan' : 'applied'}: ${n('create')} to create, ${n('update')} to update, ${n('unchanged')} unchanged${dryRun ? ' (dry run: nothing changed)' : ''}`,
  );
  return lines.join('\n');
}

export function registerApplyCommand(program: Command): void {
  program
    .command('apply')
    .description(
      'create or update connections and action groups from a YAML/JSON file (secrets as ${env:NAME}); everything is validated by the connector before anything is written',
    )
    .requiredOption('-f, --file <file>', 'configuration file (.yaml, .yml or .json)')
    .option('--dry-run', 'validate everything on the connector and print what would change; change nothing')
    .option('--rotate-credentials', "sign in again with the file's passwords and client secrets even where the connection is healthy")
    .action(async (o) => {
      const cfg = await readConfigFile(o.file);
      const client = new ApiClient(o);
      const items = await plan(client, cfg, { rotateCredentials: !!o.rotateCredentials });
      const problems = await validatePlan(client, cfg, items);
      if (problems.length) throw new CliError(`${o.file} does not validate; nothing was applied:\n${problems.map((p) => `  - ${p}`).join('\n')}`, 400);
      const steps = o.dryRun ? [] : await apply(client, cfg, items, (step) => !o.json && console.log(formatStep(step)));
      if (o.json)
        console.log(JSON.stringify({ dryRun: !!o.dryRun, items: items.map((i) => ({ ...i, ...steps.find((s) => s.item === i), item: undefined })) }, null, 2));
      else console.log(formatPlan(items, !!o.dryRun));
    });
}
