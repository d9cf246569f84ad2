import { type Database, signInFailure } from "@panel/db";
import { lt, sql } from "drizzle-orm";
import { anyOf } from "./credentials.ts";

export type SignInLimits = {
  windowMs: number;
  /** failures one client address may make against one account per window */
  perAddress: number;
  /** failures against one account from all addresses per window */
  perAccount: number;
};

const PRUNE_EVERY_MS = 60_000;

/**
 * Limits password guesses per account, shared by every instance through the database. One
 * address is cut off after `perAddress` failures on an account and its refused attempts are not
 * counted, so it can add at most that many to the account's total: locking an account out
 * (`perAccount`) takes many addresses, and one address never locks out another.
 */
export class SignInThrottle {
  private lastPrune = 0;

  constructor(
    private readonly db: Database,
    private readonly limits: SignInLimits,
  ) {}

  /** Seconds until this account may be tried again from this address; 0 when it may now. */
  async retryAfter(email: string, address: string | null): Promise<number> {
    const keys = keysFor(email, address);
    const rows = await this.db
      .select()
      .from(signInFailure)
      .where(anyOf(signInFailure.key, [keys.account, keys.pair]));
    const now = Date.now();
    let wait = 0;
    for (const row of rows) {
      const limit = row.key === keys.pair ? this.limits.perAddress : this.limits.perAccount;
      const endsAt = row.windowStartedAt.getTime() + this.limits.windowMs;
      if (row.failures >= limit && endsAt > now) wait = Math.max(wait, Math.ceil((endsAt - now) / 1000));
    }
    return wait;
  }

  async recordFailure(email: string, address: string | null) {
    const { account, pair } = keysFor(email, address);
    const now = new Date();
    // a raw Date in `sql` is not serialised by postgres.js: pass the cutoff as text
    const cutoff = new Date(now.getTime() - this.limits.windowMs).toISOString();
    const windowOver = sql`${signInFailure.windowStartedAt} <= ${cutoff}::timestamptz`;
    await this.db
      .insert(signInFailure)
      .values([account, pair].map((key) => ({ key, failures: 1, windowStartedAt: now })))
      .onConflictDoUpdate({
        target: signInFailure.key,
        set: {
          failures: sql`case when ${windowOver} then 1 else ${signInFailure.failures} + 1 end`,
          windowStartedAt: sql`case when ${windowOver} then excluded.window_started_at else ${signInFailure.windowStartedAt} end`,
        },
      });
    await this.prune(now);
  }

  /** A correct password clears this address's failures on the account (not other addresses'). */
  async recordSuccess(email: string, address: string | null) {
    await this.db.delete(signInFailure).where(anyOf(signInFailure.key, [keysFor(email, address).pair]));
  }

  private async prune(now: Date) {
    if (now.getTime() - this.lastPrune < PRUNE_EVERY_MS) return;
    this.lastPrune = now.getTime();
    await this.db
      .delete(signInFailure)
      .where(lt(signInFailure.windowStartedAt, new Date(now.getTime() - this.limits.windowMs)));
  }
}

function keysFor(email: string, address: string | null) {
  const account = `a:${email.trim().toLowerCase()}`;
  return { account, pair: `${account}|${address ?? "unknown"}` };
}
