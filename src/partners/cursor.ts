/**
 * Paging cursors of `listChangedSince`: whatever a client needs to resume, carried as opaque base64url JSON
 * and checked when it comes back, so a cursor from another scope or another client is refused, not misread.
 */
import { PartnerError, type SyncScope } from './partner.ts';

export interface CursorBase {
  v: 1;
  scope: SyncScope;
}

export function encodeCursor<C extends CursorBase>(cursor: C): string {
  return Buffer.from(JSON.stringify(cursor), 'utf8').toString('base64url');
}

/** The cursor in `text`, when it is version 1 for `scope` and `isWellFormed` accepts the rest of it. */
export function decodeCursor<C extends CursorBase>(scope: SyncScope, text: string, isWellFormed: (c: Partial<C>) => boolean): C {
  let c: Partial<C> | undefined;
  try {
    c = JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) as Partial<C>;
  } catch {
    c = undefined;
  }
  if (!c || typeof c !== 'object' || c.v !== 1 || c.scope !== scope || !isWellFormed(c)) {
    throw new PartnerError('invalid', `the paging cursor is not one this client issued for ${scope}`);
  }
  return c as C;
}
