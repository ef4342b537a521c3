/**
 * Fault injection of the SCSM sandbox: the ServiceNow sandbox's scripted and random faults (latency,
 * errors, timeouts, outage, 429s), applied to the web app's routes and the token service, plus the two
 * SCSM-specific ones: the hybrid-connection relay to the SM server going down, and token expiry.
 */
import { Faults } from '../servicenow/faults.ts';

export { Stats } from '../servicenow/faults.ts';
export type { FaultConfig } from '../servicenow/faults.ts';

const TOKEN_PATH = /^\/[^/]+\/(oauth2|discovery|v2\.0\/\.well-known|\.well-known)\//;

export class ScsmFaults extends Faults {
  /** False while the hybrid connection (Azure Relay) to the SM management server is down. */
  relayConnected = true;

  override reset(): void {
    super.reset();
    this.relayConnected = true;
  }

  override applies(path: string): boolean {
    if (path.startsWith('/api/x_sandbox')) return false;
    const p = this.config.paths;
    if (p === null) return path.startsWith('/api/') || TOKEN_PATH.test(path);
    return p.some((prefix) => path.startsWith(prefix));
  }
}

/** `/api/workitems/<guid>` → `/api/workitems/{bmeId}` (and cache keys), so statistics group by route. */
export function routeKey(path: string): string {
  return path
    .replace(/\/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}(?=\/|$)/gi, '/{bmeId}')
    .replace(/^\/api\/workitems\/next\/[^/]+\/\d+\/\d+$/, '/api/workitems/next/{key}/{pageNo}/{pageSize}');
}
