/**
 * Azure AD tokens for the Provance (Dataverse) Web API: the authority is discovered from the server's own
 * 401 challenge (`WWW-Authenticate: Bearer authorization_uri=…`, as Dataverse documents), then a
 * resource-owner password grant for the registered public client (ITSMC's Username/Password/Client ID),
 * refresh grants afterwards, on the shared OAuth 2 code. AADSTS codes become per-cause errors.
 */
import { hostOf, httpSettings, parseJson, send, type AuthStrategy, type HttpSettings, type RawResponse } from '../http.ts';
import { OAuth2Tokens } from '../oauth2.ts';
import { PartnerError, type PartnerContext, type TokenSet } from '../partner.ts';
import { API_ROOT } from './request.ts';
/** Microsoft identity platform hosts (public and national clouds) a server may send us to. */
const MICROSOFT_LOGIN_HOSTS = [
  'login.microsoftonline.com',
  'login.microsoftonline.us',
  'login.chinacloudapi.cn',
  'login.partner.microsoftonline.cn',
  'login.windows.net',
  'sts.windows.net',
];

/** What each AADSTS code means for whoever fixes the connection. */
const AADSTS: Record<number, string> = {
  50126: 'Azure AD rejected the username or password',
  50034: 'the user does not exist in the Azure AD tenant of the server',
  50053: 'the account is locked after too many failed sign-ins; wait or ask an administrator to unlock it',
  50057: 'the user account is disabled in Azure AD',
  50055: 'the password has expired; change it and enter the new one',
  50076:
    'Azure AD requires multi-factor authentication for this user, which a password grant cannot do; exclude the integration account from MFA (Conditional Access)',
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

/** `Bearer authorization_uri=https://login…/{tenant}/oauth2/authorize, resource_id=https://org…/` → token endpoint. */
export function tokenEndpointFromChallenge(header: string | null, serverUrl: string): string {
  const server = new URL(serverUrl);
  const m = /authorization_uri="?([^",\s]+)"?/i.exec(header ?? '');
  if (!m)
    throw new PartnerError(
      'protocol',
      `${server.host} did not name its Azure AD authority (no WWW-Authenticate authorization_uri on 401); is the server URL a Dataverse organisation?`,
    );
  let authorize: URL;
  try {
    authorize = new URL(m[1]);
  } catch {
    throw new PartnerError('protocol', `${server.host} named an unparsable Azure AD authority`);
  }
  // The server itself may name only its own origin (the sandbox; plain http only where the server URL is http).
  const trusted = (authorize.protocol === 'https:' && MICROSOFT_LOGIN_HOSTS.includes(authorize.hostname)) || authorize.origin === server.origin;
  if (!trusted) {
    throw new PartnerError(
      'protocol',
      `${server.host} sends sign-ins to ${authorize.host}, which is neither a Microsoft login host nor the server itself; refusing to send the password there`,
    );
  }
  const tenant = authorize.pathname.split('/').filter(Boolean)[0];
  if (!tenant) throw new PartnerError('protocol', `${server.host} named an Azure AD authority without a tenant`);
  return `${authorize.origin}/${tenant}/oauth2/v2.0/token`;
}

/**
 * An Azure AD refusal → PartnerError with the cause translated, or undefined for answers that are not an
 * Azure AD error body (the shared OAuth 2 code explains those).
 */
export function aadError(res: RawResponse): PartnerError | undefined {
  const body = parseJson(res.text) as { error?: unknown; error_codes?: unknown } | undefined;
  if (!body || typeof body.error !== 'string') return undefined;
  const code = Array.isArray(body.error_codes) && typeof body.error_codes[0] === 'number' ? body.error_codes[0] : undefined;
  const meaning = code !== undefined ? AADSTS[code] : undefined;
  const message = meaning ? `${meaning} (AADSTS${code})` : `Azure AD refused the sign-in: ${body.error}${code !== undefined ? ` (AADSTS${code})` : ''}`;
  return new PartnerError('auth', message, { status: res.status, cause: code !== undefined ? `AADSTS${code}` : body.error });
}

/**
 * The AuthStrategy of the Provance client: discovers the Azure AD token endpoint from the server's 401
 * challenge once, then delegates to the shared OAuth 2 tokens (password grant for the public client,
 * refresh, single flight, one renewal on 401) with Azure AD's refusals translated.
 */
export class AadTokens implements AuthStrategy {
  private oauth: Promise<OAuth2Tokens> | undefined;

  constructor(
    private readonly api: HttpSettings,
    private readonly ctx: PartnerContext,
  ) {}

  private get resource(): string {
    return new URL(this.api.serverUrl).origin;
  }

  private tokens(): Promise<OAuth2Tokens> {
    this.oauth ??= this.discover().catch((err: unknown) => {
      this.oauth = undefined;
      throw err;
    });
    return this.oauth;
  }

  private async discover(): Promise<OAuth2Tokens> {
    const res = await send(this.api, { method: 'GET', path: `${API_ROOT}/` });
    if (res.status !== 401) {
      throw new PartnerError(
        'protocol',
        `${hostOf(this.api)} answered ${res.status} instead of 401 to an unauthenticated Web API call; is the server URL a Dataverse organisation?`,
        { status: res.status },
      );
    }
    const endpoint = new URL(tokenEndpointFromChallenge(res.headers.get('www-authenticate'), this.api.serverUrl));
    return new OAuth2Tokens({
      settings: httpSettings({
        product: 'Azure AD (Provance sign-in)',
        serverUrl: endpoint.origin,
        timeoutMs: this.api.timeoutMs,
        onResponse: this.api.onResponse,
        addressGuard: this.ctx.addressGuard,
      }),
      tokenPath: endpoint.pathname,
      credentials: this.ctx.credentials,
      vault: this.ctx.tokens,
      grant: 'password',
      clientSecretRequired: false,
      extraForm: { scope: `${this.resource}/.default offline_access` },
      clientRegistration: 'the Azure AD app registration',
      explainRefusal: (refusal) => aadError(refusal.response),
    });
  }

  async authenticate(): Promise<TokenSet> {
    return (await this.tokens()).authenticate();
  }

  async header(): Promise<string> {
    return (await this.tokens()).header();
  }

  async renew(stale: string): Promise<string | null> {
    return (await this.tokens()).renew(stale);
  }

  rejectedMessage(): string {
    return 'Provance rejected a freshly issued Azure AD token: check that the user is an enabled member of the Dataverse organisation with a security role';
  }
}
