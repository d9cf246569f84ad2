import { type Database, signInFailure } from "@panel/db";
import { lt, lte, type SQL, sql } from "drizzle-orm";
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
 * (`perAccount`) takes many addresses, and one address never locks out another. An attempt
 * claims its address's slot before the password is checked (`begin`), in one statement, so
 * parallel attempts cannot all pass a check made before any of them failed.
 */
export class SignInThrottle {
  private lastPrune = 0;

  constructor(
    private readonly db: Database,
    private readonly limits: SignInLimits,
  ) {}

  /**
   * Claims one attempt on this account from this address: 0 when it may go ahead (it counts as
   * a failure of this address until `recordSuccess` or `release`), else seconds to wait.
   */
  async begin(email: string, address: string | null): Promise<number> {
    const wait = await this.retryAfter(email, address);
    if (wait > 0) return wait;
    return (await this.claimAddressAttempt(keysFor(email, address).pair))
      ? 0
      : Math.max(1, await this.retryAfter(email, address));
  }

  /** Seconds until this account may be tried again from this address; 0 when it may now. */
  private async retryAfter(email: string, address: string | null): Promise<number> {
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

  /** Counts this address's slot, taken only while it is under its limit (or its window is over). */
  private async claimAddressAttempt(pair: string): Promise<boolean> {
    const now = new Date();
    const windowOver = this.windowOver(now);
    const claimed = await this.db
      .insert(signInFailure)
      .values({ key: pair, failures: 1, windowStartedAt: now })
      .onConflictDoUpdate({
        target: signInFailure.key,
        set: this.countOne(windowOver),
        setWhere: sql`${windowOver} or ${signInFailure.failures} < ${this.limits.perAddress}`,
      })
      .returning({ key: signInFailure.key });
    return claimed.length > 0;
  }

  /** A wrong password: the address's slot stays taken, and the account's total grows. */
  async recordFailure(email: string) {
    const { account } = keysFor(email, null);
    const now = new Date();
    await this.db
      .insert(signInFailure)
      .values({ key: account, failures: 1, windowStartedAt: now })
      .onConflictDoUpdate({ target: signInFailure.key, set: this.countOne(this.windowOver(now)) });
    await this.prune(now);
  }

  /** Neither right nor wrong (refused before the password was checked): the slot is given back. */
  async release(email: string, address: string | null) {
    await this.db
      .update(signInFailure)
      .set({ failures: sql`greatest(${signInFailure.failures} - 1, 0)` })
      .where(anyOf(signInFailure.key, [keysFor(email, address).pair]));
  }

  /** Through `lte`, so the column maps the Date: postgres.js refuses a bare Date parameter. */
  private windowOver(now: Date): SQL {
    return lte(signInFailure.windowStartedAt, new Date(now.getTime() - this.limits.windowMs)) as SQL;
  }

  /** One more failure in the current window, or the first of a new one. */
  private countOne(windowOver: SQL) {
    return {
      failures: sql`case when ${windowOver} then 1 else ${signInFailure.failures} + 1 end`,
      windowStartedAt: sql`case when ${windowOver} then excluded.window_started_at else ${signInFailure.windowStartedAt} end`,
    };
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
