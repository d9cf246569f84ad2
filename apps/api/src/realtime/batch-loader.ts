type Waiter<V> = { resolve: (value: V | undefined) => void; reject: (error: unknown) => void };

export type BatchLoaderOptions = {
  maxBatch?: number;
  /**
   * Whether every caller asking for the same key in one batch gets the value (reads), or only
   * the first one (redeeming something single-use: the others get undefined).
   */
  shareDuplicates?: boolean;
};

/**
 * Collects the keys asked for during one turn of the event loop and fetches them with one
 * call, so a thousand clients subscribing (or authenticating) at once cost one query, not a
 * thousand.
 */
export class BatchLoader<V> {
  private waiting = new Map<string, Waiter<V>[]>();
  private scheduled = false;
  private readonly maxBatch: number;
  private readonly shareDuplicates: boolean;

  constructor(
    private readonly fetch: (keys: string[]) => Promise<Map<string, V>>,
    options: BatchLoaderOptions = {},
  ) {
    this.maxBatch = options.maxBatch ?? 1000;
    this.shareDuplicates = options.shareDuplicates ?? true;
  }

  load(key: string): Promise<V | undefined> {
    return new Promise((resolve, reject) => {
      const waiters = this.waiting.get(key);
      if (waiters) waiters.push({ resolve, reject });
      else this.waiting.set(key, [{ resolve, reject }]);
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  private flush() {
    this.scheduled = false;
    const batch = this.waiting;
    this.waiting = new Map();
    const keys = [...batch.keys()];
    for (let i = 0; i < keys.length; i += this.maxBatch) {
      void this.run(batch, keys.slice(i, i + this.maxBatch));
    }
  }

  private async run(batch: Map<string, Waiter<V>[]>, keys: string[]) {
    try {
      const found = await this.fetch(keys);
      for (const key of keys) {
        const [first, ...others] = batch.get(key) ?? [];
        first?.resolve(found.get(key));
        for (const w of others) w.resolve(this.shareDuplicates ? found.get(key) : undefined);
      }
    } catch (error) {
      for (const key of keys) for (const w of batch.get(key) ?? []) w.reject(error);
    }
  }
}
