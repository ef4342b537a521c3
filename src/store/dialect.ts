/**
 * The two databases the store runs on, and everything that differs between them for the store's own SQL, in
 * one strategy object per database. (The KQL compiler's SQL generation has its own strategies in
 * src/workspace/kql/dialect.ts, keyed by the same name.) Code paths that differ in kind — the SQLite writer
 * thread, prepared better-sqlite3 statements — branch on the raw driver handle (`RawHandle`) instead.
 */
import type { KqlColumnType } from '../workspace/tables.ts';

export type Dialect = 'sqlite' | 'postgres';

export interface StoreDialect {
  readonly name: Dialect;
  /** Column type of an auto-increment primary key. */
  readonly autoIncrementKey: string;
  /** Suffix of a table keyed by its primary key only (SQLite's WITHOUT ROWID). */
  readonly clusteredByKey: string;
  /** Row lock for SELECT … inside a transaction (PostgreSQL; SQLite transactions already hold the write lock). */
  readonly forUpdate: string;
  /** Row lock that passes over rows other transactions hold: several processes claim from one queue. */
  forUpdateSkipLocked(tableAlias: string): string;
  /** Serialises migrations of processes starting together (null: the database file lock does). */
  readonly migrationLock: string | null;
  /** Main-thread writes wait for the ingest writer thread's turn (SQLite's one writer). */
  readonly serialisesWrites: boolean;
  /** Alert batches in flight to the database at once. */
  readonly acceptPipelineDepth: number;
  /** Write transactions of the main thread worth running at once (disjoint rows; SQLite has one writer). */
  readonly concurrentWriteTransactions: number;
  /** Bind-parameter placeholder, 1-based. */
  placeholder(index: number): string;
  /** SQL column type of a workspace column type. */
  columnType(type: KqlColumnType): string;
  /** A boolean as the driver binds it. */
  bool(value: boolean): boolean | number;
  /** A bigint as the driver binds it. */
  bigint(value: bigint): bigint | string;
}

export const sqliteDialect: StoreDialect = {
  name: 'sqlite',
  autoIncrementKey: 'INTEGER PRIMARY KEY AUTOINCREMENT',
  clusteredByKey: ' WITHOUT ROWID',
  forUpdate: '',
  forUpdateSkipLocked: () => '',
  migrationLock: null,
  serialisesWrites: true,
  // A writer thread commits one batch while the next one forms.
  acceptPipelineDepth: 2,
  concurrentWriteTransactions: 1,
  placeholder: () => '?',
  columnType: (type) =>
    ({ string: "TEXT NOT NULL DEFAULT ''", datetime: 'INTEGER', long: 'INTEGER', int: 'INTEGER', bool: 'INTEGER', real: 'REAL', dynamic: 'TEXT' })[type],
  bool: (value) => (value ? 1 : 0),
  bigint: (value) => value,
};

export const postgresDialect: StoreDialect = {
  name: 'postgres',
  autoIncrementKey: 'BIGSERIAL PRIMARY KEY',
  clusteredByKey: '',
  forUpdate: 'FOR UPDATE',
  forUpdateSkipLocked: (tableAlias) => `FOR UPDATE OF ${tableAlias} SKIP LOCKED`,
  migrationLock: 'SELECT pg_advisory_xact_lock(727274)',
  serialisesWrites: false,
  // One at a time: job ids give the order of a key's alerts, and batches committing side by side could
  // interleave their ids.
  acceptPipelineDepth: 1,
  // Each statement is a network round trip: a batch commits while the next ones form.
  concurrentWriteTransactions: 4,
  placeholder: (index) => `$${index}`,
  columnType: (type) =>
    ({ string: "TEXT NOT NULL DEFAULT ''", datetime: 'BIGINT', long: 'BIGINT', int: 'INTEGER', bool: 'BOOLEAN', real: 'DOUBLE PRECISION', dynamic: 'TEXT' })[
      type
    ],
  bool: (value) => value,
  bigint: (value) => value.toString(),
};

export function storeDialect(name: Dialect): StoreDialect {
  return name === 'sqlite' ? sqliteDialect : postgresDialect;
}
