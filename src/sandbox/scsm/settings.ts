/**
 * Run-time switches of the SCSM sandbox: the web app's own settings (`ida:*`, `app:*` app settings of
 * the real deployment) and behaviours partner-apis.md marks as inferred, so a client can be tested
 * against both variants. Changeable through `PUT /api/x_sandbox/settings` (merge).
 */
export interface WebAppSettings {
  /** `ida:WhitelistedClientId`: the only application whose tokens the web app accepts. */
  whitelistedClientId: string;
  /** `ida:Audience`; empty = the web app's own URL as the caller addressed it. */
  audience: string;
  /** `app:CacheTimeout` of the work item page cache, seconds. */
  cacheTimeoutSec: number;
  /** `app:DefaultWIGETPageSize`: page size when a request gives none. */
  defaultPageSize: number;
  /** Largest page size honoured; larger requests are clamped. */
  maxPageSize: number;
  /** `ida:ServerName`: the SM management server behind the hybrid connection. */
  serverName: string;
  /** Resolving an incident needs a ResolutionCategory (the console form requires one). */
  resolutionCategoryRequired: boolean;
  /** Lifetime of issued access tokens, seconds (Azure AD: 3599 by default). */
  tokenLifetimeSec: number;
  /** `accessTokenAcceptedVersion` of the web app's registration: 1 → v1 tokens with `appid`, 2 → v2 with `azp`. */
  accessTokenVersion: number;
}

export const DEFAULT_SETTINGS: WebAppSettings = {
  whitelistedClientId: 'itsmc-scsm-sandbox',
  audience: '',
  cacheTimeoutSec: 600,
  defaultPageSize: 200,
  maxPageSize: 2000,
  serverName: 'scsm01.contoso.local',
  resolutionCategoryRequired: true,
  tokenLifetimeSec: 3599,
  accessTokenVersion: 1,
};

export const SANDBOX_TENANT = 'sandbox';

export const SEEDED_CREDENTIALS = {
  tenant: SANDBOX_TENANT,
  clientId: 'itsmc-scsm-sandbox',
  clientSecret: 'sandbox-secret',
  /** A registered application that is not whitelisted by the web app. */
  other: { clientId: 'other-app', clientSecret: 'other-secret' },
  /** Basic credentials of the sandbox admin API (/api/x_sandbox/*). */
  admin: { user: 'admin', password: 'admin' },
} as const;
