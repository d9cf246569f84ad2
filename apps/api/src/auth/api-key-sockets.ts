import { randomUUID } from "node:crypto";
import { apiKeySocket, type Database } from "@panel/db";
import { and, count, eq, gt, lt, sql } from "drizzle-orm";
import { anyOf } from "./credentials.ts";

/** First half of the advisory lock key that serialises claims of one API key (`"keys"`). */
const LOCK_CLASS = 0x6b657973;

export type ApiKeySocketsOptions = {
  db: Database;
  /** This API process; its rows are the only ones it refreshes or deletes on shutdown. */
  instanceId: string;
  /** Concurrent sockets per key across all instances; 0 turns the cap (and the bookkeeping) off. */
  maxPerKey: number;
  /** A row not refreshed for this long belongs to a dead instance and no longer counts. */
  staleMs: number;
};

/**
 * The per-API-key socket cap, shared by every instance on one database through the
 * `api_key_socket` table: a row per open key socket, refreshed each sync tick, deleted on close.
 * The only in-process state is which of those rows are this process's own sockets.
 */
export class ApiKeySockets<Socket extends object = object> {
  private readonly mine = new Map<Socket, string>();

  constructor(private readonly options: ApiKeySocketsOptions) {}

  get enabled() {
    return this.options.maxPerKey > 0;
  }

  get size() {
    return this.mine.size;
  }

  private freshSince() {
    return sql`now() - ${this.options.staleMs}::int * interval '1 millisecond'`;
  }

  /**
   * Records the socket unless the key already holds `maxPerKey` fresh sockets. Claims of one key
   * are serialised by a transaction-scoped advisory lock, so two racing connections (on any
   * instances) cannot both take the last slot.
   */
  async claim(socket: Socket, apiKeyId: string): Promise<boolean> {
    if (!this.enabled) return true;
    const { instanceId, maxPerKey } = this.options;
    const socketId = randomUUID();
    const claimed = await this.options.db.transaction(async (tx) => {
      await tx.execute(sql`select pg_advisory_xact_lock(${LOCK_CLASS}::int, hashtext(${apiKeyId}))`);
      const [held] = await tx
        .select({ n: count() })
        .from(apiKeySocket)
        .where(and(eq(apiKeySocket.apiKeyId, apiKeyId), gt(apiKeySocket.lastSeenAt, this.freshSince())));
      if ((held?.n ?? 0) >= maxPerKey) return false;
      await tx.insert(apiKeySocket).values({ socketId, apiKeyId, instanceId });
      return true;
    });
    if (claimed) this.mine.set(socket, socketId);
    return claimed;
  }

  /** The socket closed: its slot is free at once (a failed delete just goes stale). */
  async release(socket: Socket) {
    const socketId = this.mine.get(socket);
    if (!socketId) return;
    this.mine.delete(socket);
    await this.options.db.delete(apiKeySocket).where(eq(apiKeySocket.socketId, socketId));
  }

  /** Once per sync tick, one statement: this process's open key sockets are still alive. */
  async refresh() {
    if (this.mine.size === 0) return;
    await this.options.db
      .update(apiKeySocket)
      .set({ lastSeenAt: sql`now()` })
      .where(anyOf(apiKeySocket.socketId, [...this.mine.values()]));
  }

  /** On start: rows of instances that died without cleaning up. */
  async deleteStale() {
    await this.options.db.delete(apiKeySocket).where(lt(apiKeySocket.lastSeenAt, this.freshSince()));
  }

  /** On shutdown: all of this instance's rows, in one statement. */
  async releaseAll() {
    this.mine.clear();
    await this.options.db.delete(apiKeySocket).where(eq(apiKeySocket.instanceId, this.options.instanceId));
  }
}
