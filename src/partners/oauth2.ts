/**
 * OAuth 2 tokens for partner clients: the password grant (the password is dropped from memory afterwards,
 * whatever the outcome) or the client-credentials grant, the refresh grant `skewMs` before expiry,
 * single-flight refresh (concurrent callers share one request to the token endpoint), and one renewal on a
 * 401 through the AuthStrategy (see http.ts authorizedCall). Tokens live in the TokenVault. A refused refresh
 * token means a human must re-enter the password (PartnerError 'auth'). The product name is only in messages.
 */
import { PartnerError, type PartnerCredentials, type TokenSet, type TokenVault } from './partner.ts';
import {
  hostOf,
  htmlError,
  looksLikeHtml,
  parseJson,
  redirectError,
  retryAfterMs,
  send,
  type AuthStrategy,
  type HttpSettings,
  type RawResponse,
} from './http.ts';

export const DEFAULT_SKEW_MS = 60_000;

export type OAuth2Grant = 'password' | 'client_credentials';

export interface OAuth2Options {
  /** Where the token endpoint lives (the partner's own settings, or an identity provider's). */
  settings: HttpSettings;
  tokenPath: string;
  credentials: PartnerCredentials;
  vault: TokenVault;
  grant: OAuth2Grant;
  /** Whether the client secret must be given (confidential client); default true. */
  clientSecretRequired?: boolean;
  /** Further form fields of every token request (scope, resource, auth_mode …). */
  extraForm?: Record<string, string>;
  skewMs?: number;
  /** What the product calls its OAuth client registration, for messages (`the Application Registry entry`). */
  clientRegistration?: string;
  /** Tells which credential a refused password grant refused, when the error code does not (e.g. by probing). */
  whichCredentialRefused?: (username: string, password: string) => Promise<'client' | 'password' | undefined>;
  /** The product's or identity provider's own reading of a refused grant (a licence exhausted, Azure AD's AADSTS codes); undefined = the generic one. */
  explainRefusal?: (refusal: GrantRefusal) => PartnerError | undefined;
}

/** A token endpoint's refusal as the provider answered it. */
export interface GrantRefusal {
  grant: 'password' | 'refresh_token';
  status: number;
  /** OAuth `error` code ('' when absent) and `error_description`. */
  error: string;
  description: string;
  response: RawResponse;
}

function grantRefusal(res: RawResponse, grant: GrantRefusal['grant']): GrantRefusal {
  const body = tokenAnswer(res);
  const error = typeof body?.error === 'string' ? body.error : '';
  const description = typeof body?.error_description === 'string' ? body.error_description : '';
  return { grant, status: res.status, error, description, response: res };
}

interface TokenAnswer {
  access_token?: unknown;
  refresh_token?: unknown;
  expires_in?: unknown;
  refresh_token_expires_in?: unknown;
  refresh_expires_in?: unknown;
  error?: unknown;
  error_description?: unknown;
}

function tokenAnswer(res: RawResponse): TokenAnswer | undefined {
  const body = parseJson(res.text);
  return body && typeof body === 'object' ? (body as TokenAnswer) : undefined;
}

export class OAuth2Tokens implements AuthStrategy {
  private readonly o: OAuth2Options;
  private readonly product: string;
  /** Held only until authenticate() runs once; never persisted. */
  private password?: string;
  private inflight?: Promise<TokenSet>;
  private remembered: Pick<TokenSet, 'accessToken' | 'accessExpiresAt'> | null = null;

  constructor(options: OAuth2Options) {
    const { password, ...credentials } = options.credentials;
    this.o = { ...options, credentials };
    this.product = options.settings.product;
    this.password = password;
  }

  private get skewMs(): number {
    return this.o.skewMs ?? DEFAULT_SKEW_MS;
  }

  private get username(): string | undefined {
    return this.o.credentials.username;
  }

  /** True while the password entered by the user is still held (before authenticate()). */
  get holdsPassword(): boolean {
    return this.password !== undefined;
  }

  /** First sign-in: the configured grant. The password is dropped from this object whatever the outcome. */
  async authenticate(): Promise<TokenSet> {
    const password = this.password;
    this.password = undefined;
    if (this.o.grant === 'client_credentials') {
      this.requireClient();
      return this.grantAndStore({ grant_type: 'client_credentials' });
    }
    if (!this.username || password === undefined || password === '') {
      throw new PartnerError('auth', `${this.product} sign-in needs the integration user name and password; enter them to connect`);
    }
    this.requireClient();
    const res = await this.post({ grant_type: 'password', username: this.username, password });
    if (res.status !== 200) throw await this.explainRefusal(res, password);
    return this.store(res);
  }

  private requireClient(): void {
    const { clientId, clientSecret } = this.o.credentials;
    const needsSecret = this.o.clientSecretRequired ?? true;
    if (!clientId || (needsSecret && !clientSecret)) {
      const of = this.o.clientRegistration ? ` of ${this.o.clientRegistration}` : '';
      throw new PartnerError('invalid', `${this.product} OAuth needs ${needsSecret ? 'both the client id and the client secret' : 'the client id'}${of}`);
    }
  }

  private async post(form: Record<string, string>): Promise<RawResponse> {
    const { clientId, clientSecret } = this.o.credentials;
    const client: Record<string, string> = { client_id: clientId ?? '', ...(clientSecret ? { client_secret: clientSecret } : {}) };
    const res = await send(this.o.settings, { method: 'POST', path: this.o.tokenPath, form: { ...form, ...client, ...(this.o.extraForm ?? {}) } });
    const failure = this.endpointFailure(res);
    if (failure) throw failure;
    return res;
  }

  private async grantAndStore(form: Record<string, string>): Promise<TokenSet> {
    const res = await this.post(form);
    if (res.status !== 200) {
      const body = tokenAnswer(res);
      throw new PartnerError(
        'auth',
        `${this.product} refused the OAuth client (HTTP ${res.status}${typeof body?.error === 'string' ? `: ${body.error}` : ''}): check the client id and secret`,
        {
          status: res.status,
          cause: 'invalid_client',
        },
      );
    }
    return this.store(res);
  }

  private async store(res: RawResponse, previous?: TokenSet): Promise<TokenSet> {
    const tokens = this.tokensFrom(res, previous);
    await this.o.vault.save(tokens);
    return tokens;
  }

  /** Failures of the token endpoint that are not a credential refusal; undefined when it is one (or success). */
  private endpointFailure(res: RawResponse): PartnerError | undefined {
    const s = this.o.settings;
    if (res.status >= 200 && res.status < 300 && (looksLikeHtml(res) || /^\s*</.test(res.text))) return htmlError(s, res);
    if (res.status >= 300 && res.status < 400) return redirectError(s, 'POST', this.o.tokenPath, res);
    if (res.status >= 500 || res.status === 408) {
      return new PartnerError('unavailable', `${this.product} token endpoint at ${hostOf(s)} is unavailable (${res.status})`, { status: res.status });
    }
    if (res.status === 429) {
      return new PartnerError('rate-limited', `${this.product} rate limit hit on the token endpoint`, { status: 429, retryAfterMs: retryAfterMs(res.headers) });
    }
    if (res.status === 404 || res.status === 405) {
      return new PartnerError('protocol', `not a ${this.product} instance at ${hostOf(s)}: ${this.o.tokenPath} answered ${res.status}`, { status: res.status });
    }
    return undefined;
  }

  private tokensFrom(res: RawResponse, previous?: TokenSet): TokenSet {
    const body = tokenAnswer(res);
    if (!body || typeof body.access_token !== 'string' || body.access_token === '') {
      throw new PartnerError('protocol', `not a ${this.product} instance at ${hostOf(this.o.settings)}: ${this.o.tokenPath} did not return an access token`, {
        status: res.status,
      });
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

  private async explainRefusal(res: RawResponse, password: string): Promise<PartnerError> {
    const { error: code, description } = grantRefusal(res, 'password');
    const own = this.o.explainRefusal?.(grantRefusal(res, 'password'));
    if (own) return own;
    const said = `${code} ${description}`.toLowerCase();
    if (code === 'invalid_client' || /client/.test(said)) return this.badClient(res.status);
    if (code === 'invalid_grant' || /password|user|credential/.test(said)) return this.badPassword(res.status);
    const refused = await this.o.whichCredentialRefused?.(this.username ?? '', password);
    if (refused === 'client') return this.badClient(res.status);
    if (refused === 'password') return this.badPassword(res.status);
    const detail = [code, description].filter(Boolean).join(': ');
    return new PartnerError(
      'auth',
      `${this.product} refused the sign-in (HTTP ${res.status}${detail ? `: ${detail}` : ''}): check the user name, password, client id and client secret`,
      { status: res.status },
    );
  }

  private badClient(status: number): PartnerError {
    const what = this.o.clientRegistration ? `, or ${this.o.clientRegistration} is inactive` : '';
    return new PartnerError(
      'auth',
      `${this.product} refused the OAuth client: the client id or client secret is wrong${what} (the user name and password are accepted)`,
      { status, cause: 'invalid_client' },
    );
  }

  private badPassword(status: number): PartnerError {
    return new PartnerError(
      'auth',
      `${this.product} refused the user name or password of "${this.username}" (or the user is locked out/inactive); re-enter the password`,
      {
        status,
        cause: 'invalid_grant',
      },
    );
  }

  /**
   * A valid access token, refreshing (single-flight) when it is within the skew of expiry. The last one is kept in
   * memory until then: reading the vault (a store round trip and a decryption) on every call cost a PostgreSQL
   * round trip per partner call. A token another process refreshed meanwhile is picked up at expiry or on a 401.
   */
  async accessToken(): Promise<string> {
    if (this.remembered && this.remembered.accessExpiresAt - this.skewMs > Date.now()) return this.remembered.accessToken;
    const tokens = await this.o.vault.load();
    if (!tokens) throw new PartnerError('auth', `not signed in to ${this.product}: enter the integration user password to connect`);
    if (tokens.accessExpiresAt - this.skewMs > Date.now()) return this.remember(tokens).accessToken;
    return this.remember(await this.refresh()).accessToken;
  }

  private remember(tokens: TokenSet): TokenSet {
    this.remembered = { accessToken: tokens.accessToken, accessExpiresAt: tokens.accessExpiresAt };
    return tokens;
  }

  /** Refresh (or, for client credentials, a new grant), shared by all concurrent callers. */
  refresh(): Promise<TokenSet> {
    this.inflight ??= this.doRefresh().finally(() => {
      this.inflight = undefined;
    });
    return this.inflight;
  }

  private async doRefresh(): Promise<TokenSet> {
    if (this.o.grant === 'client_credentials') return this.grantAndStore({ grant_type: 'client_credentials' });
    const current = await this.o.vault.load();
    if (!current?.refreshToken)
      throw new PartnerError('auth', `no ${this.product} refresh token is stored: re-enter the integration user password to reconnect`);
    // Tried even past the assumed lifetime: the partner's real lifetime may be longer than the one configured.
    const res = await this.post({ grant_type: 'refresh_token', refresh_token: current.refreshToken });
    if (res.status !== 200) throw this.o.explainRefusal?.(grantRefusal(res, 'refresh_token')) ?? this.refreshRefused(res.status, current);
    return this.store(res, current);
  }

  /**
   * Token endpoints answer every refused refresh the same way. Past the refresh token's lifetime it expired;
   * before it, the usual cause is the integration user (locked out after failed logins, or made inactive), which
   * a new password does not fix, then a revoked token or a changed OAuth client.
   */
  private refreshRefused(status: number, current: TokenSet): PartnerError {
    if (current.refreshExpiresAt !== undefined && current.refreshExpiresAt <= Date.now()) {
      return new PartnerError(
        'auth',
        `the ${this.product} refresh token has expired (its lifetime ended): re-enter the integration user password to reconnect`,
        { status, cause: 'refresh_expired' },
      );
    }
    const user = this.username ? `"${this.username}" ` : '';
    return new PartnerError(
      'auth',
      `${this.product} refused the stored refresh token before its lifetime ended: the integration user ${user}is locked out or inactive, or the token was revoked or the OAuth client changed. Check Active and Locked out on the user in ${this.product} (a connection test resumes delivery once it is unlocked); if the user is fine, enter the password again`,
      { status, cause: 'refresh_refused' },
    );
  }

  // AuthStrategy
  async header(): Promise<string> {
    return `Bearer ${await this.accessToken()}`;
  }

  async renew(staleHeader: string): Promise<string | null> {
    this.remembered = null;
    const stored = await this.o.vault.load();
    if (stored && `Bearer ${stored.accessToken}` !== staleHeader && stored.accessExpiresAt - this.skewMs > Date.now()) {
      return `Bearer ${stored.accessToken}`; // someone else refreshed meanwhile
    }
    return `Bearer ${(await this.refresh()).accessToken}`;
  }

  rejectedMessage(): string {
    return `${this.product} rejected a freshly refreshed access token for "${this.username ?? 'the integration user'}": the user is locked out or inactive, or lacks web-service access — fix the user in ${this.product}; the password need not be entered again`;
  }
}

export function basicHeader(username: string, password: string): string {
  return `Basic ${Buffer.from(`${username}:${password}`, 'utf8').toString('base64')}`;
}
