import { randomUUID } from 'node:crypto';
import type { Store } from '../store/store.ts';
import type { ConnectionsTable } from '../store/schema.ts';
import type { SecretBox } from '../security/envelope.ts';
import { PartnerError, type AddressGuard, type PartnerClient, type PartnerConfiguration, type TokenSet } from '../partners/partner.ts';
import { partnerDescriptor } from '../partners/registry.ts';
import { ConflictError, InvalidError, NotFoundError, type Problem } from '../core/errors.ts';
import { CONNECTION_DEFAULTS, NAME_PATTERN, requiredFields, type ConnectionInput, type ConnectionView } from './model.ts';
import { checkServerUrl, connectGuard } from './server-url.ts';
import { clientSecretAad, memoryTokenVault, redated, refreshLifetime, storeTokenVault, tokensAad, type RefreshLifetime } from './token-vault.ts';

export interface ConnectionServiceOptions {
  allowedPartnerHosts: string[];
  /** Warn this long before the refresh token expires. */
  refreshWarningMs?: number;
  partnerTimeoutMs?: number;
  /** Called on every status change (the connector log in ServiceDeskLog_CL). */
  onStatus?: (event: ConnectionEvent) => void | Promise<void>;
  /** Called when the partner answered a sign-in, test or sync: delivery need not wait for its timers. */
  onReachable?: (connectionId: string) => void | Promise<void>;
}

export interface ConnectionEvent {
  workspace: string;
  connection: string;
  status: string;
  message: string;
  error?: string;
}

const DEFAULT_REFRESH_WARNING_MS = 14 * 24 * 3600 * 1000;

/** Connection lifecycle: validate, check credentials, store secrets encrypted, sync configuration. */
export class ConnectionService {
  /** The private-address check applied to every address a partner client connects to. */
  private readonly addressGuard: AddressGuard;

  constructor(
    private readonly store: Store,
    private readonly box: SecretBox,
    private readonly options: ConnectionServiceOptions,
  ) {
    this.addressGuard = connectGuard(options.allowedPartnerHosts);
  }

  /** Creates or replaces a connection; with `dryRun` it validates and checks the credentials but writes nothing. */
  async put(workspace: string, name: string, input: ConnectionInput, options: { dryRun?: boolean } = {}): Promise<{ view: ConnectionView; created: boolean }> {
    const existing = await this.store.connections.get(workspace, name);
    this.validate(name, input, existing);
    const id = existing?.id ?? randomUUID();
    const clientSecret = input.clientSecret ?? (existing?.client_secret_enc ? this.box.decrypt(existing.client_secret_enc, clientSecretAad(id)) : undefined);
    const needsLogin = !existing || input.password !== undefined || credentialsChanged(existing, input);
    if (needsLogin && (!input.password || !input.username) && requiredFields(input.partnerType).includes('password')) {
      const missing = (['username', 'password'] as const).filter((f) => !input[f]);
      throw new InvalidError(
        missing.map((f) => ({ path: f, message: 'required' })),
        `${missing.join(' and ')} ${missing.length > 1 ? 'are' : 'is'} required to sign in again when the server URL, client id or client secret changes`,
      );
    }

    let tokens: TokenSet | null = null;
    let configuration: PartnerConfiguration | null = null;
    let status = 'Pending';
    let lastError: string | null = null;
    const descriptor = partnerDescriptor(input.partnerType);
    const create = descriptor?.create;
    if (!create) {
      status = 'Error';
      lastError = `OpenITSMC has no ${input.partnerType} client yet: the connection is stored but cannot send or sync`;
    } else if (needsLogin) {
      const vault = memoryTokenVault(this.refreshLifetime(input.partnerType, input.refreshTokenLifetimeSeconds).seconds);
      const client = create({
        credentials: { serverUrl: input.serverUrl, username: input.username, password: input.password, clientId: input.clientId, clientSecret },
        tokens: vault,
        timeoutMs: this.options.partnerTimeoutMs,
        addressGuard: this.addressGuard,
      });
      tokens = await checkCredentials(client);
      configuration = await client.readConfiguration().catch(() => null);
      status = configuration ? 'Healthy' : 'Degraded';
      lastError = configuration ? null : 'signed in, but reading templates and choice lists failed; it is retried on the next configuration sync';
    }

    const now = Date.now();
    const row: ConnectionsTable = {
      id,
      workspace,
      name,
      partner_type: input.partnerType,
      server_url: input.serverUrl.replace(/\/+$/, ''),
      client_id: input.clientId ?? null,
      client_secret_enc: clientSecret ? this.box.encrypt(clientSecret, clientSecretAad(id)) : null,
      tokens_enc: existing && !needsLogin ? existing.tokens_enc : null,
      // PUT replaces the resource: a setting left out is its default (secrets and tokens are kept, above).
      data_sync_scope: JSON.stringify(input.dataSyncScope ?? CONNECTION_DEFAULTS.dataSyncScope),
      sync_data_days: input.syncDataDays ?? CONNECTION_DEFAULTS.syncDataDays,
      create_new_cis: (input.createNewConfigurationItems ?? CONNECTION_DEFAULTS.createNewConfigurationItems) ? 1 : 0,
      sync_interval_seconds: input.syncIntervalSeconds ?? CONNECTION_DEFAULTS.syncIntervalSeconds,
      refresh_token_lifetime_s: input.refreshTokenLifetimeSeconds ?? null,
      status: existing && !needsLogin && create ? existing.status : status,
      last_error: existing && !needsLogin && create ? existing.last_error : lastError,
      last_sync_at: existing?.last_sync_at ?? null,
      last_config_sync_at: configuration ? now : (existing?.last_config_sync_at ?? null),
      configuration: configuration ? JSON.stringify(configuration) : (existing?.configuration ?? null),
      created_at: existing?.created_at ?? now,
      updated_at: now,
    };
    if (options.dryRun) return { view: this.toView(row), created: !existing };
    if (existing) await this.store.connections.update(id, row);
    else await this.store.connections.insert(row);
    if (tokens) await this.vaultOf(row).save(tokens);
    else if (existing && (existing.refresh_token_lifetime_s ?? null) !== row.refresh_token_lifetime_s) await this.redateRefreshToken(row);
    await this.emit(row, existing ? 'updated' : 'created');
    if (tokens) await this.reachable(id);
    return { view: await this.view(workspace, name), created: !existing };
  }

  /** JSON merge patch (RFC 7396) over the stored connection, then the same checks and sign-in rules as a PUT. */
  async patch(workspace: string, name: string, patch: Record<string, unknown>): Promise<ConnectionView> {
    const row = await this.require(workspace, name);
    const current: Record<string, unknown> = {
      partnerType: row.partner_type,
      serverUrl: row.server_url,
      ...(row.client_id !== null ? { clientId: row.client_id } : {}),
      dataSyncScope: JSON.parse(row.data_sync_scope),
      syncDataDays: row.sync_data_days,
      createNewConfigurationItems: row.create_new_cis === 1,
      syncIntervalSeconds: row.sync_interval_seconds,
      ...(row.refresh_token_lifetime_s ? { refreshTokenLifetimeSeconds: row.refresh_token_lifetime_s } : {}),
    };
    for (const [k, v] of Object.entries(patch)) {
      if (v === null) delete current[k];
      else current[k] = v;
    }
    return (await this.put(workspace, name, current as ConnectionInput)).view;
  }

  async view(workspace: string, name: string): Promise<ConnectionView> {
    return this.toView(await this.require(workspace, name));
  }

  async list(workspace: string): Promise<ConnectionView[]> {
    const rows = await this.store.connections.list(workspace);
    return Promise.all(rows.map((r) => this.toView(r)));
  }

  async delete(workspace: string, name: string, usedBy: string[], force: boolean): Promise<void> {
    const row = await this.require(workspace, name);
    if (usedBy.length && !force) {
      throw new ConflictError(`connection '${name}' is used by action groups: ${usedBy.join(', ')}; remove it from them or delete with ?force=true`, {
        actionGroups: usedBy,
      });
    }
    await this.store.connections.delete(row.id);
  }

  /** The templates and choice lists synced from the partner (empty until the first configuration sync). */
  async configuration(workspace: string, name: string): Promise<PartnerConfiguration> {
    const row = await this.require(workspace, name);
    return row.configuration ? (JSON.parse(row.configuration) as PartnerConfiguration) : { templates: [], choices: [] };
  }

  /** A client for a stored connection; tokens come from and go back to the encrypted store. */
  async client(row: ConnectionsTable): Promise<PartnerClient> {
    const descriptor = partnerDescriptor(row.partner_type);
    if (!descriptor?.create) throw new PartnerError('protocol', `no ${row.partner_type} client in this version`);
    const clientSecret = row.client_secret_enc ? this.box.decrypt(row.client_secret_enc, clientSecretAad(row.id)) : undefined;
    return descriptor.create({
      credentials: { serverUrl: row.server_url, clientId: row.client_id ?? undefined, clientSecret },
      tokens: this.vaultOf(row),
      timeoutMs: this.options.partnerTimeoutMs,
      addressGuard: this.addressGuard,
    });
  }

  /** Test now: refresh the configuration, which proves the tokens work; updates the status. */
  async test(workspace: string, name: string): Promise<ConnectionView> {
    const row = await this.require(workspace, name);
    await this.syncConfiguration(row);
    return this.view(workspace, name);
  }

  async syncConfiguration(row: ConnectionsTable): Promise<void> {
    try {
      const client = await this.client(row);
      const configuration = await client.readConfiguration();
      await this.store.connections.update(row.id, {
        configuration: JSON.stringify(configuration),
        last_config_sync_at: Date.now(),
        status: 'Healthy',
        last_error: null,
      });
      if (row.status !== 'Healthy') await this.emit({ ...row, status: 'Healthy', last_error: null }, 'is healthy again');
      await this.reachable(row.id);
    } catch (err) {
      await this.recordFailure(row, err);
    }
  }

  /**
   * The refresh token lifetime of a connection: its own setting, else ITSMC_REFRESH_TOKEN_LIFETIME_S, else the
   * partner's documented default.
   */
  refreshLifetime(partnerType: string, own: number | null | undefined): RefreshLifetime {
    return refreshLifetime(partnerDescriptor(partnerType), own);
  }

  private vaultOf(row: ConnectionsTable) {
    return storeTokenVault(this.store, this.box, row.id, async () => {
      const fresh = (await this.store.connections.getById(row.id)) ?? row;
      return this.refreshLifetime(fresh.partner_type, fresh.refresh_token_lifetime_s).seconds;
    });
  }

  /** The lifetime setting changed: the stored refresh token's expiry follows it (no new sign-in needed). */
  private async redateRefreshToken(row: ConnectionsTable): Promise<void> {
    const tokens = this.tokenInfo(row);
    if (!tokens) return;
    const next = redated(tokens, this.refreshLifetime(row.partner_type, row.refresh_token_lifetime_s).seconds);
    await this.store.connections.update(row.id, { tokens_enc: this.box.encrypt(JSON.stringify(next), tokensAad(row.id)) });
  }

  /** The partner answered: delivery resumes at once (never fails the caller). */
  async reachable(connectionId: string): Promise<void> {
    try {
      await this.options.onReachable?.(connectionId);
    } catch {
      // Delivery then resumes on its own timers.
    }
  }

  /** Puts the connection in Degraded (retryable) or Error (needs a human) with a message that says what to do. */
  async recordFailure(row: ConnectionsTable, err: unknown): Promise<void> {
    const status = err instanceof PartnerError && err.retryable ? 'Degraded' : 'Error';
    const message = err instanceof Error ? err.message : String(err);
    const advice =
      err instanceof PartnerError && err.kind === 'auth' && !/password/i.test(message) ? ' — open the connection and enter the password again to sign in' : '';
    await this.store.connections.update(row.id, { status, last_error: message + advice });
    if (row.status !== status || row.last_error !== message + advice) await this.emit({ ...row, status, last_error: message + advice }, 'failed');
  }

  private async require(workspace: string, name: string): Promise<ConnectionsTable> {
    const row = await this.store.connections.get(workspace, name);
    if (!row) throw new NotFoundError(`connection '${name}' does not exist in workspace '${workspace}'`);
    return row;
  }

  private validate(name: string, input: ConnectionInput, existing: ConnectionsTable | undefined): void {
    const problems: Problem[] = [];
    if (!NAME_PATTERN.test(name))
      problems.push({ in: 'params', path: 'name', message: 'must be 1–63 letters, digits, dot, dash or underscore, starting with a letter or digit' });
    const keepsSecret = existing?.client_secret_enc && existing.partner_type === input.partnerType;
    for (const field of requiredFields(input.partnerType)) {
      const value = input[field];
      // The user name and password are needed to sign in only (checked by `put`): a stored connection keeps its tokens.
      if ((field === 'password' || field === 'username') && existing && input.password === undefined) continue;
      if (field === 'clientSecret' && keepsSecret) continue;
      if (value === undefined || (typeof value === 'string' && value.trim() === '')) {
        problems.push({ path: field, message: `${field} is required for ${input.partnerType}` });
      }
    }
    const urlProblem = checkServerUrl(partnerDescriptor(input.partnerType), input.serverUrl, this.options.allowedPartnerHosts);
    if (urlProblem) problems.push(urlProblem);
    if (problems.length) throw new InvalidError(problems);
  }

  private toView(row: ConnectionsTable): ConnectionView {
    const tokenInfo = this.tokenInfo(row);
    const warnings: string[] = [];
    const warnMs = this.options.refreshWarningMs ?? DEFAULT_REFRESH_WARNING_MS;
    if (tokenInfo?.refreshExpiresAt && tokenInfo.refreshExpiresAt - Date.now() < warnMs) {
      const days = Math.max(0, Math.floor((tokenInfo.refreshExpiresAt - Date.now()) / 86400000));
      warnings.push(`the refresh token expires in ${days} day(s): enter the password again (PUT the connection with password) before then`);
    }
    const partner = partnerDescriptor(row.partner_type);
    if (partner?.create && !partner.serviceDesk.verified) {
      warnings.push(
        `the ${partner.displayName} entity and field mapping is unverified against a real ${partner.displayName} instance: check created work items and synced rows before relying on them`,
      );
    }
    return {
      name: row.name,
      workspace: row.workspace,
      partnerType: row.partner_type,
      serverUrl: row.server_url,
      clientId: row.client_id,
      hasClientSecret: !!row.client_secret_enc,
      dataSyncScope: JSON.parse(row.data_sync_scope),
      syncDataDays: row.sync_data_days,
      createNewConfigurationItems: row.create_new_cis === 1,
      syncIntervalSeconds: row.sync_interval_seconds,
      status: row.status,
      lastError: row.last_error,
      lastSyncAt: iso(row.last_sync_at),
      lastConfigSyncAt: iso(row.last_config_sync_at),
      tokenExpiresAt: iso(tokenInfo?.accessExpiresAt ?? null),
      refreshTokenExpiresAt: iso(tokenInfo?.refreshExpiresAt ?? null),
      ...this.lifetimeView(row),
      warnings,
      createdAt: iso(row.created_at)!,
      updatedAt: iso(row.updated_at)!,
    };
  }

  private lifetimeView(row: ConnectionsTable): Pick<ConnectionView, 'refreshTokenLifetimeSeconds' | 'refreshTokenLifetimeSource'> {
    if (!partnerDescriptor(row.partner_type)?.create)
      return {
        refreshTokenLifetimeSeconds: row.refresh_token_lifetime_s ?? null,
        refreshTokenLifetimeSource: row.refresh_token_lifetime_s ? 'connection' : null,
      };
    const { seconds, source } = this.refreshLifetime(row.partner_type, row.refresh_token_lifetime_s);
    return { refreshTokenLifetimeSeconds: seconds, refreshTokenLifetimeSource: source };
  }

  private tokenInfo(row: ConnectionsTable): TokenSet | null {
    if (!row.tokens_enc) return null;
    try {
      return JSON.parse(this.box.decrypt(row.tokens_enc, tokensAad(row.id))) as TokenSet;
    } catch {
      return null;
    }
  }

  private async emit(row: ConnectionsTable, what: string): Promise<void> {
    await this.options.onStatus?.({
      workspace: row.workspace,
      connection: row.name,
      status: row.status,
      message: `connection ${row.name} ${what}: ${row.status}`,
      error: row.last_error ?? undefined,
    });
  }
}

function credentialsChanged(existing: ConnectionsTable, input: ConnectionInput): boolean {
  return (
    existing.partner_type !== input.partnerType ||
    existing.server_url !== input.serverUrl.replace(/\/+$/, '') ||
    (existing.client_id ?? undefined) !== (input.clientId ?? undefined) ||
    input.clientSecret !== undefined
  );
}

/** Signs in; a failure becomes a 400 that names the cause (bad secret, bad password, unreachable …). */
async function checkCredentials(client: PartnerClient): Promise<TokenSet> {
  try {
    return await client.authenticate();
  } catch (err) {
    if (err instanceof PartnerError) {
      throw new InvalidError([], `credential check failed: ${err.message}`, { cause: err.kind, status: err.details.status });
    }
    throw err;
  }
}

function iso(ms: number | null): string | null {
  return ms === null || ms === undefined ? null : new Date(ms).toISOString();
}
