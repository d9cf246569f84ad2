import type { Database } from "@panel/db";
import { WS_CLOSE, WS_CLOSE_REASONS } from "@panel/protocol";
import { DrizzleQueryError } from "drizzle-orm";
import { WebSocket } from "ws";
import { checkCredentials } from "../auth/credentials.ts";
import { deleteExpiredTickets } from "../auth/tickets.ts";
import type { Config } from "../env.ts";
import type { Logger } from "../logger.ts";
import { loadServerRows, type ServerRow, viewersOf } from "../servers/snapshots.ts";
import type { Connection } from "./connection.ts";
import { type Fanout, type FanoutStats, FastFanout, wsInternalsMissing } from "./fanout.ts";
import type { Hub } from "./hub.ts";
import { publishHubStats } from "./instance-stats.ts";

export type TickReport = {
  servers: number;
  frames: number;
  revoked: number;
  skippedSockets: number;
  queryMs: number;
  fanoutMs: number;
  /** The fan-out's name (`fast` unless a bench injected another). */
  fanout: string;
} & FanoutStats;

/** `performance.now()` readings of one tick: query sent, rows in, last frame handed over. */
export type TickTimes = { started: number; queried: number; done: number };

/** Sees each tick from outside (the bench's probes); production has none. */
export interface TickObserver {
  /** A tick starts (the credential check first). */
  tickStarting(): void;
  /** The tick's rows are in; its fan-out starts now. */
  fanoutStarting(): void;
  /** The tick's fan-out ended (a skipped tick has no report). */
  tickEnded(report: TickReport, times: TickTimes): void;
}

export type SyncLoopOptions = {
  /** The fan-out for the next tick; by default one FastFanout for the process. */
  fanout?: () => Fanout<unknown>;
  observer?: TickObserver;
};

/**
 * What a tick read for one server: its row (null: gone), who besides admins may see it as the
 * hub's numbers of users with sockets here, and its snapshot, prepared on first use.
 */
export type SnapshotSlot = { row: ServerRow | null; viewerKeys: number[]; snapshot: unknown };

/** Ticks a slow reader may be skipped in a row before it is closed with 1013. */
const MAX_SLOW_TICKS = 3;
const TICKET_CLEANUP_MS = 60_000;

/**
 * Every period: one batched credential check for all sockets, then ONE query for every
 * subscribed server of the process, each snapshot serialised at most once and written to each
 * socket still allowed to see it.
 */
export class SyncLoop {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<TickReport | undefined> | undefined;
  private lastTicketCleanup = 0;
  private readonly nextFanout: () => Fanout<unknown>;
  private readonly observer: TickObserver | undefined;

  constructor(
    private readonly hub: Hub,
    private readonly db: Database,
    private readonly config: Config["realtime"],
    private readonly logger: Logger,
    /** Marks this instance's API-key sockets alive (the per-key cap's presence rows). */
    private readonly presence?: { refresh(): Promise<void> },
    options: SyncLoopOptions = {},
  ) {
    this.nextFanout = options.fanout ?? this.productionFanout();
    this.observer = options.observer;
  }

  /** The fast fan-out, writing prebuilt frames itself if the installed ws still has what that needs. */
  private productionFanout(): () => Fanout<unknown> {
    const missing = wsInternalsMissing();
    if (missing)
      this.logger.warn(
        { missing },
        "ws lacks what the direct sync fan-out needs: every snapshot goes through ws.send",
      );
    const fanout = new FastFanout(!missing);
    return () => fanout;
  }

  start() {
    this.timer = setInterval(() => void this.tick(), this.config.syncIntervalMs);
    this.timer.unref();
  }

  async stop() {
    clearInterval(this.timer);
    await this.running;
  }

  /** Runs one tick; a tick still running (slow database) is not overlapped but awaited. */
  tick(): Promise<TickReport | undefined> {
    this.running ??= this.runTick().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async runTick(): Promise<TickReport | undefined> {
    this.observer?.tickStarting();
    try {
      await this.dropRevokedCredentials();
      await this.presence?.refresh();
      const report = await this.pushSnapshots();
      await publishHubStats(this.db, this.hub);
      await this.cleanupTickets();
      return report;
    } catch (err) {
      // The database is down or slow: keep every socket, try again next period.
      if (isDatabaseError(err)) this.logger.warn({ err }, "sync tick skipped");
      else this.logger.error({ err }, "sync tick failed");
      return undefined;
    }
  }

  private async dropRevokedCredentials() {
    const groups = [...this.hub.credentialGroups()];
    if (groups.length === 0) return;
    const live = await checkCredentials(
      this.db,
      groups.map(([, g]) => g.principal.credential),
    );
    for (const [key, group] of groups) {
      const status = live.get(key);
      if (status) group.principal.isAdmin = status.isAdmin;
      else for (const conn of [...group.connections]) this.hub.revokeAuth(conn);
    }
  }

  private async pushSnapshots(): Promise<TickReport> {
    const followed = [...this.hub.subscribers.values()];
    const started = performance.now();
    const rows = await loadServerRows(
      this.db,
      followed.map((f) => f.serverId),
    );
    const queried = performance.now();
    const byId = new Map(rows.map((row) => [row.id, row]));
    // A server first followed during the query has no slot: it waits for the next tick.
    for (const followers of followed) followers.slot = this.slotOf(byId.get(followers.serverId) ?? null);

    const fanout = this.nextFanout();
    this.observer?.fanoutStarting();
    const counts = { frames: 0, revoked: 0, skippedSockets: 0 };
    let stats: FanoutStats;
    try {
      // Socket by socket, so each socket's frames leave together while its state is hot in cache.
      for (const conn of this.hub.connections) {
        if (this.isSlowReader(conn)) counts.skippedSockets++;
        else if (conn.subscriptions.size > 0) this.pushTo(conn, fanout, counts, started);
      }
    } finally {
      // The tick's rows go whatever happens; every queued frame goes out even if the loop threw
      // (sockets are never left corked).
      for (const followers of followed) followers.slot = null;
      stats = fanout.finish();
    }
    const done = performance.now();
    const report: TickReport = {
      servers: followed.length,
      ...counts,
      queryMs: queried - started,
      fanoutMs: done - queried,
      fanout: fanout.name,
      ...stats,
    };
    this.logger.debug(report, "sync tick");
    this.observer?.tickEnded(report, { started, queried, done });
    return report;
  }

  /**
   * One socket's snapshots, as one batch; a server it may no longer see is unsubscribed instead.
   * A socket that subscribed after the query started may have been granted access after these
   * rows were read (its subscribe checked a fresher row): its revocations wait for the next tick.
   */
  private pushTo(
    conn: Connection,
    fanout: Fanout<unknown>,
    counts: { frames: number; revoked: number },
    queryStartedAt: number,
  ) {
    const principal = conn.principal;
    const mayRevoke = conn.subscribedAt < queryStartedAt;
    fanout.begin(conn);
    try {
      for (const followers of conn.subscriptions.values()) {
        const slot = followers.slot;
        if (!slot) continue;
        const row = slot.row;
        if (!row || !principal || !(principal.isAdmin || slot.viewerKeys.includes(conn.userKey))) {
          if (mayRevoke) {
            // the notice goes through ws.send: it follows the snapshots already in the batch
            fanout.flush();
            this.hub.revokeAccess(conn, followers.serverId);
            counts.revoked++;
          }
          continue;
        }
        slot.snapshot ??= fanout.prepare(row);
        fanout.send(conn, slot.snapshot);
        counts.frames++;
      }
    } finally {
      fanout.end();
    }
  }

  /** `canSee`'s rule by numbers: users with no socket here (-1) cannot match and are left out. */
  private slotOf(row: ServerRow | null): SnapshotSlot {
    const viewerKeys = row
      ? viewersOf(row)
          .map((id) => this.hub.userKeyOf(id))
          .filter((key) => key >= 0)
      : [];
    return { row, viewerKeys, snapshot: undefined };
  }

  /** A socket whose send buffer is over the limit skips this tick; one that stays over is closed. */
  private isSlowReader(conn: Connection): boolean {
    const socket = conn.socket;
    if (socket.readyState === WebSocket.OPEN && socket.bufferedAmount <= this.config.maxBufferedBytes) {
      conn.slowTicks = 0;
      return false;
    }
    if (++conn.slowTicks >= MAX_SLOW_TICKS)
      this.hub.close(conn, WS_CLOSE.tryAgainLater, WS_CLOSE_REASONS.sendBufferFull);
    return true;
  }

  private async cleanupTickets() {
    const now = Date.now();
    if (now - this.lastTicketCleanup < TICKET_CLEANUP_MS) return;
    this.lastTicketCleanup = now;
    await deleteExpiredTickets(this.db);
  }
}

/** postgres.js's own connection errors, and the socket errors under them. */
const CONNECTION_ERROR_CODES = new Set([
  "CONNECTION_CLOSED",
  "CONNECTION_ENDED",
  "CONNECTION_DESTROYED",
  "CONNECT_TIMEOUT",
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "EPIPE",
  "EHOSTUNREACH",
  "ENOTFOUND",
]);

/**
 * An error from the database or the way to it: a statement drizzle ran (it wraps whatever the
 * driver threw), an error PostgreSQL or PGlite returned, or a lost connection. Anything else a
 * tick throws is a bug.
 */
export function isDatabaseError(err: unknown): boolean {
  for (let e = err, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    if (e instanceof DrizzleQueryError) return true;
    if (e.name === "PostgresError" || e.name === "DatabaseError") return true;
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string" && CONNECTION_ERROR_CODES.has(code)) return true;
  }
  return false;
}
