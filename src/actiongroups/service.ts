import { randomUUID } from 'node:crypto';
import type { Store } from '../store/store.ts';
import type { ActionGroupsTable, ConnectionsTable } from '../store/schema.ts';
import type { SecretBox } from '../security/envelope.ts';
import { hashToken, newToken } from '../security/keys.ts';
import type { PartnerConfiguration } from '../partners/partner.ts';
import type { PartnerDescriptor } from '../partners/descriptor.ts';
import { partnerDescriptor } from '../partners/registry.ts';
import { normalizeTicketConfiguration, validateTicketConfiguration, type TicketConfiguration } from '../actions/ticket-config.ts';
import { InvalidError, NotFoundError, type Problem } from '../core/errors.ts';
import { MAX_ITSM_ACTIONS, type ActionGroupInput, type ActionGroupView, type ItsmReceiver } from './model.ts';

export const webhookSecretAad = (actionGroupId: string) => `actiongroup:${actionGroupId}:webhook`;

/** An action group ready for ingestion: receivers resolved to their connections. */
export interface ResolvedActionGroup {
  id: string;
  workspace: string;
  name: string;
  enabled: boolean;
  receivers: ResolvedReceiver[];
  updatedAt: number;
}

export interface ResolvedReceiver {
  index: number;
  name: string;
  connectionName: string;
  /** Null when the connection no longer exists (its jobs dead-letter with that message). */
  connectionId: string | null;
  config: TicketConfiguration;
}

const CACHE_TTL_MS = 2_000;

/**
 * Action groups: CRUD with validation against each connection's synced configuration, the webhook
 * secret (only its SHA-256 and an encrypted copy are stored), and a short-lived cache of resolved groups
 * for the ingestion hot path (local changes invalidate it at once; other processes within 2 s).
 */
export class ActionGroupService {
  private readonly byHash = new Map<string, { group: ResolvedActionGroup | null; at: number }>();
  private readonly byName = new Map<string, { group: ResolvedActionGroup | null; at: number }>();
  private readonly byId = new Map<string, { group: ResolvedActionGroup | null; at: number }>();

  constructor(
    private readonly store: Store,
    private readonly box: SecretBox,
  ) {}

  /** Creates or replaces an action group; with `dryRun` it validates and writes nothing (the row returned has no webhook secret). */
  async put(
    workspace: string,
    name: string,
    input: ActionGroupInput,
    options: { dryRun?: boolean } = {},
  ): Promise<{ row: ActionGroupsTable; created: boolean }> {
    if (!(await this.store.workspaces.get(workspace))) throw new NotFoundError(`workspace '${workspace}' does not exist`);
    const receivers = await this.validate(workspace, input);
    const existing = await this.store.actionGroups.get(workspace, name);
    const now = Date.now();
    if (options.dryRun) {
      const base = existing ?? { id: '', workspace, name, webhook_secret_hash: '', webhook_secret_enc: '', created_at: now, updated_at: now };
      return {
        row: {
          ...base,
          short_name: input.shortName ?? existing?.short_name ?? name.slice(0, 12),
          enabled: input.enabled === false ? 0 : 1,
          receivers: JSON.stringify(receivers),
        },
        created: !existing,
      };
    }
    if (existing) {
      await this.store.actionGroups.update(existing.id, {
        short_name: input.shortName ?? existing.short_name,
        enabled: input.enabled === false ? 0 : 1,
        receivers: JSON.stringify(receivers),
      });
      this.invalidate();
      return { row: (await this.store.actionGroups.getById(existing.id))!, created: false };
    }
    const id = randomUUID();
    const secret = newToken('itsmh');
    const row: ActionGroupsTable = {
      id,
      workspace,
      name,
      short_name: input.shortName ?? name.slice(0, 12),
      enabled: input.enabled === false ? 0 : 1,
      receivers: JSON.stringify(receivers),
      webhook_secret_hash: hashToken(secret),
      webhook_secret_enc: this.box.encrypt(secret, webhookSecretAad(id)),
      created_at: now,
      updated_at: now,
    };
    await this.store.actionGroups.insert(row);
    this.invalidate();
    return { row, created: true };
  }

  async get(workspace: string, name: string): Promise<ActionGroupsTable> {
    const row = await this.store.actionGroups.get(workspace, name);
    if (!row) throw new NotFoundError(`action group '${name}' does not exist in workspace '${workspace}'`);
    return row;
  }

  list(workspace: string): Promise<ActionGroupsTable[]> {
    return this.store.actionGroups.list(workspace);
  }

  async delete(workspace: string, name: string): Promise<void> {
    const row = await this.get(workspace, name);
    await this.store.actionGroups.delete(row.id);
    this.invalidate();
  }

  /** New webhook secret; the old URL stops working at once (in this process; in others within 2 s). */
  async rotateSecret(workspace: string, name: string): Promise<ActionGroupsTable> {
    const row = await this.get(workspace, name);
    const secret = newToken('itsmh');
    await this.store.actionGroups.update(row.id, {
      webhook_secret_hash: hashToken(secret),
      webhook_secret_enc: this.box.encrypt(secret, webhookSecretAad(row.id)),
    });
    this.invalidate();
    return (await this.store.actionGroups.getById(row.id))!;
  }

  secretOf(row: ActionGroupsTable): string {
    return this.box.decrypt(row.webhook_secret_enc, webhookSecretAad(row.id));
  }

  /** Names of the action groups whose receivers use a connection (connection delete is refused while any do). */
  async usedBy(workspace: string, connectionName: string): Promise<string[]> {
    const rows = await this.store.actionGroups.list(workspace);
    return rows.filter((r) => parseReceivers(r.receivers).some((x) => x.connectionName === connectionName)).map((r) => r.name);
  }

  view(row: ActionGroupsTable, baseUrl: string, showSecret: boolean): ActionGroupView {
    const base = baseUrl.replace(/\/+$/, '');
    return {
      name: row.name,
      workspace: row.workspace,
      shortName: row.short_name,
      enabled: row.enabled === 1,
      itsmReceivers: parseReceivers(row.receivers),
      webhookUrl: showSecret ? `${base}/hooks/${this.secretOf(row)}` : null,
      alertsUrl: `${base}/api/v1/workspaces/${encodeURIComponent(row.workspace)}/actionGroups/${encodeURIComponent(row.name)}/alerts`,
      createdAt: new Date(row.created_at).toISOString(),
      updatedAt: new Date(row.updated_at).toISOString(),
    };
  }

  // ------------------------------------------------------------ ingestion lookups (cached)

  async resolveBySecret(secret: string): Promise<ResolvedActionGroup | null> {
    if (secret.length < 10 || secret.length > 200) return null;
    const hash = hashToken(secret);
    return this.cached(this.byHash, hash, async () => {
      const row = await this.store.actionGroups.getBySecretHash(hash);
      return row ? this.resolve(row) : null;
    });
  }

  async resolveByName(workspace: string, name: string): Promise<ResolvedActionGroup | null> {
    return this.cached(this.byName, `${workspace}\u0000${name}`, async () => {
      const row = await this.store.actionGroups.get(workspace, name);
      return row ? this.resolve(row) : null;
    });
  }

  async resolveById(id: string): Promise<ResolvedActionGroup | null> {
    return this.cached(this.byId, id, async () => {
      const row = await this.store.actionGroups.getById(id);
      return row ? this.resolve(row) : null;
    });
  }

  invalidate(): void {
    this.byHash.clear();
    this.byName.clear();
    this.byId.clear();
  }

  private async cached(
    map: Map<string, { group: ResolvedActionGroup | null; at: number }>,
    key: string,
    load: () => Promise<ResolvedActionGroup | null>,
  ): Promise<ResolvedActionGroup | null> {
    const hit = map.get(key);
    const now = Date.now();
    if (hit && now - hit.at < CACHE_TTL_MS) return hit.group;
    const group = await load();
    if (map.size > 10_000) map.clear();
    map.set(key, { group, at: now });
    return group;
  }

  private async resolve(row: ActionGroupsTable): Promise<ResolvedActionGroup> {
    const connections = new Map((await this.store.connections.list(row.workspace)).map((c) => [c.name, c]));
    return {
      id: row.id,
      workspace: row.workspace,
      name: row.name,
      enabled: row.enabled === 1,
      updatedAt: row.updated_at,
      receivers: parseReceivers(row.receivers).map((r, index) => ({
        index,
        name: r.name,
        connectionName: r.connectionName,
        connectionId: connections.get(r.connectionName)?.id ?? null,
        config: normalizeTicketConfiguration(r.ticketConfiguration, partnerOf(connections.get(r.connectionName))),
      })),
    };
  }

  /** Every problem of the input at once, each with the valid values where there is a closed set. */
  private async validate(workspace: string, input: ActionGroupInput): Promise<ItsmReceiver[]> {
    const problems: Problem[] = [];
    if (input.itsmReceivers.length > MAX_ITSM_ACTIONS)
      problems.push({ path: 'itsmReceivers', message: `at most ${MAX_ITSM_ACTIONS} ITSM actions per action group` });
    const connections = new Map((await this.store.connections.list(workspace)).map((c) => [c.name, c]));
    const names = new Set<string>();
    input.itsmReceivers.forEach((r, i) => {
      const at = `itsmReceivers/${i}`;
      if (names.has(r.name))
        problems.push({ path: `${at}/name`, message: `ITSM action name '${r.name}' is used twice; names are unique within the action group` });
      names.add(r.name);
      const conn = connections.get(r.connectionName);
      if (!conn) {
        problems.push({
          path: `${at}/connectionName`,
          message: `connection '${r.connectionName}' does not exist in workspace '${workspace}'`,
          allowed: [...connections.keys()],
        });
        return;
      }
      for (const p of checkAgainst(conn, r.ticketConfiguration)) {
        problems.push({
          path: `${at}/ticketConfiguration${p.path ? '/' + p.path.replaceAll('.', '/') : ''}`,
          message: p.message,
          ...(p.allowed ? { allowed: p.allowed } : {}),
        });
      }
    });
    if (problems.length) throw new InvalidError(problems);
    return input.itsmReceivers.map((r) => ({ name: r.name, connectionName: r.connectionName, ticketConfiguration: r.ticketConfiguration }));
  }

  /** Problems of one ITSM action's ticketConfiguration against a connection's synced configuration (the editor's live check). */
  async checkAction(workspace: string, connectionName: string, ticketConfiguration: unknown) {
    const conn = await this.store.connections.get(workspace, connectionName);
    if (!conn) throw new NotFoundError(`connection '${connectionName}' does not exist in workspace '${workspace}'`);
    return { problems: checkAgainst(conn, ticketConfiguration), partner: partnerOf(conn) };
  }
}

function checkAgainst(conn: ConnectionsTable, ticketConfiguration: unknown) {
  return validateTicketConfiguration(ticketConfiguration, partnerConfiguration(conn), { partner: partnerOf(conn) });
}

export function parseReceivers(json: string): ItsmReceiver[] {
  try {
    const v = JSON.parse(json) as unknown;
    return Array.isArray(v) ? (v as ItsmReceiver[]) : [];
  } catch {
    return [];
  }
}

function partnerOf(conn: ConnectionsTable | undefined): PartnerDescriptor | undefined {
  return conn ? partnerDescriptor(conn.partner_type) : undefined;
}

function partnerConfiguration(conn: ConnectionsTable): PartnerConfiguration {
  if (!conn.configuration) return { templates: [], choices: [] };
  try {
    const c = JSON.parse(conn.configuration) as Partial<PartnerConfiguration>;
    return { templates: c.templates ?? [], choices: c.choices ?? [], ...(c.fields ? { fields: c.fields } : {}) };
  } catch {
    return { templates: [], choices: [] };
  }
}
