import os from 'node:os';
import { randomUUID } from 'node:crypto';

/** A lease holder id: `host:pid:random`, so a restarted process on the same host can tell a dead holder. */
export function newHolderId(): string {
  return `${os.hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
}

/**
 * True when `holder` was a process on this host that no longer runs (killed or crashed): its lease can
 * be taken over at once instead of waiting for the expiry. Holders of other hosts are never judged.
 */
export function holderIsDead(holder: string): boolean {
  const parts = holder.split(':');
  if (parts.length < 3) return false;
  const pid = Number(parts[parts.length - 2]);
  const host = parts.slice(0, -2).join(':');
  if (host !== os.hostname() || !Number.isInteger(pid) || pid <= 0 || pid === process.pid) return false;
  try {
    process.kill(pid, 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
}
