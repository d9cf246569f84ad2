import type { Database } from "@panel/db";
import { WS_CLOSE } from "@panel/protocol";
import { WebSocket } from "ws";
import { checkCredentials } from "../auth/credentials.ts";
import { deleteExpiredTickets } from "../auth/tickets.ts";
import type { Config } from "../env.ts";
import type { Logger } from "../logger.ts";
import { canSee, loadServerRows, type ServerRow } from "../servers/snapshots.ts";
import { type FanoutMode, FanoutSelector, type FanoutStats } from "./fanout.ts";
import type { Hub } from "./hub.ts";
import { publishHubStats } from "./instance-stats.ts";
import { TickProbe } from "./tick-metrics.ts";

export type TickReport = {
  servers: number;
  frames: number;
  revoked: number;
  skippedSockets: number;
  queryMs: number;
  fanoutMs: number;
  fanout: FanoutMode;
};

/** Ticks a slow reader may be skipped in a row before it is closed with 1013. */
const MAX_SLOW_TICKS = 3;
const TICKET_CLEANUP_MS = 60_000;

/**
 * Every period: one batched credential check for all sockets, then ONE query for every
 * subscribed server of the process, each snapshot serialised once and written to each
 * socket still allowed to see it.
 */
export class SyncLoop {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<TickReport | undefined> | undefined;
  private lastTicketCleanup = 0;
  private fanouts: FanoutSelector | undefined;

  constructor(
    private readonly hub: Hub,
    private readonly db: Database,
    private readonly config: Config["realtime"],
    private readonly logger: Logger,
    /** Marks this instance's API-key sockets alive (the per-key cap's presence rows). */
    private readonly presence?: { refresh(): Promise<void> },
  ) {}

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
    try {
      await this.dropRevokedCredentials();
      await this.presence?.refresh();
      const report = await this.pushSnapshots();
      await publishHubStats(this.db, this.hub);
      await this.cleanupTickets();
      return report;
    } catch (err) {
      // The database is down or slow: keep every socket, try again next period.
      this.logger.warn({ err }, "sync tick skipped");
      return undefined;
    }
  }

  private async dropRevokedCredentials() {
    const groups = [...this.hub.credentialGroups()];
    if (groups.length === 0) return;
    const live = await checkCredentials(
      this.db,
      groups.map(([, g]) => g.credential),
    );
    for (const [key, group] of groups) {
      const status = live.get(key);
      for (const conn of [...group.connections]) {
        if (!status) this.hub.revokeAuth(conn);
        else if (conn.principal) conn.principal.isAdmin = status.isAdmin;
      }
    }
  }

  private async pushSnapshots(): Promise<TickReport> {
    const ids = [...this.hub.subscribers.keys()];
    const started = performance.now();
    const rows = await loadServerRows(this.db, ids);
    const queried = performance.now();
    const byId = new Map<string, ServerRow>();
    for (const row of rows) byId.set(row.id, row);

    this.fanouts ??= new FanoutSelector(this.config.fanout ?? ["fast"]);
    const fanout = this.fanouts.next();
    const probe = this.config.tickMetrics ? new TickProbe() : undefined;
    const skippedSockets = this.markSlowReaders();
    let frames = 0;
    let revoked = 0;
    let stats: FanoutStats;
    try {
      for (const serverId of ids) {
        const subscribers = this.hub.subscribers.get(serverId);
        if (!subscribers) continue;
        const row = byId.get(serverId);
        let snapshot: unknown;
        for (const conn of [...subscribers]) {
          const principal = conn.principal;
          if (!row || !principal || !canSee(row, principal.userId, principal.isAdmin)) {
            this.hub.revokeAccess(conn, serverId);
            revoked++;
            continue;
          }
          if (conn.skipThisTick) continue;
          snapshot ??= fanout.prepare(row);
          fanout.send(conn, snapshot);
          frames++;
        }
      }
    } finally {
      // Every queued frame goes out even if the loop threw (sockets are never left corked).
      stats = fanout.flush();
    }
    const done = performance.now();
    const report: TickReport = {
      servers: ids.length,
      frames,
      revoked,
      skippedSockets,
      queryMs: queried - started,
      fanoutMs: done - queried,
      fanout: fanout.mode,
    };
    if (probe) {
      this.logger.info(
        { ...report, ...stats, ...probe.finish(started, queried, done, this.hub) },
        "sync tick",
      );
    } else {
      this.logger.debug(report, "sync tick");
    }
    return report;
  }

  /** A socket whose send buffer is over the limit skips this tick; one that stays over is closed. */
  private markSlowReaders(): number {
    let skipped = 0;
    for (const conn of this.hub.connections) {
      const slow =
        conn.socket.readyState !== WebSocket.OPEN ||
        conn.socket.bufferedAmount > this.config.maxBufferedBytes;
      conn.skipThisTick = slow;
      if (!slow) {
        conn.slowTicks = 0;
        continue;
      }
      skipped++;
      if (++conn.slowTicks >= MAX_SLOW_TICKS)
        this.hub.close(conn, WS_CLOSE.tryAgainLater, "Send buffer full");
    }
    return skipped;
  }

  private async cleanupTickets() {
    const now = Date.now();
    if (now - this.lastTicketCleanup < TICKET_CLEANUP_MS) return;
    this.lastTicketCleanup = now;
    await deleteExpiredTickets(this.db);
  }
}
