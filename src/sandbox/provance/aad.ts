/**
 * An Azure AD (Microsoft Entra ID)–style token service inside the Provance sandbox, close enough that
 * standard clients (MSAL) get tokens from it unchanged: `/{tenant}/oauth2/token` (v1, `resource`) and
 * `/{tenant}/oauth2/v2.0/token` (v2, `scope`), resource-owner password grant for public clients, refresh
 * grant, RS256 JWT access and ID tokens, OpenID discovery with JWKS, and AADSTS-style error bodies.
 * Directory users and app registrations live in the sandbox's own SQLite tables.
 */
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  randomBytes,
  randomUUID,
  scryptSync,
  sign,
  timingSafeEqual,
  verify,
  type KeyObject,
} from 'node:crypto';
import type { ProvanceStore } from './store.ts';

export const TENANT = { name: 'sandbox', id: '6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b', domain: 'sandbox.example' } as const;

export interface AadSettings {
  accessTokenLifetimeSec: number;
  refreshTokenLifetimeSec: number;
  /** Failed password attempts before the account is locked (AADSTS50053), as smart lockout does. */
  lockoutThreshold: number;
}

export const DEFAULT_AAD: AadSettings = { accessTokenLifetimeSec: 3599, refreshTokenLifetimeSec: 90 * 86400, lockoutThreshold: 10 };

export interface DirectoryUser {
  upn: string;
  object_id: string;
  systemuserid: string;
  password_hash: string;
  enabled: number;
  password_expired: number;
  mfa_required: number;
  failed_logins: number;
}

export interface TokenResult {
  status: number;
  body: Record<string, unknown>;
}

export interface AccessClaims {
  upn: string;
  oid: string;
  appid: string;
  aud: string;
  exp: number;
  iat: number;
}

// ------------------------------------------------------------------ passwords

const SCRYPT = { N: 4096, r: 8, p: 1 };

export function hashSecret(secret: string, salt = randomBytes(16).toString('hex')): string {
  return `scrypt$${salt}$${scryptSync(secret, salt, 32, SCRYPT).toString('hex')}`;
}

function secretMatches(secret: string, stored: string): boolean {
  const [kind, salt, hash] = stored.split('$');
  if (kind !== 'scrypt' || !salt || !hash) return false;
  const expected = Buffer.from(hash, 'hex');
  const actual = scryptSync(secret, salt, expected.length, SCRYPT);
  return timingSafeEqual(actual, expected);
}

// ------------------------------------------------------------------ JWT

const b64url = (v: Buffer | string): string => Buffer.from(v).toString('base64url');

export class SigningKey {
  readonly kid: string;
  private readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;

  constructor(pem?: string) {
    if (pem) {
      this.privateKey = createPrivateKey(pem);
      this.publicKey = createPublicKey(this.privateKey);
    } else {
      const pair = generateKeyPairSync('rsa', { modulusLength: 2048 });
      this.privateKey = pair.privateKey;
      this.publicKey = pair.publicKey;
    }
    this.kid = createHash('sha256')
      .update(this.publicKey.export({ format: 'der', type: 'spki' }))
      .digest('base64url')
      .slice(0, 27);
  }

  jwt(payload: Record<string, unknown>): string {
    const head = b64url(JSON.stringify({ typ: 'JWT', alg: 'RS256', kid: this.kid, x5t: this.kid }));
    const body = b64url(JSON.stringify(payload));
    return `${head}.${body}.${sign('sha256', Buffer.from(`${head}.${body}`), this.privateKey).toString('base64url')}`;
  }

  /** The payload of a token this key signed, or undefined when the signature or shape is wrong. */
  verify(token: string): Record<string, unknown> | undefined {
    const parts = token.split('.');
    if (parts.length !== 3) return undefined;
    const ok = verify('sha256', Buffer.from(`${parts[0]}.${parts[1]}`), this.publicKey, Buffer.from(parts[2], 'base64url'));
    if (!ok) return undefined;
    try {
      return JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8')) as Record<string, unknown>;
    } catch {
      return undefined;
    }
  }

  jwks(): { keys: Record<string, unknown>[] } {
    const jwk = this.publicKey.export({ format: 'jwk' });
    return {
      keys: [{ kty: 'RSA', use: 'sig', kid: this.kid, x5t: this.kid, n: jwk.n, e: jwk.e, issuer: `https://login.microsoftonline.com/${TENANT.id}/v2.0` }],
    };
  }
}

// ------------------------------------------------------------------ errors

type AadError = { status: number; error: string; code: number; description: string; suberror?: string };

const E = {
  missing: (p: string): AadError => ({
    status: 400,
    error: 'invalid_request',
    code: 900144,
    description: `The request body must contain the following parameter: '${p}'.`,
  }),
  badContentType: (): AadError => ({
    status: 400,
    error: 'invalid_request',
    code: 900144,
    description: "The request body must contain the following parameter: 'grant_type'.",
  }),
  tenant: (t: string): AadError => ({
    status: 400,
    error: 'invalid_request',
    code: 90002,
    description: `Tenant '${t}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.`,
  }),
  grantType: (g: string): AadError => ({
    status: 400,
    error: 'unsupported_grant_type',
    code: 70003,
    description: `The app requested an unsupported grant type '${g}'.`,
  }),
  app: (id: string): AadError => ({
    status: 400,
    error: 'unauthorized_client',
    code: 700016,
    description: `Application with identifier '${id}' was not found in the directory '${TENANT.name}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant.`,
  }),
  confidential: (): AadError => ({
    status: 401,
    error: 'invalid_client',
    code: 7000218,
    description: "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
  }),
  noUser: (): AadError => ({
    status: 400,
    error: 'invalid_grant',
    code: 50034,
    description: `The user account {EmailHidden} does not exist in the ${TENANT.domain} directory. To sign into this application, the account must be added to the directory.`,
  }),
  password: (): AadError => ({
    status: 400,
    error: 'invalid_grant',
    code: 50126,
    description: 'Error validating credentials due to invalid username or password.',
  }),
  locked: (): AadError => ({
    status: 400,
    error: 'invalid_grant',
    code: 50053,
    description: "The account is locked, you've tried to sign in too many times with an incorrect user ID or password.",
  }),
  disabled: (): AadError => ({ status: 400, error: 'invalid_grant', code: 50057, description: 'The user account is disabled.' }),
  expiredPassword: (): AadError => ({
    status: 400,
    error: 'invalid_grant',
    code: 50055,
    description: 'The password is expired.',
    suberror: 'user_password_expired',
  }),
  mfa: (resource: string): AadError => ({
    status: 400,
    error: 'invalid_grant',
    code: 50076,
    description: `Due to a configuration change made by your administrator, or because you moved to a new location, you must use multi-factor authentication to access '${resource}'.`,
    suberror: 'basic_action',
  }),
  consent: (app: string, name: string): AadError => ({
    status: 400,
    error: 'invalid_grant',
    code: 65001,
    description: `The user or administrator has not consented to use the application with ID '${app}' named '${name}'. Send an interactive authorization request for this user and resource.`,
    suberror: 'consent_required',
  }),
  resource: (r: string): AadError => ({
    status: 400,
    error: 'invalid_resource',
    code: 500011,
    description: `The resource principal named ${r} was not found in the tenant named ${TENANT.name}. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant.`,
  }),
  refresh: (): AadError => ({ status: 400, error: 'invalid_grant', code: 700082, description: 'The refresh token has expired due to inactivity.' }),
  revoked: (): AadError => ({
    status: 400,
    error: 'invalid_grant',
    code: 50173,
    description: 'The provided grant has expired due to it being revoked, a fresh auth token is needed.',
  }),
  malformedRefresh: (): AadError => ({ status: 400, error: 'invalid_grant', code: 9002313, description: 'Invalid request. Request is malformed or invalid.' }),
};

function errorBody(e: AadError, nowMs: number): TokenResult {
  const trace = randomUUID();
  const correlation = randomUUID();
  const ts = new Date(nowMs).toISOString().replace('T', ' ').replace('Z', 'Z');
  const body: Record<string, unknown> = {
    error: e.error,
    error_description: `AADSTS${e.code}: ${e.description} Trace ID: ${trace} Correlation ID: ${correlation} Timestamp: ${ts}`,
    error_codes: [e.code],
    timestamp: ts,
    trace_id: trace,
    correlation_id: correlation,
    error_uri: `https://login.microsoftonline.com/error?code=${e.code}`,
  };
  if (e.suberror) body.suberror = e.suberror;
  return { status: e.status, body };
}

// ------------------------------------------------------------------ service

export type Endpoint = 'v1' | 'v2';

export class AadService {
  settings: AadSettings = { ...DEFAULT_AAD };
  /** Bumped by the admin API's "expire all access tokens"; tokens of an older generation are rejected. */
  private generation = 0;

  constructor(
    private readonly store: ProvanceStore,
    readonly key: SigningKey,
  ) {}

  knownTenant(t: string): boolean {
    return t === TENANT.name || t === TENANT.id || t === TENANT.domain || t === 'organizations';
  }

  openIdConfiguration(base: string, version: Endpoint): Record<string, unknown> {
    const v = version === 'v2' ? '/v2.0' : '';
    const t = TENANT.id;
    return {
      token_endpoint: `${base}/${t}/oauth2${v}/token`,
      token_endpoint_auth_methods_supported: ['client_secret_post', 'private_key_jwt', 'client_secret_basic'],
      jwks_uri: `${base}/${t}/discovery${v}/keys`,
      response_modes_supported: ['query', 'fragment', 'form_post'],
      subject_types_supported: ['pairwise'],
      id_token_signing_alg_values_supported: ['RS256'],
      response_types_supported: ['code', 'id_token', 'code id_token', 'id_token token'],
      scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
      issuer: version === 'v2' ? `${base}/${t}/v2.0` : `https://sts.windows.net/${t}/`,
      request_uri_parameter_supported: false,
      userinfo_endpoint: `${base}/${t}/openid/userinfo`,
      authorization_endpoint: `${base}/${t}/oauth2${v}/authorize`,
      device_authorization_endpoint: `${base}/${t}/oauth2${v}/devicecode`,
      http_logout_supported: true,
      frontchannel_logout_supported: true,
      end_session_endpoint: `${base}/${t}/oauth2${v}/logout`,
      claims_supported: ['sub', 'iss', 'aud', 'exp', 'iat', 'auth_time', 'nonce', 'name', 'tid', 'ver', 'oid', 'upn', 'preferred_username'],
      tenant_region_scope: 'EU',
      cloud_instance_name: 'microsoftonline.com',
      cloud_graph_host_name: 'graph.windows.net',
      msgraph_host: 'graph.microsoft.com',
    };
  }

  /**
   * One token request. `resourceBase` is the sandbox's own URL: the only resource (Dataverse organisation)
   * it issues tokens for. `tenant` is the path segment the client used.
   */
  token(endpoint: Endpoint, tenant: string, form: URLSearchParams, resourceBase: string, nowMs: number): TokenResult {
    const fail = (e: AadError): TokenResult => errorBody(e, nowMs);
    if (!this.knownTenant(tenant)) return fail(E.tenant(tenant));
    const grant = form.get('grant_type');
    if (!grant) return fail(E.missing('grant_type'));
    if (grant !== 'password' && grant !== 'refresh_token') return fail(E.grantType(grant));
    const clientId = form.get('client_id');
    if (!clientId) return fail(E.missing('client_id'));
    const app = this.store.stmt('SELECT * FROM sb_aad_app WHERE client_id = ?').get(clientId) as
      { client_id: string; name: string; public_client: number; consented: number } | undefined;
    if (!app) return fail(E.app(clientId));
    if (!app.public_client && !form.get('client_secret') && !form.get('client_assertion')) return fail(E.confidential());

    const requested = this.requestedResource(endpoint, form);
    if (requested === undefined) return fail(E.missing(endpoint === 'v2' ? 'scope' : 'resource'));
    if (normaliseResource(requested.resource) !== normaliseResource(resourceBase)) return fail(E.resource(requested.resource));

    let user: DirectoryUser | undefined;
    if (grant === 'password') {
      const username = form.get('username');
      const password = form.get('password');
      if (!username) return fail(E.missing('username'));
      if (password === null) return fail(E.missing('password'));
      user = this.findUser(username);
      if (!user) return fail(E.noUser());
      const problem = this.checkPassword(user, password);
      if (problem) return fail(problem);
    } else {
      const rt = form.get('refresh_token');
      if (!rt) return fail(E.missing('refresh_token'));
      const row = this.store.stmt('SELECT * FROM sb_refresh_token WHERE token_hash = ?').get(sha256(rt)) as
        { upn: string; client_id: string; expires_at: number; revoked: number } | undefined;
      if (!row || row.client_id !== clientId) return fail(E.malformedRefresh());
      if (row.revoked) return fail(E.revoked());
      if (row.expires_at <= nowMs) return fail(E.refresh());
      user = this.findUser(row.upn);
      if (!user) return fail(E.noUser());
      if (!user.enabled) return fail(E.disabled());
    }
    if (user.mfa_required) return fail(E.mfa(requested.resource));
    if (!app.consented) return fail(E.consent(app.client_id, app.name));
    return { status: 200, body: this.issue(endpoint, user, app.client_id, resourceBase, requested.scopes, form.get('client_info') === '1', nowMs) };
  }

  private requestedResource(endpoint: Endpoint, form: URLSearchParams): { resource: string; scopes: string[] } | undefined {
    if (endpoint === 'v1') {
      const resource = form.get('resource');
      if (!resource) return undefined;
      return { resource, scopes: (form.get('scope') ?? '').split(/\s+/).filter(Boolean) };
    }
    const scopes = (form.get('scope') ?? '').split(/\s+/).filter(Boolean);
    const resourceScope = scopes.find((s) => /^https?:\/\//i.test(s));
    if (!resourceScope) return undefined;
    const resource = resourceScope.replace(/\/(\.default|user_impersonation)$/i, '');
    return { resource, scopes };
  }

  private findUser(upn: string): DirectoryUser | undefined {
    return this.store.stmt('SELECT * FROM sb_aad_user WHERE upn = ?').get(upn) as DirectoryUser | undefined;
  }

  private checkPassword(user: DirectoryUser, password: string): AadError | undefined {
    if (!user.enabled) return E.disabled();
    if (user.failed_logins >= this.settings.lockoutThreshold) return E.locked();
    if (!secretMatches(password, user.password_hash)) {
      this.store.stmt('UPDATE sb_aad_user SET failed_logins = failed_logins + 1 WHERE upn = ?').run(user.upn);
      return E.password();
    }
    this.store.stmt('UPDATE sb_aad_user SET failed_logins = 0 WHERE upn = ?').run(user.upn);
    if (user.password_expired) return E.expiredPassword();
    return undefined;
  }

  private issue(
    endpoint: Endpoint,
    user: DirectoryUser,
    clientId: string,
    resourceBase: string,
    scopes: string[],
    clientInfo: boolean,
    nowMs: number,
  ): Record<string, unknown> {
    const now = Math.floor(nowMs / 1000);
    const life = this.settings.accessTokenLifetimeSec;
    const name =
      (this.store.stmt('SELECT fullname FROM systemuser WHERE systemuserid = ?').get(user.systemuserid) as { fullname?: string } | undefined)?.fullname ??
      user.upn;
    const aud = normaliseResource(resourceBase) + '/';
    const access = this.key.jwt({
      aud,
      iss: `https://sts.windows.net/${TENANT.id}/`,
      iat: now,
      nbf: now,
      exp: now + life,
      appid: clientId,
      appidacr: '0',
      name,
      oid: user.object_id,
      scp: 'user_impersonation',
      sub: createHash('sha256').update(`${user.object_id}:${clientId}`).digest('base64url').slice(0, 43),
      tid: TENANT.id,
      unique_name: user.upn,
      upn: user.upn,
      uti: randomBytes(16).toString('base64url'),
      ver: '1.0',
      xms_sandbox_gen: this.generation,
    });
    const refresh = randomBytes(48).toString('base64url');
    this.store
      .stmt('INSERT INTO sb_refresh_token (token_hash, upn, client_id, resource, expires_at) VALUES (?, ?, ?, ?, ?)')
      .run(sha256(refresh), user.upn, clientId, aud, nowMs + this.settings.refreshTokenLifetimeSec * 1000);
    const idToken = this.key.jwt({
      aud: clientId,
      iss: endpoint === 'v2' ? `https://login.microsoftonline.com/${TENANT.id}/v2.0` : `https://sts.windows.net/${TENANT.id}/`,
      iat: now,
      nbf: now,
      exp: now + life,
      name,
      oid: user.object_id,
      preferred_username: user.upn,
      upn: user.upn,
      sub: createHash('sha256').update(`${user.object_id}:${clientId}:id`).digest('base64url').slice(0, 43),
      tid: TENANT.id,
      ver: endpoint === 'v2' ? '2.0' : '1.0',
    });
    if (endpoint === 'v1') {
      return {
        token_type: 'Bearer',
        scope: 'user_impersonation',
        expires_in: String(life),
        ext_expires_in: String(life),
        expires_on: String(now + life),
        not_before: String(now),
        resource: normaliseResource(resourceBase),
        access_token: access,
        refresh_token: refresh,
        ...(scopes.includes('openid') ? { id_token: idToken } : {}),
      };
    }
    const body: Record<string, unknown> = {
      token_type: 'Bearer',
      scope: `${aud}user_impersonation`,
      expires_in: life,
      ext_expires_in: life,
      access_token: access,
    };
    if (scopes.includes('offline_access')) body.refresh_token = refresh;
    if (scopes.includes('openid')) body.id_token = idToken;
    if (clientInfo) body.client_info = b64url(JSON.stringify({ uid: user.object_id, utid: TENANT.id }));
    return body;
  }

  /** The claims of a valid access token for `resourceBase`, or undefined (then the Web API answers 401). */
  validate(token: string, resourceBase: string, nowMs: number): AccessClaims | undefined {
    const p = this.key.verify(token);
    if (!p) return undefined;
    const now = Math.floor(nowMs / 1000);
    const exp = Number(p.exp);
    const iat = Number(p.iat);
    if (!(exp > now) || p.xms_sandbox_gen !== this.generation) return undefined;
    if (normaliseResource(String(p.aud)) !== normaliseResource(resourceBase)) return undefined;
    const user = this.findUser(String(p.upn));
    if (!user || !user.enabled) return undefined;
    return { upn: user.upn, oid: String(p.oid), appid: String(p.appid), aud: String(p.aud), exp, iat };
  }

  systemUserFor(upn: string): string | undefined {
    return this.findUser(upn)?.systemuserid;
  }

  /** Rejects every access token issued so far (clients must refresh). */
  expireAccessTokens(): void {
    this.generation++;
  }

  revokeRefreshTokens(): number {
    return this.store.stmt('UPDATE sb_refresh_token SET revoked = 1 WHERE revoked = 0').run().changes;
  }
}

function sha256(s: string): string {
  return createHash('sha256').update(s).digest('hex');
}

/** `https://Host:1/` → `https://host:1` (scheme and host lower-cased, no trailing slash). */
export function normaliseResource(r: string): string {
  try {
    const u = new URL(r);
    return `${u.protocol}//${u.host}${u.pathname.replace(/\/+$/, '')}`.toLowerCase();
  } catch {
    return r.replace(/\/+$/, '').toLowerCase();
  }
}
