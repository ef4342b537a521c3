/**
 * Talking to Microsoft's Service Manager web app on the shared HTTP and OAuth 2 pieces: finding its Azure AD
 * authority from the 401 challenge (`WWW-Authenticate: Bearer authorization_uri="…", resource_id="…"`, as
 * ADAL clients did — the SCSM connection has no tenant field), client-credentials tokens for the web app's
 * resource, and turning the web app's answers (`errorMessages`, ASP.NET `ModelState` and exception bodies,
 * App Service HTML pages) into PartnerErrors with one cause each. Never retries a request other than the
 * single 401 renewal.
 */
import { errorFor, httpSettings, looksLikeHtml, parseJson, send, type HttpMethod, type HttpSettings, type RawResponse } from '../http.ts';
import { OAuth2Tokens } from '../oauth2.ts';
import { PartnerError, type PartnerContext, type TokenSet } from '../partner.ts';

/** Azure AD hosts an authorization_uri may name besides the web app's own origin. */
const AAD_HOSTS = new Set([
  'login.microsoftonline.com',
  'login.windows.net',
  'login.microsoftonline.us',
  'login.chinacloudapi.cn',
  'login.partner.microsoftonline.cn',
]);
const SDK_EXCEPTIONS = /ServiceNotRunningException|ServerDisconnectedException|EndpointNotFoundException|CommunicationException/;
const NOT_WHITELISTED = /not whitelisted/i;
const CACHE_EXPIRED = /Cache doesn't contain this token, or has expired/i;
export const PRODUCT = 'SCSM web app';

/** `Bearer authorization_uri="…", resource_id="…"` → its parameters (names lower-cased). */
export function parseChallenge(header: string | null): Record<string, string> | null {
  if (!header || !/^\s*bearer\b/i.test(header)) return null;
  const params: Record<string, string> = {};
  for (const m of header.matchAll(/([A-Za-z_]+)\s*=\s*"([^"]*)"/g)) params[m[1].toLowerCase()] = m[2];
  return params;
}

/** What went wrong according to a web-app body: errorMessages, ModelState, or the exception/Message body. */
export function webAppErrorText(body: unknown): string | undefined {
  if (!body || typeof body !== 'object') return undefined;
  const b = body as Record<string, unknown>;
  if (Array.isArray(b.errorMessages) && b.errorMessages.length) return b.errorMessages.map(String).join('; ');
  if (b.ModelState && typeof b.ModelState === 'object') {
    const parts = Object.entries(b.ModelState as Record<string, unknown>).map(([k, v]) => `${k}: ${Array.isArray(v) ? v.join(' ') : String(v)}`);
    return `${typeof b.Message === 'string' ? b.Message : 'The request is invalid.'} ${parts.join('; ')}`;
  }
  if (typeof b.ExceptionMessage === 'string') return b.ExceptionMessage;
  return typeof b.Message === 'string' ? b.Message : undefined;
}

export class WebAppSession {
  readonly settings: HttpSettings;
  private tokens: OAuth2Tokens | null = null;
  private discovering: Promise<OAuth2Tokens> | null = null;

  constructor(private readonly ctx: PartnerContext) {
    this.settings = httpSettings({
      product: PRODUCT,
      serverUrl: ctx.credentials.serverUrl,
      timeoutMs: ctx.timeoutMs,
      onResponse: ctx.onResponse,
      addressGuard: ctx.addressGuard,
      errorText: webAppErrorText,
    });
    if (!ctx.credentials.clientId || !ctx.credentials.clientSecret) {
      throw new PartnerError('invalid', 'an SCSM connection needs the Client ID and Client Secret of the web app’s Azure AD application');
    }
  }

  get host(): string {
    return new URL(this.settings.serverUrl).host;
  }

  // ---------------------------------------------------------------- tokens

  /** Reads the authority from the web app's 401 challenge and sets up client-credentials tokens for it. */
  private async discover(): Promise<OAuth2Tokens> {
    const res = await send(this.settings, { method: 'GET', path: '/api/status' });
    if (res.status !== 401) {
      if (looksLikeHtml(res) || res.status >= 500) throw this.errorFor('GET', '/api/status', res);
      throw new PartnerError(
        'protocol',
        `not a Service Manager web app at ${this.host}: GET /api/status without a token answered ${res.status} instead of a 401 challenge`,
        { status: res.status },
      );
    }
    const challenge = parseChallenge(res.headers.get('www-authenticate'));
    let authority: URL;
    try {
      authority = new URL(challenge?.authorization_uri ?? '');
    } catch {
      throw new PartnerError('protocol', `not a Service Manager web app at ${this.host}: its 401 carries no Bearer authorization_uri`, { status: 401 });
    }
    const sameOrigin = authority.origin === new URL(this.settings.serverUrl).origin;
    if (!sameOrigin && !(authority.protocol === 'https:' && AAD_HOSTS.has(authority.hostname.toLowerCase()))) {
      throw new PartnerError(
        'protocol',
        `the web app at ${this.host} sends clients to ${authority.origin} for tokens, which is neither Azure AD nor the web app itself; the client secret is not sent there`,
      );
    }
    return new OAuth2Tokens({
      settings: httpSettings({
        product: 'Azure AD',
        serverUrl: authority.origin,
        timeoutMs: this.ctx.timeoutMs,
        onResponse: this.ctx.onResponse,
        addressGuard: this.ctx.addressGuard,
      }),
      tokenPath: authority.pathname.replace(/\/oauth2\/authorize\/?$/, '/oauth2/token'),
      credentials: { serverUrl: authority.origin, clientId: this.ctx.credentials.clientId, clientSecret: this.ctx.credentials.clientSecret },
      vault: this.ctx.tokens,
      grant: 'client_credentials',
      extraForm: { resource: challenge?.resource_id || this.settings.serverUrl },
      clientRegistration: 'the web app’s Azure AD application',
    });
  }

  private tokenManager(): Promise<OAuth2Tokens> {
    if (this.tokens) return Promise.resolve(this.tokens);
    this.discovering ??= this.discover()
      .then((t) => (this.tokens = t))
      .finally(() => {
        this.discovering = null;
      });
    return this.discovering;
  }

  /** A new client-credentials token (the connection check; a client-credentials client has no refresh token). */
  async newToken(): Promise<TokenSet> {
    return (await this.tokenManager()).authenticate();
  }

  private async header(): Promise<string> {
    const tokens = await this.tokenManager();
    if (!(await this.ctx.tokens.load())) await tokens.authenticate();
    return tokens.header();
  }

  // ---------------------------------------------------------------- calls

  /** The shared shaping plus what only this web app says: SM server unreachable, page cache expired, App Service down. */
  errorFor(method: string, path: string, res: RawResponse): PartnerError {
    if (looksLikeHtml(res) && (res.status === 403 || res.status >= 500)) {
      return new PartnerError(
        'unavailable',
        `the Service Manager web app at ${this.host} is down (${res.status}, ${/stopped/i.test(res.text) ? 'the web app is stopped' : 'App Service error page'})`,
        {
          status: res.status,
          cause: 'web-app-down',
        },
      );
    }
    const body = parseJson(res.text) as { ExceptionType?: unknown } | undefined;
    const text = webAppErrorText(body) ?? '';
    if (typeof body?.ExceptionType === 'string' && SDK_EXCEPTIONS.test(body.ExceptionType)) {
      return new PartnerError(
        'unavailable',
        `the web app at ${this.host} cannot reach the Service Manager server (${body.ExceptionType.split('.').pop()}): ${text}`,
        {
          status: res.status,
          cause: 'sm-disconnected',
        },
      );
    }
    if (CACHE_EXPIRED.test(text)) return new PartnerError('invalid', `${PRODUCT} ${method} ${path}: ${text}`, { status: res.status, cause: 'cache-expired' });
    return errorFor(this.settings, method, path, res);
  }

  private notWhitelisted(res: RawResponse): PartnerError {
    return new PartnerError(
      'auth',
      `the web app at ${this.host} does not accept client ID ${this.ctx.credentials.clientId}: ${webAppErrorText(parseJson(res.text))} (it must be the web app's ida:WhitelistedClientId)`,
      { status: 401, cause: 'not-whitelisted' },
    );
  }

  /**
   * An authenticated JSON call. A 401 renews the token once and repeats the request (nothing happened on the
   * server); a 401 naming the whitelist, or one that survives the renewal, is an `auth` error.
   */
  async call(method: HttpMethod, path: string, json?: unknown): Promise<Record<string, unknown>> {
    let authorization = await this.header();
    let res = await send(this.settings, { method, path, json, authorization });
    if (res.status === 401 && !NOT_WHITELISTED.test(res.text)) {
      authorization = (await (await this.tokenManager()).renew(authorization)) ?? authorization;
      res = await send(this.settings, { method, path, json, authorization });
    }
    if (res.status === 401) {
      if (NOT_WHITELISTED.test(res.text)) throw this.notWhitelisted(res);
      throw new PartnerError(
        'auth',
        `the web app at ${this.host} refused a fresh token for client ID ${this.ctx.credentials.clientId}: ${webAppErrorText(parseJson(res.text)) ?? 'HTTP 401'}`,
        {
          status: 401,
        },
      );
    }
    if (res.status < 200 || res.status >= 300) throw this.errorFor(method, path, res);
    const body = looksLikeHtml(res) ? undefined : parseJson(res.text);
    if (!body || typeof body !== 'object' || Array.isArray(body)) {
      throw new PartnerError(
        'protocol',
        `not a Service Manager web app answer from ${this.host}: ${method} ${path} returned ${res.contentType || 'no content type'}`,
        { status: res.status, cause: 'html' },
      );
    }
    return body as Record<string, unknown>;
  }
}
