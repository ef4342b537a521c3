import { randomUUID } from 'node:crypto';
import type { Store } from '../store/store.ts';
import type { ConnectionsTable } from '../store/schema.ts';
import type { SecretBox } from '../security/envelope.ts';
import { PartnerError, type AddressGuard, type PartnerClient, type PartnerConfiguration, type TokenSet } from '../partners/partner.ts';
import { partnerDescriptor } from '../partners/registry.ts';
import { badRequest, conflict, notFound } from '../server/errors.ts';
import { NAME_PATTERN, requiredFields, type ConnectionInput, type ConnectionView } from './model.ts';
import { checkServerUrl, connectGuard } from './server-url.ts';
import { clientSecretAad, memoryTokenVault, refreshLifetimeMs, storeTokenVault } from './token-vault.ts';

export interface ConnectionServiceOptions {
  allowedPartnerHosts: string[];
  /** Warn this long before the refresh token expires. */
  refreshWarningMs?: number;
  partnerTimeoutMs?: number;
  /** Called on every status change (the connector log in ServiceDeskLog_CL). */
  onStatus?: (event: ConnectionEvent) => void | Promise<void>;
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

  async put(workspace: string, name: string, input: ConnectionInput): Promise<{ view: ConnectionView; created: boolean }> {
    const existing = await this.store.connections.get(workspace, name);
    this.validate(name, input, existing);
    const id = existing?.id ?? randomUUID();
    const clientSecret = input.clientSecret ?? (existing?.client_secret_enc ? this.box.decrypt(existing.client_secret_enc, clientSecretAad(id)) : undefined);
    const needsLogin = !existing || input.password !== undefined || credentialsChanged(existing, input);
    if (needsLogin && !input.password && requiredFields(input.partnerType).includes('password')) {
      throw badRequest('password is required to sign in again when the server URL, client id or client secret changes', [{ path: 'body/password', message: 'required' }]);
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
      const vault = memoryTokenVault(refreshLifetimeMs(descriptor));
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
      data_sync_scope: JSON.stringify(input.dataSyncScope ?? ['Incident', 'ChangeRequest']),
      sync_data_days: input.syncDataDays ?? existing?.sync_data_days ?? 120,
      create_new_cis: (input.createNewConfigurationItems ?? existing?.create_new_cis === 1) ? 1 : 0,
      sync_interval_seconds: input.syncIntervalSeconds ?? existing?.sync_interval_seconds ?? 300,
      status: existing && !needsLogin && create ? existing.status : status,
      last_error: existing && !needsLogin && create ? existing.last_error : lastError,
      last_sync_at: existing?.last_sync_at ?? null,
      last_config_sync_at: configuration ? now : (existing?.last_config_sync_at ?? null),
      configuration: configuration ? JSON.stringify(configuration) : (existing?.configuration ?? null),
      created_at: existing?.created_at ?? now,
      updated_at: now,
    };
    if (existing) await this.store.connections.update(id, row);
    else await this.store.connections.insert(row);
    if (tokens) await storeTokenVault(this.store, this.box, id, refreshLifetimeMs(descriptor)).save(tokens);
    await this.emit(row, existing ? 'updated' : 'created');
    return { view: await this.view(workspace, name), created: !existing };
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
      throw conflict(`connection '${name}' is used by action groups: ${usedBy.join(', ')}; remove it from them or delete with ?force=true`, { actionGroups: usedBy });
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
      tokens: storeTokenVault(this.store, this.box, row.id, refreshLifetimeMs(descriptor)),
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
      await this.store.connections.update(row.id, { configuration: JSON.stringify(configuration), last_config_sync_at: Date.now(), status: 'Healthy', last_error: null });
      if (row.status !== 'Healthy') await this.emit({ ...row, status: 'Healthy', last_error: null }, 'is healthy again');
    } catch (err) {
      await this.recordFailure(row, err);
    }
  }

  /** Puts the connection in Degraded (retryable) or Error (needs a human) with a message that says what to do. */
  async recordFailure(row: ConnectionsTable, err: unknown): Promise<void> {
    const status = err instanceof PartnerError && err.retryable ? 'Degraded' : 'Error';
    const message = err instanceof Error ? err.message : String(err);
    const advice = err instanceof PartnerError && err.kind === 'auth' ? ' — open the connection and enter the password again to sign in' : '';
    await this.store.connections.update(row.id, { status, last_error: message + advice });
    if (row.status !== status || row.last_error !== message + advice) await this.emit({ ...row, status, last_error: message + advice }, 'failed');
  }

  private async require(workspace: string, name: string): Promise<ConnectionsTable> {
    const row = await this.store.connections.get(workspace, name);
    if (!row) throw notFound(`connection '${name}' does not exist in workspace '${workspace}'`);
    return row;
  }

  private validate(name: string, input: ConnectionInput, existing: ConnectionsTable | undefined): void {
    const problems: { path: string; message: string }[] = [];
    if (!NAME_PATTERN.test(name)) problems.push({ path: 'params/name', message: 'must be 1–63 letters, digits, dot, dash or underscore, starting with a letter or digit' });
    const keepsSecret = existing?.client_secret_enc && existing.partner_type === input.partnerType;
    for (const field of requiredFields(input.partnerType)) {
      const value = input[field];
      if (field === 'password' && existing && !credentialsChanged(existing, input)) continue;
      if (field === 'clientSecret' && keepsSecret) continue;
      if (value === undefined || (typeof value === 'string' && value.trim() === '')) {
        problems.push({ path: `body/${field}`, message: `${field} is required for ${input.partnerType}` });
      }
    }
    const urlProblem = checkServerUrl(partnerDescriptor(input.partnerType), input.serverUrl, this.options.allowedPartnerHosts);
    if (urlProblem) problems.push({ path: `body/${urlProblem.path}`, message: urlProblem.message });
    if (problems.length) throw badRequest(`${problems[0].path.replace(/^body\//, '')}: ${problems[0].message}`, problems);
  }

  private toView(row: ConnectionsTable): ConnectionView {
    const tokenInfo = this.tokenInfo(row);
    const warnings: string[] = [];
    const warnMs = this.options.refreshWarningMs ?? DEFAULT_REFRESH_WARNING_MS;
    if (tokenInfo?.refreshExpiresAt && tokenInfo.refreshExpiresAt - Date.now() < warnMs) {
      const days = Math.max(0, Math.floor((tokenInfo.refreshExpiresAt - Date.now()) / 86400000));
      warnings.push(`the refresh token expires in ${days} day(s): enter the password again (PUT the connection with password) before then`);
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
      warnings,
      createdAt: iso(row.created_at)!,
      updatedAt: iso(row.updated_at)!,
    };
  }

  private tokenInfo(row: ConnectionsTable): TokenSet | null {
    if (!row.tokens_enc) return null;
    try {
      return JSON.parse(this.box.decrypt(row.tokens_enc, `connection:${row.id}:tokens`)) as TokenSet;
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
      throw badRequest(`credential check failed: ${err.message}`, { cause: err.kind, status: err.details.status });
    }
    throw err;
  }
}

function iso(ms: number | null): string | null {
  return ms === null || ms === undefined ? null : new Date(ms).toISOString();
}
