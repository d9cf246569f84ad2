type Waiter<V> = { resolve: (value: V | undefined) => void; reject: (error: unknown) => void };

/**
 * Collects the keys asked for during one turn of the event loop and fetches them with one
 * call, so a thousand clients subscribing at once cost one query, not a thousand.
 */
export class BatchLoader<V> {
  private waiting = new Map<string, Waiter<V>[]>();
  private scheduled = false;

  constructor(
    private readonly fetch: (keys: string[]) => Promise<Map<string, V>>,
    private readonly maxBatch = 1000,
  ) {}

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
      for (const key of keys) for (const w of batch.get(key) ?? []) w.resolve(found.get(key));
    } catch (error) {
      for (const key of keys) for (const w of batch.get(key) ?? []) w.reject(error);
    }
  }
}
