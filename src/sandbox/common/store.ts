/**
 * What every partner emulator's own SQLite store shares: the database (`<dataDir>/<file>`, private like the
 * connector's own files, or in memory), cached prepared statements, a key/value meta table, bulk loading, and
 * opening with the deterministic seed written once (`openSeededStore`).
 */
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { openPrivateSqlite } from '../../store/open.ts';

export abstract class SandboxSqlite {
  readonly db: Database.Database;
  /** `<dataDir>/<fileName>`; undefined in memory. */
  readonly file: string | undefined;
  protected readonly stmts = new Map<string, Database.Statement>();

  /** `metaTable`: the emulator's key/value table (created by its `createTables`). */
  constructor(
    dataDir: string | undefined,
    fileName: string,
    private readonly metaTable: string,
  ) {
    if (dataDir) {
      this.file = join(dataDir, fileName);
      this.db = openPrivateSqlite(this.file);
      this.db.pragma('synchronous = NORMAL');
    } else {
      this.db = new Database(':memory:');
    }
  }

  abstract createTables(): void;
  /** Indexes built after the bulk seed. */
  abstract createIndexes(): void;

  close(): void {
    this.db.close();
  }

  /** A cached prepared statement, always handed out in the default (object rows) mode. */
  stmt(sql: string): Database.Statement {
    let s = this.stmts.get(sql);
    if (!s) {
      if (this.stmts.size > 2000) this.stmts.clear();
      s = this.db.prepare(sql);
      this.stmts.set(sql, s);
    } else if (s.reader) {
      s.pluck(false);
      s.raw(false);
    }
    return s;
  }

  getMeta(key: string): string | undefined {
    return (this.stmt(`SELECT value FROM ${this.metaTable} WHERE key = ?`).get(key) as { value: string } | undefined)?.value;
  }

  setMeta(key: string, value: string): void {
    this.stmt(`INSERT INTO ${this.metaTable} (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value`).run(key, value);
  }

  /** Runs `fn` in one transaction with journaling relaxed (in memory: no rollback journal; file: no fsync). */
  bulk(fn: () => void): void {
    const memory = !this.file;
    if (memory) this.db.pragma('journal_mode = OFF');
    else this.db.pragma('synchronous = OFF');
    try {
      this.db.transaction(fn)();
    } finally {
      if (memory) this.db.pragma('journal_mode = MEMORY');
      else this.db.pragma('synchronous = NORMAL');
    }
  }
}

/** The start options every emulator's seed takes. */
export interface SeedStartOptions<V> {
  seed?: number;
  days?: number;
  /** Anchor time of the seed data (default: now). Same seed + same anchor → identical data. */
  now?: Date | string | number;
  /** How many records of each kind (the emulator's defaults for those left out). */
  volume?: Partial<V>;
}

/** The seed options: seed number, days of history and anchor time (defaults 1, 120 days, now), then the volume. */
export function seedOptions<V extends Record<string, number>>(opts: SeedStartOptions<V>, defaultVolume: V): { seed: number; days: number; nowMs: number } & V {
  const volume = {} as Record<string, number>;
  for (const [k, v] of Object.entries(defaultVolume)) volume[k] = opts.volume?.[k] ?? v;
  return { seed: opts.seed ?? 1, days: opts.days ?? 120, nowMs: opts.now === undefined ? Date.now() : new Date(opts.now).getTime(), ...(volume as V) };
}

/**
 * How the seed is written. The "seeded" markers are written last — in the same transaction as the data where
 * there is one, so that a crash never leaves a file that looks seeded but is not; a file without the markers is
 * seeded again from scratch.
 * - `bulk`: one transaction with journaling relaxed; `transaction`: one plain transaction;
 * - `batches`: the seed commits small transactions of its own (and may yield between them).
 */
export type SeedWrites<S, O> =
  { writes: 'bulk' | 'transaction'; seed(store: S, options: O): void } | { writes: 'batches'; seed(store: S, options: O): Promise<void> };

export type SeedPlan<S, O> = SeedWrites<S, O> & {
  /** Named in the refusal of a data file made by another version ("the SCSM sandbox"). */
  product: string;
  /** Bumped whenever the stored schema changes; an older data file is refused rather than misread. */
  schemaVersion: string;
  /** The seed options (kept in the meta table). */
  options: O;
};

/** Creates the tables, seeds a new store once, refuses a file of another schema version, then builds the indexes. */
export async function openSeededStore<S extends SandboxSqlite, O>(store: S, plan: SeedPlan<S, O>): Promise<S> {
  try {
    store.createTables();
    const version = store.getMeta('schema_version');
    if (store.getMeta('seeded_at') && version !== plan.schemaVersion) {
      throw new Error(`${store.file} was made by another version of the ${plan.product} sandbox (schema ${version ?? '?'}); delete it to reseed`);
    }
    if (!store.getMeta('seeded_at')) {
      const markSeeded = () => {
        store.setMeta('seed', JSON.stringify(plan.options));
        store.setMeta('schema_version', plan.schemaVersion);
        store.setMeta('seeded_at', new Date().toISOString());
      };
      if (plan.writes === 'batches') {
        await plan.seed(store, plan.options);
        markSeeded();
      } else {
        const seed = plan.seed;
        const write = () => {
          seed(store, plan.options);
          markSeeded();
        };
        if (plan.writes === 'bulk') store.bulk(write);
        else store.db.transaction(write)();
      }
    }
    store.createIndexes();
    return store;
  } catch (e) {
    store.close();
    throw e;
  }
}
