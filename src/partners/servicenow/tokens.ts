/**
 * ServiceNow sign-in: OAuth 2 password grant on `POST /oauth_token.do` (shared ../oauth2.ts), or Basic auth for
 * instances without an OAuth client.
 */
import type { PartnerCredentials, TokenSet, TokenVault } from '../partner.ts';
import { OAuth2Tokens, basicHeader } from '../oauth2.ts';
import { send, type AuthStrategy, type HttpSettings } from '../http.ts';
import { apiCall } from './request.ts';

export { DEFAULT_SKEW_MS, basicHeader } from '../oauth2.ts';

const TOKEN_PATH = '/oauth_token.do';
/** A read that needs nothing but a signed-in user (used to check credentials). */
const PROBE = {
  method: 'GET',
  path: '/api/now/table/sys_user',
  query: { sysparm_limit: 1, sysparm_fields: 'sys_id', sysparm_query: 'sys_idISEMPTY' },
} as const;

export interface TokenManagerOptions {
  settings: HttpSettings;
  credentials: PartnerCredentials;
  vault: TokenVault;
  skewMs?: number;
}

export class TokenManager extends OAuth2Tokens {
  constructor(opts: TokenManagerOptions) {
    super({
      ...opts,
      tokenPath: TOKEN_PATH,
      grant: 'password',
      clientRegistration: 'the Application Registry entry',
      whichCredentialRefused: probeWithBasicAuth(opts.settings),
    });
  }
}

/**
 * ServiceNow answers every bad password grant the same way (401 access_denied), so to tell a bad client secret
 * from a bad password we ask the Table API with Basic auth once: if the user's password works there, the OAuth
 * client (id/secret) is what was refused.
 */
function probeWithBasicAuth(settings: HttpSettings) {
  return async (username: string, password: string): Promise<'client' | 'password' | undefined> => {
    try {
      const { status } = await send(settings, { ...PROBE, authorization: basicHeader(username, password) });
      if (status >= 200 && status < 300) return 'client';
      return status === 401 ? 'password' : undefined;
    } catch {
      return undefined;
    }
  };
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
    await apiCall(this.settings, this, PROBE);
    return { accessToken: '', accessExpiresAt: Number.MAX_SAFE_INTEGER };
  }
}
