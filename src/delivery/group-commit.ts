/**
 * Group commit: concurrent requests hand their rows to one batch; the batch is written in one
 * transaction (one fsync) when it holds `maxItems` items or `maxDelayMs` after its first item, and each
 * request's promise settles only after that transaction committed. One batch commits at a time; items
 * that arrive meanwhile form the next batch, so under load batches grow and the fsync cost per alert falls.
 */
export interface GroupCommitOptions {
  maxItems: number;
  /**
   * How long the first item of an idle committer waits for company. 0 = only for what arrives in the same
   * event-loop turn: while a transaction is being written, the next batch forms anyway.
   */
  maxDelayMs: number;
  /**
   * Batches handed to `write` before the previous ones finished (default 1). Only for a writer that
   * applies them in order (the SQLite writer thread): the next batch then waits in its queue instead of
   * for the main thread's round trip.
   */
  pipeline?: number;
}

export const defaultGroupCommit: GroupCommitOptions = { maxItems: 512, maxDelayMs: 0 };

interface Pending<T, R> {
  item: T;
  resolve: (r: R) => void;
  reject: (e: unknown) => void;
}

export class GroupCommitter<T, R> {
  /** Batches committed and items in them (the average batch size shows how well commits are shared). */
  readonly stats = { batches: 0, items: 0, writeMs: 0 };
  private queue: Pending<T, R>[] = [];
  /** Cancels the scheduled kick, when one is scheduled. */
  private timer: (() => void) | null = null;
  private writing = 0;
  private readonly inFlight = new Set<Promise<void>>();
  private closed = false;

  constructor(
    private readonly write: (items: T[]) => Promise<R[]>,
    private readonly options: GroupCommitOptions = defaultGroupCommit,
    /** Called after each committed batch (wakes the delivery workers). */
    private readonly afterCommit: (items: T[], results: R[]) => void = () => {},
  ) {}

  submit(item: T): Promise<R> {
    if (this.closed) return Promise.reject(new Error('the connector is shutting down'));
    return new Promise<R>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      if (this.queue.length >= this.options.maxItems) this.kick();
      else if (!this.timer && this.writing === 0) this.schedule(this.options.maxDelayMs);
    });
  }

  /** Writes what is queued and waits for every batch in flight. */
  async close(): Promise<void> {
    this.closed = true;
    while (this.queue.length || this.writing) {
      this.kick();
      await Promise.race(this.inFlight);
    }
  }

  private schedule(delayMs: number): void {
    if (delayMs > 0) {
      const t = setTimeout(() => this.kick(), delayMs);
      this.timer = () => clearTimeout(t);
    } else {
      const t = setImmediate(() => this.kick());
      this.timer = () => clearImmediate(t);
    }
  }

  private kick(): void {
    if (this.timer) {
      this.timer();
      this.timer = null;
    }
    if (this.writing >= (this.options.pipeline ?? 1) || this.queue.length === 0) return;
    const batch = this.queue.splice(0, this.options.maxItems);
    this.writing += 1;
    const done = (async () => {
      try {
        const items = batch.map((p) => p.item);
        const started = performance.now();
        const results = await this.write(items);
        this.stats.batches += 1;
        this.stats.items += items.length;
        this.stats.writeMs += performance.now() - started;
        batch.forEach((p, i) => p.resolve(results[i]));
        try {
          this.afterCommit(items, results);
        } catch {
          // a wake-up failing must not fail requests that are already durable
        }
      } catch (err) {
        for (const p of batch) p.reject(err);
      } finally {
        this.writing -= 1;
        // What arrived while this batch was being written goes next, without waiting for another timer.
        if (this.queue.length && !this.timer) this.schedule(0);
      }
    })();
    this.inFlight.add(done);
    void done.finally(() => this.inFlight.delete(done));
    // With room in the pipeline, what is already queued need not wait for this batch.
    if (this.queue.length && this.writing < (this.options.pipeline ?? 1) && !this.timer) this.schedule(0);
  }
}
