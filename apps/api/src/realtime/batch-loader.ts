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
   * A fetch still unsettled after this long fails its batch and frees its slot, so one hung
   * query (a lock wait, a half-open connection) cannot stall every later caller.
   */
  timeoutMs?: number;
  /**
   * Whether every caller asking for the same key in one batch gets the value (reads), or only
   * the first one (redeeming something single-use: the others get undefined). Across batches
   * the fetch itself must consume the key: a key asked for again while its batch is in flight
   * is fetched again in the next one.
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
  private readonly timeoutMs: number;
  private readonly shareDuplicates: boolean;

  constructor(
    private readonly fetch: (keys: string[]) => Promise<Map<string, V>>,
    options: BatchLoaderOptions = {},
  ) {
    this.maxBatch = atLeastOne("maxBatch", options.maxBatch ?? 1000);
    this.maxInFlight = atLeastOne("maxInFlight", options.maxInFlight ?? 2);
    this.timeoutMs = atLeastOne("timeoutMs", options.timeoutMs ?? 10_000);
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

  /**
   * A batch that fails for any reason but a timeout is retried once, each key alone (all at
   * once, under one more timeout), so a key that makes the query fail fails only its own
   * callers. A hung database is not asked again: that would only double the wait.
   */
  private async run(batch: Map<string, Waiter<V>[]>) {
    try {
      this.settle(batch, await this.fetchWithin([...batch.keys()]));
    } catch (error) {
      if (batch.size === 1 || error instanceof BatchTimeout) return this.rejectAll(batch, error);
      await this.retryAlone(batch);
    }
  }

  private async retryAlone(batch: Map<string, Waiter<V>[]>) {
    const deadline = timeoutAfter(this.timeoutMs);
    try {
      await Promise.all(
        [...batch].map(async ([key, waiters]) => {
          const one = new Map([[key, waiters]]);
          try {
            this.settle(one, await Promise.race([this.fetch([key]), deadline.promise]));
          } catch (error) {
            this.rejectAll(one, error);
          }
        }),
      );
    } finally {
      deadline.clear();
    }
  }

  private async fetchWithin(keys: string[]): Promise<Map<string, V>> {
    const deadline = timeoutAfter(this.timeoutMs);
    try {
      return await Promise.race([this.fetch(keys), deadline.promise]);
    } finally {
      deadline.clear();
    }
  }

  private settle(batch: Map<string, Waiter<V>[]>, found: Map<string, V>) {
    for (const [key, [first, ...others]] of batch) {
      first?.resolve(found.get(key));
      for (const w of others) w.resolve(this.shareDuplicates ? found.get(key) : undefined);
    }
  }

  private rejectAll(batch: Map<string, Waiter<V>[]>, error: unknown) {
    for (const waiters of batch.values()) for (const w of waiters) w.reject(error);
  }
}

class BatchTimeout extends Error {}

function timeoutAfter(ms: number) {
  let timer: NodeJS.Timeout | undefined;
  const promise = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new BatchTimeout(`batch fetch timed out after ${ms} ms`)), ms);
  });
  promise.catch(() => {}); // a deadline nobody raced against any more must not be "unhandled"
  return { promise, clear: () => clearTimeout(timer) };
}

function atLeastOne(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1)
    throw new RangeError(`BatchLoader ${name} must be an integer >= 1`);
  return value;
}
