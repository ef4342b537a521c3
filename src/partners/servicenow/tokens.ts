/**
 * OAuth token manager for ServiceNow's `POST /oauth_token.do`.
 *
 * - authenticate(): one password grant; the password is dropped from memory afterwards, whatever the outcome.
 * - Tokens live in the TokenVault; access tokens are refreshed `skewMs` before expiry with the refresh grant.
 * - Refresh is single-flight: concurrent callers share one request to the token endpoint.
 * - A refused refresh token means a human must re-enter the password (PartnerError 'auth').
 */
import { PartnerError, type PartnerCredentials, type TokenSet, type TokenVault } from '../partner.ts';
import { apiCall, envelopeText, htmlError, redirectError, retryAfterMs, send, type AuthStrategy, type HttpSettings, type RawResponse } from './request.ts';

const TOKEN_PATH = '/oauth_token.do';
export const DEFAULT_SKEW_MS = 60_000;

interface TokenAnswer {
  access_token?: unknown;
  refresh_token?: unknown;
  expires_in?: unknown;
  refresh_token_expires_in?: unknown;
  refresh_expires_in?: unknown;
  token_type?: unknown;
}

function parseTokenBody(res: RawResponse): TokenAnswer | undefined {
  try {
    const body = JSON.parse(res.text) as unknown;
    return body && typeof body === 'object' ? (body as TokenAnswer) : undefined;
  } catch {
    return undefined;
  }
}

function host(settings: HttpSettings): string {
  return new URL(settings.serverUrl).host;
}

/** Shared handling of non-credential failures of the token endpoint. Returns undefined when the answer is a credential refusal. */
function tokenEndpointFailure(settings: HttpSettings, res: RawResponse): PartnerError | undefined {
  if (res.status >= 200 && res.status < 300 && (res.contentType.includes('text/html') || /^\s*</.test(res.text))) {
    return htmlError(settings, res);
  }
  if (res.status >= 300 && res.status < 400) return redirectError(settings, 'POST', TOKEN_PATH, res);
  if (res.status >= 500 || res.status === 408) {
    return new PartnerError('unavailable', `ServiceNow token endpoint at ${host(settings)} is unavailable (${res.status})`, { status: res.status });
  }
  if (res.status === 429) {
    const wait = retryAfterMs(res.headers);
    return new PartnerError('rate-limited', `ServiceNow rate limit hit on the token endpoint`, { status: 429, retryAfterMs: wait });
  }
  if (res.status === 404 || res.status === 405) {
    return new PartnerError('protocol', `not a ServiceNow instance at ${host(settings)}: ${TOKEN_PATH} answered ${res.status}`, { status: res.status });
  }
  return undefined;
}

function tokensFrom(settings: HttpSettings, res: RawResponse, previous?: TokenSet): TokenSet {
  const body = parseTokenBody(res);
  if (!body || typeof body.access_token !== 'string' || body.access_token === '') {
    throw new PartnerError('protocol', `not a ServiceNow instance at ${host(settings)}: ${TOKEN_PATH} did not return an access token`, { status: res.status });
  }
  const now = Date.now();
  const expiresIn = Number(body.expires_in);
  const accessExpiresAt = now + (Number.isFinite(expiresIn) && expiresIn > 0 ? expiresIn : 1800) * 1000;
  const refreshToken = typeof body.refresh_token === 'string' && body.refresh_token !== '' ? body.refresh_token : previous?.refreshToken;
  const refreshIn = Number(body.refresh_token_expires_in ?? body.refresh_expires_in);
  const refreshExpiresAt =
    Number.isFinite(refreshIn) && refreshIn > 0
      ? now + refreshIn * 1000
      : refreshToken !== undefined && refreshToken === previous?.refreshToken
        ? previous?.refreshExpiresAt
        : undefined;
  return { accessToken: body.access_token, accessExpiresAt, refreshToken, refreshExpiresAt };
}

export interface TokenManagerOptions {
  settings: HttpSettings;
  credentials: PartnerCredentials;
  vault: TokenVault;
  skewMs?: number;
}

export class TokenManager implements AuthStrategy {
  private readonly settings: HttpSettings;
  private readonly vault: TokenVault;
  private readonly clientId: string;
  private readonly clientSecret: string;
  private readonly username?: string;
  /** Held only until authenticate() runs once; never persisted. */
  private password?: string;
  private readonly skewMs: number;
  private inflight?: Promise<TokenSet>;

  constructor(opts: TokenManagerOptions) {
    this.settings = opts.settings;
    this.vault = opts.vault;
    this.clientId = opts.credentials.clientId ?? '';
    this.clientSecret = opts.credentials.clientSecret ?? '';
    this.username = opts.credentials.username;
    this.password = opts.credentials.password;
    this.skewMs = opts.skewMs ?? DEFAULT_SKEW_MS;
  }

  /** True while the password entered by the user is still held (before authenticate()). */
  get holdsPassword(): boolean {
    return this.password !== undefined;
  }

  /** Password grant. The password is dropped from this object whatever the outcome. */
  async authenticate(): Promise<TokenSet> {
    const password = this.password;
    this.password = undefined;
    if (!this.username || password === undefined || password === '') {
      throw new PartnerError('auth', 'ServiceNow sign-in needs the integration user name and password; enter them to connect');
    }
    if (!this.clientId || !this.clientSecret) {
      throw new PartnerError('invalid', 'ServiceNow OAuth needs both the client id and the client secret of the Application Registry entry');
    }
    const res = await send(this.settings, {
      method: 'POST',
      path: TOKEN_PATH,
      form: { grant_type: 'password', client_id: this.clientId, client_secret: this.clientSecret, username: this.username, password },
    });
    const failure = tokenEndpointFailure(this.settings, res);
    if (failure) throw failure;
    if (res.status !== 200) throw await this.explainPasswordGrantRefusal(res, password);
    const tokens = tokensFrom(this.settings, res);
    await this.vault.save(tokens);
    return tokens;
  }

  /**
   * ServiceNow answers every bad password grant the same way (401 access_denied), so to tell a bad client
   * secret from a bad password we ask the Table API with Basic auth once: if the user's password works
   * there, the OAuth client (id/secret) is what was refused.
   */
  private async explainPasswordGrantRefusal(res: RawResponse, password: string): Promise<PartnerError> {
    const body = parseTokenBody(res) as Record<string, unknown> | undefined;
    const code = typeof body?.error === 'string' ? body.error : '';
    const said = `${code} ${typeof body?.error_description === 'string' ? body.error_description : ''}`.toLowerCase();
    if (code === 'invalid_client' || /client/.test(said)) return this.badClient(res.status);
    if (code === 'invalid_grant' || /password|user|credential/.test(said)) return this.badPassword(res.status);
    let probeStatus: number | undefined;
    try {
      const probe = await send(this.settings, {
        method: 'GET',
        path: '/api/now/table/sys_user',
        query: { sysparm_limit: 1, sysparm_fields: 'sys_id', sysparm_query: 'sys_idISEMPTY' },
        authorization: basicHeader(this.username ?? '', password),
      });
      probeStatus = probe.status;
    } catch {
      probeStatus = undefined;
    }
    if (probeStatus !== undefined && probeStatus >= 200 && probeStatus < 300) return this.badClient(res.status);
    if (probeStatus === 401) return this.badPassword(res.status);
    return new PartnerError(
      'auth',
      `ServiceNow refused the sign-in (HTTP ${res.status}${envelopeText(body) ? `: ${envelopeText(body)}` : ''}): check the user name, password, client id and client secret`,
      { status: res.status },
    );
  }

  private badClient(status: number): PartnerError {
    return new PartnerError(
      'auth',
      `ServiceNow refused the OAuth client: the client id or client secret is wrong, or the Application Registry entry is inactive (the user name and password are accepted)`,
      { status, cause: 'invalid_client' },
    );
  }

  private badPassword(status: number): PartnerError {
    return new PartnerError(
      'auth',
      `ServiceNow refused the user name or password of "${this.username}" (or the user is locked out/inactive); re-enter the password`,
      { status, cause: 'invalid_grant' },
    );
  }

  /** A valid access token, refreshing (single-flight) when it is within the skew of expiry. */
  async accessToken(): Promise<string> {
    const tokens = await this.vault.load();
    if (!tokens) throw new PartnerError('auth', 'not signed in to ServiceNow: enter the integration user password to connect');
    if (tokens.accessExpiresAt - this.skewMs > Date.now()) return tokens.accessToken;
    return (await this.refresh()).accessToken;
  }

  /** Refresh grant, shared by all concurrent callers. */
  refresh(): Promise<TokenSet> {
    if (!this.inflight) {
      this.inflight = this.doRefresh().finally(() => {
        this.inflight = undefined;
      });
    }
    return this.inflight;
  }

  private async doRefresh(): Promise<TokenSet> {
    const current = await this.vault.load();
    if (!current?.refreshToken) {
      throw new PartnerError('auth', 'no ServiceNow refresh token is stored: re-enter the integration user password to reconnect');
    }
    const res = await send(this.settings, {
      method: 'POST',
      path: TOKEN_PATH,
      form: { grant_type: 'refresh_token', client_id: this.clientId, client_secret: this.clientSecret, refresh_token: current.refreshToken },
    });
    const failure = tokenEndpointFailure(this.settings, res);
    if (failure) throw failure;
    if (res.status !== 200) throw this.refreshRefused(res.status, current);
    const tokens = tokensFrom(this.settings, res, current);
    await this.vault.save(tokens);
    return tokens;
  }

  // AuthStrategy
  async header(): Promise<string> {
    return `Bearer ${await this.accessToken()}`;
  }

  async renew(staleHeader: string): Promise<string | null> {
    const stored = await this.vault.load();
    if (stored && `Bearer ${stored.accessToken}` !== staleHeader && stored.accessExpiresAt - this.skewMs > Date.now()) {
      return `Bearer ${stored.accessToken}`; // someone else refreshed meanwhile
    }
    return `Bearer ${(await this.refresh()).accessToken}`;
  }

  rejectedMessage(): string {
    return `ServiceNow rejected a freshly refreshed access token for "${this.username ?? 'the integration user'}": the user is locked out or inactive, or lacks web-service access — fix the user in ServiceNow; the password need not be entered again`;
  }

  /**
   * ServiceNow answers every refused refresh the same way. Past the refresh token's lifetime it expired; before
   * it, the usual cause is the integration user (locked out after failed logins, or made inactive), which a new
   * password does not fix, then a revoked token or a changed OAuth client.
   */
  private refreshRefused(status: number, current: TokenSet): PartnerError {
    if (current.refreshExpiresAt !== undefined && current.refreshExpiresAt <= Date.now()) {
      return new PartnerError('auth', 'the ServiceNow refresh token has expired (its lifetime ended): re-enter the integration user password to reconnect', { status, cause: 'refresh_expired' });
    }
    const user = this.username ? `"${this.username}"` : '';
    return new PartnerError(
      'auth',
      `ServiceNow refused the stored refresh token before its lifetime ended: the integration user ${user} is locked out or inactive, or the token was revoked or the OAuth client changed. Check Active and Locked out on the user in ServiceNow (delivery resumes by itself after a connection test once it is unlocked); if the user is fine, enter the password again`.replace('user  is', 'user is'),
      { status, cause: 'refresh_refused' },
    );
  }
}

export function basicHeader(username: string, password: string): string {
  return `Basic ${Buffer.from(`${username}:${password}`, 'utf8').toString('base64')}`;
}

/** Basic auth for instances without an OAuth client: the password must be kept for every request. */
export class BasicAuth implements AuthStrategy {
  private readonly headerValue: string;
  constructor(
    private readonly settings: HttpSettings,
    private readonly username: string,
    password: string,
  ) {
    this.headerValue = basicHeader(username, password);
  }
  async header(): Promise<string> {
    return this.headerValue;
  }
  async renew(): Promise<string | null> {
    return null;
  }
  rejectedMessage(): string {
    return `ServiceNow refused the user name or password of "${this.username}" (Basic auth); re-enter the password`;
  }
  /** Checks the credentials with one cheap read; returns a TokenSet that never expires (nothing to store). */
  async verify(): Promise<TokenSet> {
    await apiCall(this.settings, this, {
      method: 'GET',
      path: '/api/now/table/sys_user',
      query: { sysparm_limit: 1, sysparm_fields: 'sys_id', sysparm_query: 'sys_idISEMPTY' },
    });
    return { accessToken: '', accessExpiresAt: Number.MAX_SAFE_INTEGER };
  }
}
