/**
 * The SCSM emulator's view of the common fault model (../common/faults.ts): which paths are its API (the
 * web app and the token service), its routes for statistics, and the one fault only it has — the hybrid
 * connection (Azure Relay) to the SM management server going down. Token expiry is the token service's.
 */
import { Faults } from '../common/faults.ts';

export { RateLimiter, Stats } from '../common/faults.ts';

export const ADMIN_PREFIX = '/api/x_sandbox';

const TOKEN_PATH = /^\/[^/]+\/(oauth2|discovery|v2\.0\/\.well-known|\.well-known)\//;

/** The web app's routes and the token service: what faults apply to by default. */
export function isScsmApi(path: string): boolean {
  return (path.startsWith('/api/') && !path.startsWith(ADMIN_PREFIX)) || TOKEN_PATH.test(path);
}

/** `/api/workitems/<guid>` → `/api/workitems/{bmeId}`, cache keys → `{key}`, so statistics group by route. */
export function routeKey(path: string): string {
  return path
    .replace(/\/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}(?=\/|$)/gi, '/{bmeId}')
    .replace(/^\/api\/workitems\/next\/[^/]+\/\d+\/\d+$/, '/api/workitems/next/{key}/{pageNo}/{pageSize}');
}

export class ScsmFaults extends Faults {
  /** False while the hybrid connection to the SM management server is down; `reset_faults` brings it back. */
  relayConnected = true;

  constructor(seed: number) {
    super(seed, isScsmApi, ADMIN_PREFIX);
  }

  override reset(): void {
    super.reset();
    this.relayConnected = true;
  }
}
