/**
 * One Cherwell login per connection, kept alive with refresh grants (every password grant takes a CSM
 * licence, partner-apis.md §2.1). The password is used once and dropped; tokens live in the TokenVault;
 * refreshes are single-flight and happen `skewMs` before expiry or on a 401; a refused refresh never falls
 * back to a password grant unless the password is still in hand (the first sign-in).
 */
import { PartnerError, type PartnerCredentials, type TokenSet, type TokenVault } from '../partner.ts';
import { errorFor, hostOf, looksLikeHtml, parseJson, send, htmlError, type HttpSettings, type RawResponse } from './transport.ts';

export const DEFAULT_SKEW_MS = 60_000;
const TOKEN_PATH = '/token';

interface TokenBody {
  access_token?: unknown;
  refresh_token?: unknown;
  expires_in?: unknown;
  token_type?: unknown;
  'as:client_id'?: unknown;
  error?: unknown;
  error_description?: unknown;
}

/** Why the token endpoint refused, in words a person can act on. */
function refusal(settings: HttpSettings, res: RawResponse, grant: 'password' | 'refresh_token'): PartnerError {
  const host = hostOf(settings);
  if (looksLikeHtml(res)) return htmlError(settings, res);
  if (res.status === 404 || res.status === 405) return new PartnerError('protocol', `not a Cherwell server at ${host}: ${TOKEN_PATH} answered ${res.status}`, { status: res.status });
  if (res.status === 429) return errorFor(settings, 'POST', TOKEN_PATH, res);
  if (res.status >= 500) return new PartnerError('unavailable', `Cherwell token endpoint at ${host} is unavailable (${res.status})`, { status: res.status });
  const body = (parseJson(res.text) ?? {}) as TokenBody;
  const error = typeof body.error === 'string' ? body.error : '';
  const description = typeof body.error_description === 'string' ? body.error_description : '';
  if (!error) return new PartnerError('protocol', `not a Cherwell server at ${host}: ${TOKEN_PATH} answered ${res.status} without an OAuth error`, { status: res.status });
  if (/client/i.test(error)) {
    return new PartnerError('auth', `Cherwell does not know the REST API client ID (${error}); check it in CSM Administrator → Security → REST API client settings`, {
      status: res.status,
      cause: 'client-id',
    });
  }
  if (/licen[cs]e/i.test(description)) {
    return new PartnerError('unavailable', `every Cherwell licence is in use, so the integration user cannot sign in (${description}); it is retried later`, {
      status: res.status,
      cause: 'licence',
    });
  }
  if (grant === 'refresh_token') {
    return new PartnerError('auth', `Cherwell refused the refresh token (${error}): the session ended or expired; enter the password again to sign in`, {
      status: res.status,
      cause: 'refresh',
    });
  }
  return new PartnerError('auth', `Cherwell refused the user name or password (${error}${description ? `: ${description}` : ''})`, { status: res.status, cause: 'password' });
}

function tokensFrom(settings: HttpSettings, res: RawResponse): TokenSet {
  const body = parseJson(res.text) as TokenBody | undefined;
  if (!body || typeof body.access_token !== 'string' || body.access_token === '' || typeof body['as:client_id'] !== 'string') {
    throw new PartnerError('protocol', `not a Cherwell server at ${hostOf(settings)}: ${TOKEN_PATH} did not answer a Cherwell token`, { status: res.status });
  }
  const expiresIn = Number(body.expires_in);
  return {
    accessToken: body.access_token,
    accessExpiresAt: Date.now() + (Number.isFinite(expiresIn) && expiresIn > 0 ? expiresIn : 1199) * 1000,
    refreshToken: typeof body.refresh_token === 'string' && body.refresh_token !== '' ? body.refresh_token : undefined,
  };
}

export interface LoginCounters {
  passwordGrants: number;
  refreshGrants: number;
}

export class CherwellSession {
  private tokens: TokenSet | null | undefined;
  private password: string | undefined;
  private inflight: Promise<TokenSet> | null = null;
  readonly counters: LoginCounters = { passwordGrants: 0, refreshGrants: 0 };

  constructor(
    private readonly settings: HttpSettings,
    private readonly credentials: PartnerCredentials,
    private readonly vault: TokenVault,
    private readonly skewMs = DEFAULT_SKEW_MS,
  ) {
    this.password = credentials.password;
  }

  private get clientId(): string {
    const id = this.credentials.clientId?.trim();
    if (!id) throw new PartnerError('invalid', 'a Cherwell connection needs the REST API client ID');
    return id;
  }

  private async grant(form: Record<string, string>, grant: 'password' | 'refresh_token'): Promise<TokenSet> {
    const res = await send(this.settings, { method: 'POST', path: TOKEN_PATH, query: { auth_mode: 'Internal', api_key: this.clientId }, form });
    if (res.status !== 200) throw refusal(this.settings, res, grant);
    const tokens = tokensFrom(this.settings, res);
    this.tokens = tokens;
    await this.vault.save(tokens);
    return tokens;
  }

  /** Password grant: the one login of this connection. The password is forgotten whatever the outcome. */
  async login(): Promise<TokenSet> {
    const { username } = this.credentials;
    const password = this.password;
    this.password = undefined;
    if (!username || !password) throw new PartnerError('auth', 'the Cherwell session ended and no password is stored; enter the password again to sign in');
    this.counters.passwordGrants++;
    return this.grant({ grant_type: 'password', client_id: this.clientId, username, password }, 'password');
  }

  private async refresh(current: TokenSet): Promise<TokenSet> {
    if (!current.refreshToken) return this.login();
    this.counters.refreshGrants++;
    try {
      return await this.grant({ grant_type: 'refresh_token', client_id: this.clientId, refresh_token: current.refreshToken }, 'refresh_token');
    } catch (err) {
      // Another client of the same connection may have rotated the refresh token: take what it stored.
      const stored = await this.vault.load();
      if (stored && stored.refreshToken !== current.refreshToken && stored.accessExpiresAt > Date.now() + this.skewMs) {
        this.tokens = stored;
        return stored;
      }
      if (err instanceof PartnerError && err.kind === 'auth' && this.password) return this.login();
      throw err;
    }
  }

  private single(fn: () => Promise<TokenSet>): Promise<TokenSet> {
    this.inflight ??= fn().finally(() => {
      this.inflight = null;
    });
    return this.inflight;
  }

  private async current(): Promise<TokenSet> {
    if (this.tokens === undefined) this.tokens = await this.vault.load();
    if (!this.tokens) return this.single(() => this.login());
    if (this.tokens.accessExpiresAt - this.skewMs > Date.now()) return this.tokens;
    const stale = this.tokens;
    return this.single(() => this.refresh(stale));
  }

  async header(): Promise<string> {
    return `Bearer ${(await this.current()).accessToken}`;
  }

  /** After a 401: a refreshed header, once; null when there is nothing left to try. */
  async renew(staleHeader: string): Promise<string | null> {
    const now = await this.current();
    if (`Bearer ${now.accessToken}` !== staleHeader) return `Bearer ${now.accessToken}`;
    const renewed = await this.single(() => this.refresh(now));
    return `Bearer ${renewed.accessToken}`;
  }

  /** Ends the login on the server (frees its licence) and forgets the tokens. */
  async logout(): Promise<void> {
    const tokens = this.tokens ?? (await this.vault.load());
    if (!tokens) return;
    await send(this.settings, { method: 'DELETE', path: '/api/V1/logout', authorization: `Bearer ${tokens.accessToken}` });
    this.tokens = null;
  }
}
