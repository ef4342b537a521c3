/**
 * An Azure AD–style token service for the sandbox tenant: `/{tenant}/oauth2/token` (v1, `resource`) and
 * `/{tenant}/oauth2/v2.0/token` (v2, `scope=<resource>/.default`) for the client-credentials grant, RS256
 * JWT access tokens with `aud`, `iss`, `exp`, `tid` and `appid` (v1 tokens) or `azp` (v2), the OpenID
 * discovery documents and the signing keys — enough for standard clients such as MSAL to work unchanged.
 * Error bodies follow Azure AD's `{error, error_description: "AADSTS…", error_codes, …}` shape.
 */
import { generateKeyPairSync, randomUUID, sign, verify } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { guidFrom } from './model.ts';
import type { WebAppSettings } from './settings.ts';
import { SANDBOX_TENANT } from './settings.ts';
import type { ScsmStore } from './store.ts';

export const TENANT_ID = guidFrom('tenant:sandbox');

export interface TokenResponse {
  status: number;
  body: Record<string, unknown>;
}

export interface Claims {
  aud: string;
  iss: string;
  iat: number;
  nbf: number;
  exp: number;
  tid: string;
  ver: string;
  appid?: string;
  azp?: string;
  [k: string]: unknown;
}

const b64 = (v: unknown): string => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');

export function knownTenant(tenant: string): boolean {
  return tenant.toLowerCase() === SANDBOX_TENANT || tenant.toLowerCase() === TENANT_ID;
}

function aadError(status: number, error: string, code: number, text: string, nowMs: number): TokenResponse {
  const traceId = randomUUID();
  const correlationId = randomUUID();
  const timestamp = new Date(nowMs)
    .toISOString()
    .replace(/\.\d+Z$/, 'Z')
    .replace('T', ' ');
  return {
    status,
    body: {
      error,
      error_description: `AADSTS${code}: ${text}\r\nTrace ID: ${traceId}\r\nCorrelation ID: ${correlationId}\r\nTimestamp: ${timestamp}`,
      error_codes: [code],
      timestamp,
      trace_id: traceId,
      correlation_id: correlationId,
      error_uri: `https://login.microsoftonline.com/error?code=${code}`,
    },
  };
}

const normalise = (url: string): string => url.trim().replace(/\/+$/, '').toLowerCase();

export class AadService {
  private readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  readonly kid: string;
  /** Token ids (`uti`) issued so far, and those made invalid by the "token expiry" fault. */
  private readonly issued = new Set<string>();
  private readonly expired = new Set<string>();

  constructor(
    private readonly store: ScsmStore,
    private readonly settings: () => WebAppSettings,
  ) {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    this.privateKey = privateKey;
    this.publicKey = publicKey;
    this.kid = randomUUID().replace(/-/g, '').slice(0, 27);
  }

  issuer(baseUrl: string, version: 1 | 2): string {
    return version === 2 ? `${baseUrl}/${TENANT_ID}/v2.0` : `${baseUrl}/${TENANT_ID}/`;
  }

  /** Handles a token request; `version` is the endpoint (v1 `resource`, v2 `scope`). */
  token(form: URLSearchParams, basicAuth: string | undefined, version: 1 | 2, baseUrl: string, nowMs: number): TokenResponse {
    const grantType = form.get('grant_type');
    if (!grantType) return aadError(400, 'invalid_request', 900144, "The request body must contain the following parameter: 'grant_type'.", nowMs);
    if (grantType !== 'client_credentials') {
      return aadError(400, 'unsupported_grant_type', 70003, `The app requested an unsupported grant type '${grantType}'.`, nowMs);
    }
    let clientId = form.get('client_id');
    let secret = form.get('client_secret');
    if (basicAuth && /^basic /i.test(basicAuth)) {
      const decoded = Buffer.from(basicAuth.slice(6).trim(), 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      if (colon > 0) {
        clientId = decodeURIComponent(decoded.slice(0, colon));
        secret = decodeURIComponent(decoded.slice(colon + 1));
      }
    }
    if (!clientId) return aadError(400, 'invalid_request', 900144, "The request body must contain the following parameter: 'client_id'.", nowMs);
    const app = this.store.app(clientId);
    if (!app) {
      return aadError(
        400,
        'unauthorized_client',
        700016,
        `Application with identifier '${clientId}' was not found in the directory '${SANDBOX_TENANT}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant.`,
        nowMs,
      );
    }
    if (!secret) {
      return aadError(401, 'invalid_client', 7000218, "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.", nowMs);
    }
    if (secret !== app.clientSecret) {
      return aadError(
        401,
        'invalid_client',
        7000215,
        `Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '${clientId}'.`,
        nowMs,
      );
    }
    const resource = version === 1 ? form.get('resource') : this.resourceFromScope(form.get('scope'));
    if (resource === null) {
      return version === 1
        ? aadError(400, 'invalid_resource', 50001, 'The resource principal named (null) was not found in the tenant.', nowMs)
        : aadError(
            400,
            'invalid_scope',
            1002012,
            `The provided value for scope ${form.get('scope') ?? ''} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).`,
            nowMs,
          );
    }
    if (!this.isWebApp(resource, baseUrl)) {
      return aadError(
        400,
        'invalid_resource',
        500011,
        `The resource principal named ${resource} was not found in the tenant named ${SANDBOX_TENANT}. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant.`,
        nowMs,
      );
    }
    const life = this.settings().tokenLifetimeSec;
    const accessToken = this.sign(clientId, resource.replace(/\/+$/, ''), baseUrl, nowMs, life);
    const iat = Math.floor(nowMs / 1000);
    if (version === 1) {
      return {
        status: 200,
        body: {
          token_type: 'Bearer',
          expires_in: String(life),
          ext_expires_in: String(life),
          expires_on: String(iat + life),
          not_before: String(iat),
          resource,
          access_token: accessToken,
        },
      };
    }
    return { status: 200, body: { token_type: 'Bearer', expires_in: life, ext_expires_in: life, access_token: accessToken } };
  }

  private resourceFromScope(scope: string | null): string | null {
    const scopes = (scope ?? '').split(/\s+/).filter((s) => s && !['openid', 'profile', 'offline_access'].includes(s));
    if (scopes.length !== 1 || !scopes[0].endsWith('/.default')) return null;
    return scopes[0].slice(0, -'/.default'.length);
  }

  /** The web app's service principal: its configured audience, or its own URL as the caller reached it. */
  isWebApp(resource: string, baseUrl: string): boolean {
    const r = normalise(resource);
    const audience = this.settings().audience;
    return r === normalise(baseUrl) || (audience !== '' && r === normalise(audience));
  }

  private sign(clientId: string, aud: string, baseUrl: string, nowMs: number, lifeSec: number): string {
    const iat = Math.floor(nowMs / 1000);
    const v2 = this.settings().accessTokenVersion === 2;
    const oid = guidFrom(`sp:${clientId}`);
    const uti = b64(randomUUID()).slice(0, 22);
    this.issued.add(uti);
    const claims: Claims = {
      aud,
      iss: this.issuer(baseUrl, v2 ? 2 : 1),
      iat,
      nbf: iat,
      exp: iat + lifeSec,
      aio: b64(randomUUID()).slice(0, 40),
      ...(v2 ? { azp: clientId, azpacr: '1' } : { appid: clientId, appidacr: '1', idp: this.issuer(baseUrl, 1) }),
      oid,
      rh: `0.${b64(randomUUID()).slice(0, 20)}.`,
      sub: oid,
      tid: TENANT_ID,
      uti,
      ver: v2 ? '2.0' : '1.0',
    };
    const header = { typ: 'JWT', alg: 'RS256', kid: this.kid, x5t: this.kid };
    const input = `${b64(header)}.${b64(claims)}`;
    return `${input}.${sign('sha256', Buffer.from(input), this.privateKey).toString('base64url')}`;
  }

  /** Verifies signature and lifetime; returns the claims or a reason. */
  verify(token: string, nowMs: number): { claims: Claims } | { reason: string } {
    const parts = token.split('.');
    if (parts.length !== 3) return { reason: 'The token is not a JWT' };
    let header: { alg?: string; kid?: string };
    let claims: Claims;
    try {
      header = JSON.parse(Buffer.from(parts[0], 'base64url').toString('utf8'));
      claims = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8'));
    } catch {
      return { reason: 'The token is not a JWT' };
    }
    if (header.alg !== 'RS256' || header.kid !== this.kid) return { reason: 'The signature key was not found' };
    if (!verify('sha256', Buffer.from(`${parts[0]}.${parts[1]}`), this.publicKey, Buffer.from(parts[2], 'base64url'))) {
      return { reason: 'The signature is invalid' };
    }
    const now = Math.floor(nowMs / 1000);
    if (typeof claims.exp !== 'number' || claims.exp <= now) return { reason: `The token is expired` };
    if (this.expired.has(String(claims.uti))) return { reason: 'The token is expired' };
    if (claims.tid !== TENANT_ID) return { reason: 'The issuer is invalid' };
    return { claims };
  }

  /** Every token issued so far stops working, as if its lifetime had run out; returns how many. */
  expireAll(): number {
    for (const uti of this.issued) this.expired.add(uti);
    const n = this.issued.size;
    this.issued.clear();
    return n;
  }

  jwks(): Record<string, unknown> {
    const jwk = this.publicKey.export({ format: 'jwk' }) as { n: string; e: string };
    return { keys: [{ kty: 'RSA', use: 'sig', kid: this.kid, x5t: this.kid, n: jwk.n, e: jwk.e, issuer: `https://sts.windows.net/${TENANT_ID}/` }] };
  }

  /** The OpenID Connect discovery document (v2 under `/{tenant}/v2.0/…`, v1 under `/{tenant}/…`). */
  openIdConfiguration(baseUrl: string, tenant: string, version: 1 | 2): Record<string, unknown> {
    const t = `${baseUrl}/${tenant}`;
    const common = {
      token_endpoint_auth_methods_supported: ['client_secret_post', 'private_key_jwt', 'client_secret_basic'],
      response_modes_supported: ['query', 'fragment', 'form_post'],
      subject_types_supported: ['pairwise'],
      id_token_signing_alg_values_supported: ['RS256'],
      response_types_supported: ['code', 'id_token', 'code id_token', 'token id_token', 'token'],
      scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
      claims_supported: ['sub', 'iss', 'aud', 'exp', 'iat', 'auth_time', 'nonce', 'name', 'tid', 'ver', 'oid', 'upn', 'email'],
      tenant_region_scope: 'EU',
      cloud_instance_name: 'microsoftonline.com',
      cloud_graph_host_name: 'graph.windows.net',
      msgraph_host: 'graph.microsoft.com',
      rbac_url: 'https://pas.windows.net',
      request_uri_parameter_supported: false,
      http_logout_supported: true,
      frontchannel_logout_supported: true,
    };
    if (version === 2) {
      return {
        ...common,
        token_endpoint: `${t}/oauth2/v2.0/token`,
        jwks_uri: `${t}/discovery/v2.0/keys`,
        issuer: this.issuer(baseUrl, 2),
        authorization_endpoint: `${t}/oauth2/v2.0/authorize`,
        device_authorization_endpoint: `${t}/oauth2/v2.0/devicecode`,
        end_session_endpoint: `${t}/oauth2/v2.0/logout`,
        kerberos_endpoint: `${t}/kerberos`,
      };
    }
    return {
      ...common,
      token_endpoint: `${t}/oauth2/token`,
      jwks_uri: `${t}/discovery/keys`,
      issuer: this.issuer(baseUrl, 1),
      authorization_endpoint: `${t}/oauth2/authorize`,
      device_authorization_endpoint: `${t}/oauth2/devicecode`,
      end_session_endpoint: `${t}/oauth2/logout`,
      kerberos_endpoint: `${t}/kerberos`,
    };
  }
}
