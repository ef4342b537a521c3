/**
 * Partner CI ids by name, one lookup at a time per (connection, CI name): concurrent work units that need the
 * same CI share one lookup in this process (single flight), and when the lookup may create the CI, a store lease
 * keyed by (connection, CI name) makes other connector processes on the same store wait for it; their own lookup
 * then runs after the lease and finds the CI instead of creating it again. Results are cached for a while.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { LeaseRepo } from '../store/leases.ts';

export interface CiResolverOptions {
  /** How long a CI id (or "not found") is reused. */
  cacheMs: number;
  /** Lease time to live while a CI is looked up and maybe created (a crashed holder blocks others this long at most). */
  lockTtlMs: number;
  /** Pause between attempts to take a lease another process holds. */
  lockPollMs: number;
}

export const defaultCiResolverOptions: CiResolverOptions = { cacheMs: 5 * 60_000, lockTtlMs: 30_000, lockPollMs: 25 };

export class CiResolver {
  private readonly cache = new Map<string, { id: string | null; at: number }>();
  private readonly inflight = new Map<string, Promise<string | null>>();

  constructor(
    private readonly leases: LeaseRepo,
    private readonly holder: string,
    private readonly options: CiResolverOptions = defaultCiResolverOptions,
  ) {}

  /** The CI's partner id (null when not found and not created); `lookup` is the partner call. */
  async resolve(connectionId: string, name: string, allowCreate: boolean, lookup: () => Promise<string | null>): Promise<string | null> {
    const key = `${connectionId}\u0000${allowCreate ? 1 : 0}\u0000${name.toLowerCase()}`;
    const hit = this.cache.get(key);
    if (hit && Date.now() - hit.at < this.options.cacheMs) return hit.id;
    let pending = this.inflight.get(key);
    if (!pending) {
      pending = (allowCreate ? this.locked(connectionId, name, lookup) : lookup())
        .then((id) => {
          if (this.cache.size > 50_000) this.cache.clear();
          this.cache.set(key, { id, at: Date.now() });
          return id;
        })
        .finally(() => this.inflight.delete(key));
      this.inflight.set(key, pending);
    }
    return pending;
  }

  private async locked<T>(connectionId: string, name: string, fn: () => Promise<T>): Promise<T> {
    const lease = `ci:${connectionId}:${createHash('sha256').update(name.toLowerCase()).digest('hex').slice(0, 40)}`;
    const holder = `${this.holder}:${randomBytes(4).toString('hex')}`;
    const giveUpAt = Date.now() + this.options.lockTtlMs;
    // A holder that stays longer than the lease's life has crashed or hangs: then its lease has expired and is ours.
    while (!(await this.leases.tryAcquire(lease, holder, this.options.lockTtlMs)) && Date.now() < giveUpAt) {
      await new Promise((r) => setTimeout(r, this.options.lockPollMs));
    }
    try {
      return await fn();
    } finally {
      await this.leases.release(lease, holder).catch(() => {});
    }
  }
}
