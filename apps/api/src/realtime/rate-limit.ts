import type { Connection } from "./connection.ts";

export type RateLimit = { burst: number; perSecond: number };

/**
 * Token bucket: takes one token if there is one. A client that has calmed down (bucket full
 * again) is forgiven its earlier strikes.
 */
export function takeToken(conn: Connection, limit: RateLimit, now: number): boolean {
  const refill = ((now - conn.refilledAt) / 1000) * limit.perSecond;
  conn.tokens = Math.min(limit.burst, conn.tokens + refill);
  conn.refilledAt = now;
  if (conn.tokens >= limit.burst) conn.strikes = 0;
  if (conn.tokens < 1) return false;
  conn.tokens -= 1;
  return true;
}
