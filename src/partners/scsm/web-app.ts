/**
 * Talking to Microsoft's Service Manager web app: finding its Azure AD authority from the 401 challenge
 * (`WWW-Authenticate: Bearer authorization_uri="…", resource_id="…"`, as ADAL clients did — the SCSM
 * connection has no tenant field), client-credentials tokens for the web app's resource kept in the
 * connection's vault and renewed by clock or once on a 401, and turning the web app's answers
 * (`errorMessages`, ASP.NET `ModelState` and exception bodies, App Service HTML pages, AADSTS errors) into
 * PartnerErrors with one cause each. Never retries a request other than that single 401 renewal.
 */
import { PartnerError, type PartnerContext, type PartnerErrorKind, type TokenSet } from '../partner.ts';

export type HttpMethod = 'GET' | 'POST' | 'PATCH';

/** Causes the connection check and the sync engine tell apart. */
export type WebAppCause =
  | 'token-refused'
  | 'not-whitelisted'
  | 'web-app-unreachable'
  | 'sm-disconnected'
  | 'cache-expired'
  | 'timeout'
  | 'network'
  | 'html';

const DEFAULT_TIMEOUT_MS = 30_000;
const REFRESH_SKEW_MS = 60_000;
/** Azure AD hosts an authorization_uri may name besides the web app's own origin. */
const AAD_HOSTS = new Set(['login.microsoftonline.com', 'login.windows.net', 'login.microsoftonline.us', 'login.chinacloudapi.cn', 'login.partner.microsoftonline.cn', 'sts.windows.net']);
const SDK_EXCEPTIONS = /ServiceNotRunningException|ServerDisconnectedException|UnauthorizedAccessEnterpriseManagementException|EndpointNotFoundException|CommunicationException/;
const WHITELIST_TEXT = /not whitelisted/i;

interface Authority {
  tokenUrl: string;
  resource: string;
}

export interface WebAppResponse {
  status: number;
  body: Record<string, unknown>;
}

function baseUrlOf(serverUrl: string): string {
  let url: URL;
  try {
    url = new URL(serverUrl.trim());
  } catch {
    throw new PartnerError('invalid', `Service Manager web app URL "${serverUrl}" is not a valid URL`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new PartnerError('invalid', `Service Manager web app URL must use https (got ${url.protocol})`);
  if (url.username || url.password) throw new PartnerError('invalid', 'Service Manager web app URL must not carry credentials');
  return `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
}

/** `Bearer authorization_uri="…", resource_id="…"` → its parameters. */
export function parseChallenge(header: string | null): Record<string, string> | null {
  if (!header || !/^\s*bearer\b/i.test(header)) return null;
  const params: Record<string, string> = {};
  for (const m of header.matchAll(/([A-Za-z_]+)\s*=\s*"([^"]*)"/g)) params[m[1].toLowerCase()] = m[2];
  return params;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function looksLikeHtml(contentType: string, text: string): boolean {
  return contentType.includes('text/html') || /^\s*<(!doctype|html)/i.test(text);
}

/** The first line of an AADSTS description (drops trace and correlation ids). */
function aadText(body: unknown): string | undefined {
  if (!body || typeof body !== 'object') return undefined;
  const { error, error_description: desc } = body as { error?: unknown; error_description?: unknown };
  if (typeof desc === 'string' && desc.trim()) return desc.split(/\r?\n/)[0].trim();
  return typeof error === 'string' ? error : undefined;
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
  if (typeof b.Message === 'string') return b.Message;
  return aadText(body);
}

function kindForStatus(status: number): PartnerErrorKind {
  if (status === 401) return 'auth';
  if (status === 403) return 'forbidden';
  if (status === 404) return 'not-found';
  if (status === 429) return 'rate-limited';
  if (status >= 500 || status === 408) return 'unavailable';
  return 'invalid';
}

function retryAfterMs(headers: Headers): number | undefined {
  const ra = headers.get('retry-after')?.trim();
  if (!ra) return undefined;
  const secs = Number(ra);
  if (Number.isFinite(secs) && secs >= 0) return Math.round(secs * 1000);
  const at = Date.parse(ra);
  return Number.isFinite(at) ? Math.max(0, at - Date.now()) : undefined;
}

interface Raw {
  status: number;
  headers: Headers;
  contentType: string;
  text: string;
}

export class WebAppSession {
  readonly baseUrl: string;
  private readonly host: string;
  private readonly timeoutMs: number;
  private authority: Authority | null = null;
  private tokens: TokenSet | null = null;
  private inflight: Promise<TokenSet> | null = null;

  constructor(private readonly ctx: PartnerContext) {
    this.baseUrl = baseUrlOf(ctx.credentials.serverUrl);
    this.host = new URL(this.baseUrl).host;
    this.timeoutMs = ctx.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    if (!ctx.credentials.clientId || !ctx.credentials.clientSecret) {
      throw new PartnerError('invalid', 'an SCSM connection needs the Client ID and Client Secret of the web app’s Azure AD application');
    }
  }

  // ---------------------------------------------------------------- transport

  private async send(method: string, url: string, init: { headers?: Record<string, string>; body?: string }, what: string): Promise<Raw> {
    const started = Date.now();
    const path = url.startsWith(this.baseUrl) ? url.slice(this.baseUrl.length) || '/' : new URL(url).pathname;
    try {
      const res = await fetch(url, { method, headers: { Accept: 'application/json', ...init.headers }, body: init.body, signal: AbortSignal.timeout(this.timeoutMs), redirect: 'manual' });
      const text = await res.text();
      this.ctx.onResponse?.({ method, path, status: res.status, ms: Date.now() - started });
      return { status: res.status, headers: res.headers, contentType: (res.headers.get('content-type') ?? '').toLowerCase(), text };
    } catch (err) {
      const e = err as { name?: string; message?: string; cause?: { code?: string; message?: string } };
      if (e?.name === 'TimeoutError' || e?.name === 'AbortError') {
        throw new PartnerError('unavailable', `${what} did not answer ${method} ${path} within ${this.timeoutMs} ms`, { cause: 'timeout' });
      }
      const code = e?.cause?.code ?? '';
      const reason =
        code === 'ECONNREFUSED' ? 'connection refused' : code === 'ENOTFOUND' || code === 'EAI_AGAIN' ? 'host name not found (DNS)' : code === 'ECONNRESET' || code === 'UND_ERR_SOCKET' ? 'connection reset' : code || e?.cause?.message || e?.message || 'network error';
      throw new PartnerError('unavailable', `cannot reach ${what}: ${reason}`, { cause: 'web-app-unreachable' });
    }
  }

  // ---------------------------------------------------------------- tokens

  /** Reads the authority from the web app's 401 challenge. */
  private async discover(): Promise<Authority> {
    if (this.authority) return this.authority;
    const res = await this.send('GET', `${this.baseUrl}/api/status`, {}, `the Service Manager web app at ${this.host}`);
    if (res.status !== 401) {
      if (looksLikeHtml(res.contentType, res.text) || res.status >= 500) throw this.errorFor('GET', '/api/status', res);
      throw new PartnerError('protocol', `not a Service Manager web app at ${this.host}: GET /api/status without a token answered ${res.status} instead of a 401 challenge`, { status: res.status });
    }
    const challenge = parseChallenge(res.headers.get('www-authenticate'));
    const uri = challenge?.authorization_uri;
    if (!uri) throw new PartnerError('protocol', `not a Service Manager web app at ${this.host}: its 401 carries no Bearer authorization_uri`, { status: 401 });
    let authUrl: URL;
    try {
      authUrl = new URL(uri);
    } catch {
      throw new PartnerError('protocol', `the web app at ${this.host} named an unparsable authorization_uri`);
    }
    const sameOrigin = authUrl.origin === new URL(this.baseUrl).origin;
    if (!sameOrigin && !(authUrl.protocol === 'https:' && AAD_HOSTS.has(authUrl.hostname.toLowerCase()))) {
      throw new PartnerError('protocol', `the web app at ${this.host} sends clients to ${authUrl.origin} for tokens, which is neither Azure AD nor the web app itself; refusing to send the client secret there`);
    }
    const tokenUrl = `${authUrl.origin}${authUrl.pathname.replace(/\/oauth2\/authorize\/?$/, '/oauth2/token')}`;
    this.authority = { tokenUrl, resource: challenge.resource_id || this.baseUrl };
    return this.authority;
  }

  private async acquire(): Promise<TokenSet> {
    const authority = await this.discover();
    const { clientId, clientSecret } = this.ctx.credentials;
    const authorityHost = new URL(authority.tokenUrl).host;
    const res = await this.send(
      'POST',
      authority.tokenUrl,
      {
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'client_credentials', client_id: clientId!, client_secret: clientSecret!, resource: authority.resource }).toString(),
      },
      `the Azure AD authority at ${authorityHost}`,
    );
    const body = parseJson(res.text) as Record<string, unknown> | undefined;
    if (res.status !== 200 || !body || typeof body.access_token !== 'string') {
      const text = aadText(body) ?? `HTTP ${res.status}`;
      if (res.status >= 500 || res.status === 429) throw new PartnerError(kindForStatus(res.status), `Azure AD at ${authorityHost} is unavailable (${res.status}): ${text}`, { status: res.status, retryAfterMs: retryAfterMs(res.headers) });
      throw new PartnerError('auth', `Azure AD refused a token for client ID ${clientId}: ${text}`, { status: res.status, cause: 'token-refused' });
    }
    const life = Number(body.expires_in);
    const tokens: TokenSet = { accessToken: body.access_token, accessExpiresAt: Date.now() + (Number.isFinite(life) && life > 0 ? life : 3599) * 1000 };
    this.tokens = tokens;
    await this.ctx.tokens.save(tokens);
    return tokens;
  }

  /** One token request at a time, however many calls need one. */
  renewToken(): Promise<TokenSet> {
    this.inflight ??= this.acquire().finally(() => {
      this.inflight = null;
    });
    return this.inflight;
  }

  private async currentToken(): Promise<string> {
    this.tokens ??= await this.ctx.tokens.load();
    if (this.tokens && this.tokens.accessExpiresAt - REFRESH_SKEW_MS > Date.now()) return this.tokens.accessToken;
    return (await this.renewToken()).accessToken;
  }

  // ---------------------------------------------------------------- calls

  errorFor(method: string, path: string, res: Raw): PartnerError {
    const html = looksLikeHtml(res.contentType, res.text);
    if (html) {
      if (res.status === 403 || res.status >= 500) {
        return new PartnerError('unavailable', `the Service Manager web app at ${this.host} is down (${res.status}, ${/stopped/i.test(res.text) ? 'the web app is stopped' : 'App Service error page'})`, {
          status: res.status,
          cause: 'web-app-unreachable',
        });
      }
      return new PartnerError('protocol', `not a Service Manager web app at ${this.host}: ${method} ${path} answered ${res.status} with an HTML page`, { status: res.status, cause: 'html' });
    }
    const body = parseJson(res.text);
    const text = webAppErrorText(body) ?? (res.text ? `HTTP ${res.status}` : `HTTP ${res.status} with no body`);
    const exceptionType = (body as { ExceptionType?: unknown } | undefined)?.ExceptionType;
    if (typeof exceptionType === 'string' && SDK_EXCEPTIONS.test(exceptionType)) {
      return new PartnerError('unavailable', `the web app at ${this.host} cannot reach the Service Manager server (${exceptionType.split('.').pop()}): ${text}`, {
        status: res.status,
        cause: 'sm-disconnected',
      });
    }
    const kind = kindForStatus(res.status);
    if (/Cache doesn't contain this token, or has expired/i.test(text)) {
      return new PartnerError('invalid', `SCSM ${method} ${path}: ${text}`, { status: res.status, cause: 'cache-expired' });
    }
    if (kind === 'rate-limited') {
      const wait = retryAfterMs(res.headers);
      return new PartnerError(kind, `SCSM web app rate limit on ${method} ${path}${wait !== undefined ? `; retry after ${Math.ceil(wait / 1000)} s` : ''}`, { status: 429, retryAfterMs: wait });
    }
    return new PartnerError(kind, `SCSM ${method} ${path} failed (${res.status}): ${text}`, { status: res.status });
  }

  /**
   * An authenticated JSON call. A 401 renews the token once and repeats the request (nothing happened on
   * the server); a 401 naming the whitelist, or one that survives the renewal, is an `auth` error.
   */
  async call(method: HttpMethod, path: string, json?: unknown): Promise<WebAppResponse> {
    const what = `the Service Manager web app at ${this.host}`;
    const request = async (token: string): Promise<Raw> =>
      this.send(
        method,
        `${this.baseUrl}${path}`,
        { headers: { Authorization: `Bearer ${token}`, ...(json === undefined ? {} : { 'Content-Type': 'application/json' }) }, body: json === undefined ? undefined : JSON.stringify(json) },
        what,
      );
    let res = await request(await this.currentToken());
    if (res.status === 401 && !WHITELIST_TEXT.test(res.text)) res = await request((await this.renewToken()).accessToken);
    if (res.status === 401) {
      const text = webAppErrorText(parseJson(res.text)) ?? 'HTTP 401';
      if (WHITELIST_TEXT.test(text)) {
        throw new PartnerError('auth', `the web app at ${this.host} does not accept client ID ${this.ctx.credentials.clientId}: ${text} (it must be the web app's ida:WhitelistedClientId)`, {
          status: 401,
          cause: 'not-whitelisted',
        });
      }
      throw new PartnerError('auth', `the web app at ${this.host} refused a fresh token for client ID ${this.ctx.credentials.clientId}: ${text}`, { status: 401, cause: 'token-refused' });
    }
    if (res.status < 200 || res.status >= 300) throw this.errorFor(method, path, res);
    const body = parseJson(res.text);
    if (looksLikeHtml(res.contentType, res.text) || !body || typeof body !== 'object' || Array.isArray(body)) {
      throw new PartnerError('protocol', `not a Service Manager web app answer from ${this.host}: ${method} ${path} returned ${res.contentType || 'no content type'}`, { status: res.status, cause: 'html' });
    }
    return { status: res.status, body: body as Record<string, unknown> };
  }
}
