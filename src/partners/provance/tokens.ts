/**
 * Azure AD tokens for the Provance (Dataverse) Web API: the authority is discovered from the server's own
 * 401 challenge (`WWW-Authenticate: Bearer authorization_uri=…`, as Dataverse documents), then a
 * resource-owner password grant for the registered public client (ITSMC's Username/Password/Client ID),
 * refresh grants afterwards. Expiry is handled by clock and by 401. AADSTS codes become per-cause errors.
 */
import { PartnerError, type TokenSet, type TokenVault } from '../partner.ts';
import { API_ROOT, hostOf, parseJson, retryAfterMs, send, type HttpSettings } from './request.ts';

/** Azure AD's refresh tokens live until 90 days of inactivity; the answer does not say, so this is an estimate. */
const REFRESH_LIFETIME_MS = 90 * 86_400_000;
/** Renew this long before the access token expires. */
const EARLY_MS = 60_000;
/** Microsoft identity platform hosts (public and national clouds) a server may send us to. */
const MICROSOFT_LOGIN_HOSTS = ['login.microsoftonline.com', 'login.microsoftonline.us', 'login.chinacloudapi.cn', 'login.partner.microsoftonline.cn', 'login.windows.net', 'sts.windows.net'];

/** What each AADSTS code means for whoever fixes the connection. */
const AADSTS: Record<number, string> = {
  50126: 'Azure AD rejected the username or password',
  50034: 'the user does not exist in the Azure AD tenant of the server',
  50053: 'the account is locked after too many failed sign-ins; wait or ask an administrator to unlock it',
  50057: 'the user account is disabled in Azure AD',
  50055: 'the password has expired; change it and enter the new one',
  50076: 'Azure AD requires multi-factor authentication for this user, which a password grant cannot do; exclude the integration account from MFA (Conditional Access)',
  50079: 'Azure AD requires the user to register for multi-factor authentication, which a password grant cannot do',
  65001: 'nobody has consented to the app using Dataverse; grant admin consent for the Dynamics CRM user_impersonation permission',
  700016: 'the Client ID is not an app registered in the Azure AD tenant of the server',
  7000218: "the app registration is not a public client; enable 'Allow public client flows' on it (no client secret is used)",
  500011: 'the server URL is not a Dataverse organisation of this Azure AD tenant',
  90002: 'the Azure AD tenant of the server was not found',
  700082: 'the refresh token expired after 90 days without use; enter the password again',
  50173: 'the refresh token was revoked (password change or administrator); enter the password again',
  70000: 'the refresh token is no longer valid; enter the password again',
  9002313: 'the refresh token is not valid for this app; enter the password again',
};

export interface AadCredentials {
  username?: string;
  password?: string;
  clientId?: string;
}

/** `Bearer authorization_uri=https://login…/{tenant}/oauth2/authorize, resource_id=https://org…/` → token endpoint. */
export function tokenEndpointFromChallenge(header: string | null, serverUrl: string): string {
  const m = /authorization_uri="?([^",\s]+)"?/i.exec(header ?? '');
  if (!m) throw new PartnerError('protocol', `${hostOf(serverUrl)} did not name its Azure AD authority (no WWW-Authenticate authorization_uri on 401); is the server URL a Dataverse organisation?`);
  let authorize: URL;
  try {
    authorize = new URL(m[1]);
  } catch {
    throw new PartnerError('protocol', `${hostOf(serverUrl)} named an unparsable Azure AD authority`);
  }
  const server = new URL(serverUrl);
  // The server itself may name only its own origin (the sandbox; plain http only where the server URL is http).
  const trusted = (authorize.protocol === 'https:' && MICROSOFT_LOGIN_HOSTS.includes(authorize.hostname)) || authorize.origin === server.origin;
  if (!trusted) {
    throw new PartnerError('protocol', `${hostOf(serverUrl)} sends sign-ins to ${authorize.host}, which is neither a Microsoft login host nor the server itself; refusing to send the password there`);
  }
  const tenant = authorize.pathname.split('/').filter(Boolean)[0];
  if (!tenant) throw new PartnerError('protocol', `${hostOf(serverUrl)} named an Azure AD authority without a tenant`);
  return `${authorize.origin}/${tenant}/oauth2/v2.0/token`;
}

/** An Azure AD error answer → PartnerError with the cause translated. */
export function aadError(status: number, text: string, headers: Headers): PartnerError {
  const body = parseJson(text) as { error?: string; error_codes?: number[]; error_description?: string } | undefined;
  if (status === 429) return new PartnerError('rate-limited', 'Azure AD throttled the sign-in', { status, retryAfterMs: retryAfterMs(headers) });
  if (status >= 500 || !body || typeof body.error !== 'string') {
    return new PartnerError('unavailable', `Azure AD sign-in failed (HTTP ${status}${body?.error ? `, ${body.error}` : ''})`, { status });
  }
  const code = body.error_codes?.[0];
  const meaning = code !== undefined ? AADSTS[code] : undefined;
  const message = meaning ? `${meaning} (AADSTS${code})` : `Azure AD refused the sign-in: ${body.error}${code !== undefined ? ` (AADSTS${code})` : ''}`;
  return new PartnerError('auth', message, { status, cause: code !== undefined ? `AADSTS${code}` : body.error });
}

export class AadTokens {
  private tokenEndpoint: string | undefined;
  private cached: TokenSet | null | undefined;
  private inflight: Promise<TokenSet> | undefined;

  constructor(
    private readonly settings: HttpSettings,
    private readonly credentials: AadCredentials,
    private readonly vault: TokenVault,
  ) {}

  private get resource(): string {
    return new URL(this.settings.serverUrl).origin;
  }

  /** The token endpoint, discovered once from an unauthenticated call's 401 challenge. */
  private async endpoint(): Promise<string> {
    if (this.tokenEndpoint) return this.tokenEndpoint;
    const res = await send(this.settings, { method: 'GET', url: `${this.settings.serverUrl}${API_ROOT}/`, label: `${API_ROOT}/` });
    if (res.status !== 401) {
      throw new PartnerError('protocol', `${hostOf(this.settings.serverUrl)} answered ${res.status} instead of 401 to an unauthenticated Web API call; is the server URL a Dataverse organisation?`, { status: res.status });
    }
    this.tokenEndpoint = tokenEndpointFromChallenge(res.headers.get('www-authenticate'), this.settings.serverUrl);
    return this.tokenEndpoint;
  }

  private async grant(form: Record<string, string>): Promise<TokenSet> {
    const url = await this.endpoint();
    const res = await send(this.settings, { method: 'POST', url, form, label: new URL(url).pathname });
    if (res.status !== 200) throw aadError(res.status, res.text, res.headers);
    const body = parseJson(res.text) as { access_token?: unknown; expires_in?: unknown; refresh_token?: unknown } | undefined;
    const lifetime = Number(body?.expires_in);
    if (!body || typeof body.access_token !== 'string' || !Number.isFinite(lifetime)) {
      throw new PartnerError('protocol', `the Azure AD token answer from ${hostOf(url)} has no access_token/expires_in`);
    }
    const now = Date.now();
    const tokens: TokenSet = {
      accessToken: body.access_token,
      accessExpiresAt: now + lifetime * 1000,
      refreshToken: typeof body.refresh_token === 'string' ? body.refresh_token : this.cached?.refreshToken,
      refreshExpiresAt: typeof body.refresh_token === 'string' ? now + REFRESH_LIFETIME_MS : this.cached?.refreshExpiresAt,
    };
    this.cached = tokens;
    await this.vault.save(tokens);
    return tokens;
  }

  /** Password grant (first sign-in, or after the refresh token died while the password is at hand). */
  async signIn(): Promise<TokenSet> {
    const { username, password, clientId } = this.credentials;
    if (!username || !password || !clientId) throw new PartnerError('auth', 'Provance needs Username, Password and Client ID to sign in; enter the password again');
    return this.grant({ grant_type: 'password', client_id: clientId, username, password, scope: `${this.resource}/.default offline_access` });
  }

  private async refresh(current: TokenSet): Promise<TokenSet> {
    const clientId = this.credentials.clientId;
    if (current.refreshToken && clientId) {
      try {
        return await this.grant({ grant_type: 'refresh_token', client_id: clientId, refresh_token: current.refreshToken, scope: `${this.resource}/.default offline_access` });
      } catch (err) {
        if (!(err instanceof PartnerError) || err.kind !== 'auth' || !this.credentials.password) throw err;
      }
    }
    if (this.credentials.password) return this.signIn();
    throw new PartnerError('auth', 'the Provance access token expired and there is no refresh token; enter the password again');
  }

  /** One renewal at a time, shared by concurrent callers. */
  private renewOnce(current: TokenSet | null): Promise<TokenSet> {
    this.inflight ??= (current ? this.refresh(current) : this.signIn()).finally(() => (this.inflight = undefined));
    return this.inflight;
  }

  async header(): Promise<string> {
    if (this.cached === undefined) this.cached = await this.vault.load();
    let t = this.cached;
    if (!t || t.accessExpiresAt - EARLY_MS <= Date.now()) t = await this.renewOnce(t);
    return `Bearer ${t.accessToken}`;
  }

  /** After a 401: a renewed header, unless someone already renewed since `stale` was handed out. */
  async renew(stale: string): Promise<string> {
    const t = this.cached;
    if (t && `Bearer ${t.accessToken}` !== stale) return `Bearer ${t.accessToken}`;
    return `Bearer ${(await this.renewOnce(t ?? null)).accessToken}`;
  }
}
