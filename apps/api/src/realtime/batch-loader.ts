type Waiter<V> = { resolve: (value: V | undefined) => void; reject: (error: unknown) => void };

export type BatchLoaderOptions = {
  maxBatch?: number;
  /**
   * Fetches running at once. Keys asked for while they run wait for the next batch, so the
   * busier the loader, the bigger its batches: a connection storm costs a few large queries
   * instead of one small query per event-loop turn.
   */
  maxInFlight?: number;
  /**
   * Whether every caller asking for the same key in one batch gets the value (reads), or only
   * the first one (redeeming something single-use: the others get undefined).
   */
  shareDuplicates?: boolean;
};

/**
 * Collects the keys asked for during one turn of the event loop (or while earlier fetches
 * run) and fetches them with one call, so a thousand clients subscribing (or authenticating)
 * at once cost a handful of queries, not a thousand.
 */
export class BatchLoader<V> {
  private waiting = new Map<string, Waiter<V>[]>();
  private scheduled = false;
  private inFlight = 0;
  private readonly maxBatch: number;
  private readonly maxInFlight: number;
  private readonly shareDuplicates: boolean;

  constructor(
    private readonly fetch: (keys: string[]) => Promise<Map<string, V>>,
    options: BatchLoaderOptions = {},
  ) {
    this.maxBatch = options.maxBatch ?? 1000;
    this.maxInFlight = options.maxInFlight ?? 2;
    this.shareDuplicates = options.shareDuplicates ?? true;
  }

  load(key: string): Promise<V | undefined> {
    return new Promise((resolve, reject) => {
      const waiters = this.waiting.get(key);
      if (waiters) waiters.push({ resolve, reject });
      else this.waiting.set(key, [{ resolve, reject }]);
      this.schedule();
    });
  }

  private schedule() {
    if (this.scheduled || this.waiting.size === 0 || this.inFlight >= this.maxInFlight) return;
    this.scheduled = true;
    setImmediate(() => this.flush());
  }

  private flush() {
    this.scheduled = false;
    while (this.waiting.size > 0 && this.inFlight < this.maxInFlight) {
      const batch = new Map<string, Waiter<V>[]>();
      for (const [key, waiters] of this.waiting) {
        if (batch.size === this.maxBatch) break;
        batch.set(key, waiters);
        this.waiting.delete(key);
      }
      this.inFlight++;
      void this.run(batch).finally(() => {
        this.inFlight--;
        this.schedule();
      });
    }
  }

  private async run(batch: Map<string, Waiter<V>[]>) {
    try {
      const found = await this.fetch([...batch.keys()]);
      for (const [key, [first, ...others]] of batch) {
        first?.resolve(found.get(key));
        for (const w of others) w.resolve(this.shareDuplicates ? found.get(key) : undefined);
      }
    } catch (error) {
      for (const waiters of batch.values()) for (const w of waiters) w.reject(error);
    }
  }
}
