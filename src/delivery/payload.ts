/** The payload of a delivery or flush job, decoded in one place (the engine and the dead-letter views). */
import type { JobRow } from '../store/jobs.ts';
import type { DeliverPayload, FlushPayload } from './ingest.ts';

/** A deliver payload carries its alert (`a`); a flush payload only the action. Null when unreadable. */
export function decodeJobPayload(job: Pick<JobRow, 'payload'>): (DeliverPayload | FlushPayload) | null {
  try {
    const p = JSON.parse(job.payload) as DeliverPayload | FlushPayload;
    return p && typeof p === 'object' && typeof p.g === 'string' && typeof p.r === 'string' ? p : null;
  } catch {
    return null;
  }
}

export function isDeliverPayload(p: DeliverPayload | FlushPayload | null): p is DeliverPayload {
  return !!p && typeof (p as DeliverPayload).a === 'string';
}
