import type { IncomingMessage } from "node:http";
import { STATUS_CODES } from "node:http";
import type { Duplex } from "node:stream";
import type { Database } from "@panel/db";
import {
  type ClientMessage,
  WS_CLOSE,
  WS_CLOSE_REASONS,
  WS_ERRORS,
  WS_UPGRADE_ERRORS,
} from "@panel/protocol";
import { type RawData, WebSocket, WebSocketServer } from "ws";
import type { ApiKeySockets } from "../auth/api-key-sockets.ts";
import type { Auth } from "../auth/auth.ts";
import type { Principal } from "../auth/credentials.ts";
import { resolvePrincipal } from "../auth/principal.ts";
import type { Config } from "../env.ts";
import { clientAddress } from "../http/client-address.ts";
import { isIdOf } from "../http/ids.ts";
import type { Logger } from "../logger.ts";
import { canSee, type ServerRow } from "../servers/snapshots.ts";
import type { BatchLoader } from "./batch-loader.ts";
import { attachConnection, Connection, connectionOf } from "./connection.ts";
import { encodeSnapshot } from "./frames.ts";
import type { Hub } from "./hub.ts";
import { parseClientMessage } from "./parse.ts";
import { type RateLimit, takeToken } from "./rate-limit.ts";
import { defaultMaxSockets, readOpenFileLimit, SocketCaps } from "./socket-caps.ts";

export const WS_PATH = "/api/ws";

/** Rejected messages in a row (without calming down) before the socket is closed. */
const MAX_STRIKES = 20;
const UNAVAILABLE = WS_ERRORS.unavailable;
const FULL_WARNING_EVERY_MS = 60_000;
/** Sent (as `auth_error`) when an API key already holds `WS_MAX_SOCKETS_PER_API_KEY` sockets. */
export const TOO_MANY_KEY_SOCKETS = WS_ERRORS.tooManyKeySockets;

export type GatewayDeps = {
  hub: Hub;
  db: Database;
  auth: Auth;
  config: Config;
  logger: Logger;
  serverRows: BatchLoader<ServerRow>;
  /** redeems tickets, batched: see auth/tickets.ts */
  tickets: BatchLoader<Principal>;
  /** The per-API-key socket cap, shared with the other instances through the database. */
  keySockets: ApiKeySockets<Connection>;
};

function rejectUpgrade(socket: Duplex, status: number, error: string, headers: Record<string, string> = {}) {
  const body = JSON.stringify({ error });
  const extra = Object.entries(headers).map(([name, value]) => `${name}: ${value}\r\n`);
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nConnection: close\r\n${extra.join("")}` +
      `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}

const ignore = () => {};

function upgradeAddress(req: IncomingMessage, trustProxy: boolean) {
  const forwardedFor = req.headers["x-forwarded-for"];
  const joined = Array.isArray(forwardedFor) ? forwardedFor.join(",") : forwardedFor;
  return clientAddress(req.socket.remoteAddress, joined, trustProxy);
}

/** `/api/ws`: upgrades, authentication and the client messages of docs/protocol.md. */
export class Gateway {
  private readonly wss: WebSocketServer;
  private readonly allowedOrigins: Set<string>;
  private readonly limits: Config["realtime"];
  private readonly rateLimit: RateLimit;
  private readonly caps: SocketCaps<Connection>;
  /** A full process warns at most once a minute, not once per refused upgrade. */
  private warnedFullAt = Number.NEGATIVE_INFINITY;
  private sweepTimer: NodeJS.Timeout | undefined;
  private lastHeartbeat = Date.now();

  constructor(private readonly deps: GatewayDeps) {
    this.limits = deps.config.realtime;
    this.allowedOrigins = new Set(deps.config.allowedOrigins);
    this.rateLimit = { burst: this.limits.rateBurst, perSecond: this.limits.ratePerSecond };
    this.wss = new WebSocketServer({
      noServer: true,
      clientTracking: false,
      perMessageDeflate: false,
      maxPayload: this.limits.maxPayloadBytes,
    });
    this.caps = this.createCaps();
  }

  private createCaps() {
    const openFileLimit = readOpenFileLimit();
    const maxSockets = this.limits.maxSockets ?? defaultMaxSockets(openFileLimit);
    const { maxUnauthenticatedPerAddress } = this.limits;
    this.deps.logger.info({ openFileLimit, maxSockets, maxUnauthenticatedPerAddress }, "websocket caps");
    if (openFileLimit !== null && maxSockets >= openFileLimit) {
      this.deps.logger.warn({ openFileLimit, maxSockets }, "WS_MAX_SOCKETS is not below the open-file limit");
    }
    return new SocketCaps<Connection>({ maxSockets, maxUnauthenticatedPerAddress });
  }

  socketStats() {
    return this.caps.stats();
  }

  // ---- upgrade ---------------------------------------------------------------------

  readonly handleUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on("error", ignore); // a peer resetting mid-handshake must not crash the process
    const url = new URL(req.url ?? "/", "http://localhost");
    if (url.pathname !== WS_PATH) return rejectUpgrade(socket, 404, WS_UPGRADE_ERRORS.notFound);
    const origin = req.headers.origin;
    if (origin && !this.allowedOrigins.has(origin))
      return rejectUpgrade(socket, 403, WS_UPGRADE_ERRORS.originNotAllowed);
    const address = upgradeAddress(req, this.deps.config.trustProxy);
    const refusal = this.caps.refusal(address);
    if (refusal) {
      this.reportRefusal(refusal.status, address);
      return rejectUpgrade(socket, refusal.status, refusal.error, {
        "Retry-After": String(refusal.retryAfterSeconds),
      });
    }
    // ws completes the handshake synchronously, so no other upgrade is counted in between.
    this.wss.handleUpgrade(req, socket, head, (ws) => this.accept(ws, req, url, address));
  };

  private reportRefusal(status: number, address: string | null) {
    if (status !== 503) return this.deps.logger.debug({ address }, "websocket upgrade refused: address cap");
    const now = Date.now();
    if (now - this.warnedFullAt < FULL_WARNING_EVERY_MS) return;
    this.warnedFullAt = now;
    this.deps.logger.warn(this.caps.stats(), "websocket upgrades refused: process socket cap reached");
  }

  private accept(ws: WebSocket, req: IncomingMessage, url: URL, address: string | null) {
    const conn = new Connection(ws, Date.now(), this.limits.rateBurst);
    attachConnection(ws, conn);
    this.caps.opened(conn, address);
    this.deps.hub.add(conn);
    ws.on("message", this.onSocketMessage);
    ws.on("pong", onSocketPong);
    ws.on("close", this.onSocketClose);
    ws.on("error", ignore); // protocol errors are followed by 'close'; ws picks the close code

    const token = url.searchParams.get("token");
    if (token !== null) this.enqueue(conn, () => this.authenticateWithTicket(conn, token));
    else if (req.headers.cookie) {
      const headers = new Headers({ cookie: req.headers.cookie });
      this.enqueue(conn, () => this.authenticateWithCookie(conn, headers));
    }
  }

  // One listener function per gateway, shared by every socket (no closure per socket).
  private readonly onSocketMessage = (() => {
    const gateway = this;
    return function (this: WebSocket, data: RawData) {
      const conn = connectionOf(this);
      if (conn) gateway.receive(conn, data);
    };
  })();

  private readonly onSocketClose = (() => {
    const gateway = this;
    return function (this: WebSocket) {
      const conn = connectionOf(this);
      if (!conn) return;
      gateway.caps.closed(conn);
      gateway.deps.hub.remove(conn);
      gateway.releaseKeySocket(conn);
    };
  })();

  // ---- messages --------------------------------------------------------------------

  private receive(conn: Connection, data: RawData) {
    if (conn.closed || conn.strikes >= MAX_STRIKES) return;
    const { hub } = this.deps;
    if (!takeToken(conn, this.rateLimit, Date.now())) {
      // Queued like any reply, so what was accepted before is still answered first.
      if (++conn.strikes >= MAX_STRIKES) {
        this.enqueue(conn, () => hub.close(conn, WS_CLOSE.policyViolation, WS_ERRORS.rateLimited));
      } else {
        this.enqueue(conn, () => hub.send(conn, { type: "error", error: WS_ERRORS.rateLimited }));
      }
      return;
    }
    const parsed = parseClientMessage(data);
    if (!parsed.ok) {
      this.enqueue(conn, () => hub.send(conn, { type: "error", error: parsed.error }));
      return;
    }
    this.enqueue(conn, () => this.dispatch(conn, parsed.message));
  }

  /** Replies leave in the order the messages came, even when some need the database. */
  private enqueue(conn: Connection, task: () => Promise<void> | void) {
    conn.queue = conn.queue
      .then(() => (conn.closed ? undefined : task()))
      .catch((err) => this.deps.logger.error({ err }, "websocket message handler failed"));
  }

  private async dispatch(conn: Connection, message: ClientMessage) {
    const { hub } = this.deps;
    switch (message.type) {
      case "ping":
        return hub.send(conn, { type: "pong" });
      case "auth":
        if (conn.principal) return hub.send(conn, { type: "auth_success", userId: conn.principal.userId });
        return this.authenticateWithTicket(conn, message.token);
      case "subscribe":
        return this.subscribe(conn, message.serverId);
      case "unsubscribe":
        // Idempotent and never queries: an id that cannot be subscribed is simply not subscribed.
        hub.unsubscribe(conn, message.serverId);
        return hub.send(conn, { type: "unsubscribed", serverId: message.serverId });
    }
  }

  private async subscribe(conn: Connection, serverId: string) {
    const { hub } = this.deps;
    const principal = conn.principal;
    if (!principal) return hub.send(conn, { type: "error", error: WS_ERRORS.authRequired, serverId });
    // no such server can exist: answer without a query, which this id could make fail for everyone
    if (!isIdOf("server", serverId)) return this.serverNotFound(conn, serverId);
    if (!conn.subscriptions.has(serverId) && conn.subscriptions.size >= this.limits.maxSubscriptions) {
      return hub.send(conn, { type: "error", error: WS_ERRORS.tooManySubscriptions, serverId });
    }
    let row: ServerRow | undefined;
    try {
      row = await this.deps.serverRows.load(serverId);
    } catch (err) {
      this.deps.logger.warn({ err }, "subscribe: database unavailable");
      return hub.send(conn, { type: "error", error: UNAVAILABLE, serverId });
    }
    if (conn.closed) return;
    if (!row || !canSee(row, principal.userId, principal.isAdmin)) return this.serverNotFound(conn, serverId);
    hub.subscribe(conn, serverId);
    hub.send(conn, { type: "subscribed", serverId });
    if (conn.socket.readyState === WebSocket.OPEN) conn.socket.send(encodeSnapshot(row), { binary: false });
  }

  private serverNotFound(conn: Connection, serverId: string) {
    this.deps.hub.send(conn, { type: "error", error: WS_ERRORS.serverNotFound, serverId });
  }

  // ---- authentication --------------------------------------------------------------

  private authenticateWithTicket(conn: Connection, token: string) {
    return this.authenticate(conn, async () => (await this.deps.tickets.load(token)) ?? null, true);
  }

  private authenticateWithCookie(conn: Connection, headers: Headers) {
    // An unusable cookie is not an error: the client may still authenticate with a ticket.
    return this.authenticate(conn, () => resolvePrincipal(this.deps.auth, this.deps.db, headers), false);
  }

  private async authenticate(
    conn: Connection,
    find: () => Promise<Principal | null>,
    reportFailure: boolean,
  ) {
    const { hub } = this.deps;
    let principal: Principal | null;
    let admitted: boolean;
    try {
      principal = await find();
      admitted = !!principal && !conn.closed && (await this.claimKeySocket(conn, principal));
    } catch (err) {
      // Not the client's fault: say so and let it reconnect with backoff.
      this.deps.logger.warn({ err }, "websocket auth: database unavailable");
      hub.send(conn, { type: "error", error: UNAVAILABLE });
      return hub.close(conn, WS_CLOSE.tryAgainLater, UNAVAILABLE);
    }
    if (conn.closed) return this.releaseKeySocket(conn);
    if (!principal) {
      if (reportFailure) hub.send(conn, { type: "auth_error", error: WS_ERRORS.invalidSession });
      return;
    }
    if (!admitted) {
      // The key is fine, the cap is policy: 1008, so clients tell it apart from a dead key (4001).
      hub.send(conn, { type: "auth_error", error: TOO_MANY_KEY_SOCKETS });
      return hub.close(conn, WS_CLOSE.policyViolation, TOO_MANY_KEY_SOCKETS);
    }
    hub.authenticate(conn, principal);
    this.caps.authenticated(conn);
    hub.send(conn, { type: "auth_success", userId: principal.userId });
  }

  /** Sockets of an API key count against its cap (all instances); other credentials pass. */
  private claimKeySocket(conn: Connection, principal: Principal): Promise<boolean> | boolean {
    const { credential } = principal;
    return credential.kind === "apiKey" ? this.deps.keySockets.claim(conn, credential.id) : true;
  }

  private releaseKeySocket(conn: Connection) {
    this.deps.keySockets.release(conn).catch((err) => {
      // The row goes stale on its own within a few sync periods.
      this.deps.logger.warn({ err }, "websocket: could not release API key socket slot");
    });
  }

  // ---- liveness --------------------------------------------------------------------

  start() {
    this.sweepTimer = setInterval(() => this.sweep(Date.now()), 1000);
    this.sweepTimer.unref();
  }

  /** One pass over the sockets: auth deadlines every second, protocol pings every period. */
  sweep(now: number) {
    const { hub } = this.deps;
    for (const conn of hub.unauthenticated) {
      if (now - conn.openedAt >= this.limits.authTimeoutMs) {
        hub.close(conn, WS_CLOSE.unauthenticated, WS_CLOSE_REASONS.authTimeout);
      }
    }
    if (now - this.lastHeartbeat < this.limits.heartbeatMs) return;
    this.lastHeartbeat = now;
    for (const conn of hub.connections) {
      if (conn.missedPings >= 2) {
        hub.remove(conn);
        conn.socket.terminate();
        continue;
      }
      conn.missedPings++;
      conn.socket.ping();
    }
  }

  /** Shutdown: close every socket with 1001 and wait (bounded) for them to go. */
  async close(timeoutMs = 5000) {
    clearInterval(this.sweepTimer);
    const sockets = [...this.deps.hub.connections].map((c) => c.socket);
    for (const ws of sockets) ws.close(WS_CLOSE.goingAway, WS_CLOSE_REASONS.shuttingDown);
    const closed = sockets.map((ws) =>
      ws.readyState === WebSocket.CLOSED ? Promise.resolve() : new Promise((r) => ws.once("close", r)),
    );
    const timer = new Promise((r) => setTimeout(r, timeoutMs).unref());
    await Promise.race([Promise.all(closed), timer]);
    for (const ws of sockets) if (ws.readyState !== WebSocket.CLOSED) ws.terminate();
  }
}

function onSocketPong(this: WebSocket) {
  const conn = connectionOf(this);
  if (conn) conn.missedPings = 0;
}
