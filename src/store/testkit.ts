/**
 * The store's insides, for tests and benchmarks only (lint refuses an import of this file from production code):
 * tests sometimes need to corrupt, inspect or reset rows no repository would touch.
 */
import type { Kysely } from 'kysely';
import type { Database } from './schema.ts';
import type { RawHandle } from './open.ts';
import type { Dialect } from './dialect.ts';
import type { Store } from './store.ts';

export function storeInternals(store: Store): { db: Kysely<Database>; raw: RawHandle; dialect: Dialect } {
  // Element access is TypeScript's deliberate way past `private`; this file is the one place that uses it.
  return { db: store['db'], raw: store['raw'], dialect: store['dialect'] };
}
