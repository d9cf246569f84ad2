import type { Connection } from "./connection.ts";

export type RateLimit = { burst: number; perSecond: number };

/**
 * Token bucket: takes one token if there is one.
 */
export function takeToken(conn: Connection, limit: RateLimit, now: number): boolean {
  const refill = ((now - conn.refilledAt) / 1000) * limit.perSecond;
  conn.tokens = Math.min(limit.burst, conn.tokens + refill);
  conn.refilledAt = now;
  if (conn.tokens >= limit.burst) conn.strikes = 0; // calmed down: earlier strikes are forgiven
  if (conn.tokens < 1) return false;
  conn.tokens -= 1;
  return true;
}
