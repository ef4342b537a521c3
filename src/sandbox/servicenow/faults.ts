/** ServiceNow's view of the common fault model (../common/faults.ts): which paths are its API, and its routes. */
export { DEFAULT_FAULTS, Faults, RateLimiter, Stats } from '../common/faults.ts';
export type { FaultAction, FaultConfig, RateDecision, RateRule } from '../common/faults.ts';

export const ADMIN_PREFIX = '/api/x_sandbox';

/** The Table API, Event Management and the OAuth endpoints: what faults apply to by default. */
export function isServiceNowApi(path: string): boolean {
  return path.startsWith('/api/') || path === '/oauth_token.do' || path === '/oauth_revoke_token.do';
}

/** `/api/now/table/incident/<sys_id>` → `/api/now/table/incident/{sys_id}`. */
export function routeKey(path: string): string {
  const m = /^(\/api\/now(?:\/v[12])?\/table\/[^/]+)(\/[^/]+)?\/?$/.exec(path);
  if (m) return m[2] ? `${m[1]}/{sys_id}` : m[1];
  return path;
}
