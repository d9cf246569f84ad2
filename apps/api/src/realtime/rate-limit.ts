import type { Connection } from "./connection.ts";

export type RateLimit = { burst: number; perSecond: number };

/** A token bucket's state. A Connection is one (its inbound messages). */
export type TokenBucket = { tokens: number; refilledAt: number };

function refill(bucket: TokenBucket, limit: RateLimit, now: number) {
  const refilled = ((now - bucket.refilledAt) / 1000) * limit.perSecond;
  bucket.tokens = Math.min(limit.burst, bucket.tokens + refilled);
  bucket.refilledAt = now;
}

function take(bucket: TokenBucket): boolean {
  if (bucket.tokens < 1) return false;
  bucket.tokens -= 1;
  return true;
}

/** A socket's inbound messages: takes one token if there is one. */
export function takeToken(conn: Connection, limit: RateLimit, now: number): boolean {
  refill(conn, limit, now);
  if (conn.tokens >= limit.burst) conn.strikes = 0; // calmed down: earlier strikes are forgiven
  return take(conn);
}

/** Keys kept before the oldest bucket is dropped (which only hands that key a fresh burst). */
const DEFAULT_MAX_KEYS = 100_000;

/**
 * One token bucket per key (e.g. per credential), in bounded memory: a full bucket behaves
 * exactly like a missing one, so full buckets are dropped on a sweep every refill period, and
 * past `maxKeys` the oldest bucket goes.
 */
export class KeyedRateLimit {
  private readonly buckets = new Map<string, TokenBucket>();
  private readonly sweepEveryMs: number;
  private nextSweepAt = 0;

  constructor(
    private readonly limit: RateLimit,
    private readonly maxKeys = DEFAULT_MAX_KEYS,
  ) {
    this.sweepEveryMs = Math.max(1000, (limit.burst / limit.perSecond) * 1000);
  }

  /** Takes a token for `key`: 0 when there was one, else the whole seconds until there is (Retry-After). */
  take(key: string, now: number): number {
    this.sweep(now);
    let bucket = this.buckets.get(key);
    if (!bucket) {
      if (this.buckets.size >= this.maxKeys) this.dropOldest();
      bucket = { tokens: this.limit.burst, refilledAt: now };
      this.buckets.set(key, bucket);
    }
    refill(bucket, this.limit, now);
    if (take(bucket)) return 0;
    return Math.max(1, Math.ceil((1 - bucket.tokens) / this.limit.perSecond));
  }

  get size() {
    return this.buckets.size;
  }

  private sweep(now: number) {
    if (now < this.nextSweepAt) return;
    this.nextSweepAt = now + this.sweepEveryMs;
    for (const [key, bucket] of this.buckets) {
      refill(bucket, this.limit, now);
      if (bucket.tokens >= this.limit.burst) this.buckets.delete(key);
    }
  }

  private dropOldest() {
    const oldest = this.buckets.keys().next();
    if (!oldest.done) this.buckets.delete(oldest.value);
  }
}
