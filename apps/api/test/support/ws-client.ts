import type { ServerMessage } from "@panel/protocol";
import WebSocket from "ws";
import type { RunningServer } from "../../src/server.ts";

type Waiter = {
  match: (m: ServerMessage) => boolean;
  resolve: (m: ServerMessage) => void;
  timer: NodeJS.Timeout;
};

/**
 * A real `ws` client that records everything the server sends, so a test can wait for the
 * next message of a kind or assert that nothing else arrived.
 */
export class TestSocket {
  readonly received: ServerMessage[] = [];
  private unread: ServerMessage[] = [];
  private waiters: Waiter[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  readonly opened: Promise<void>;

  constructor(readonly ws: WebSocket) {
    ws.on("message", (data) => this.onMessage(JSON.parse(String(data)) as ServerMessage));
    this.closed = new Promise((resolve) =>
      ws.on("close", (code, reason) => resolve({ code, reason: String(reason) })),
    );
    this.opened = new Promise((resolve, reject) => {
      ws.once("open", () => resolve());
      ws.once("error", reject);
      ws.once("unexpected-response", (_req, res) => reject(new Error(`upgrade refused: ${res.statusCode}`)));
    });
  }

  private onMessage(message: ServerMessage) {
    this.received.push(message);
    const i = this.waiters.findIndex((w) => w.match(message));
    const waiter = i === -1 ? undefined : this.waiters.splice(i, 1)[0];
    if (waiter) {
      clearTimeout(waiter.timer);
      waiter.resolve(message);
    } else this.unread.push(message);
  }

  send(message: unknown) {
    this.ws.send(typeof message === "string" ? message : JSON.stringify(message));
  }

  /** The next unread message matching `match` (default: any), or a timeout error. */
  next<T extends ServerMessage["type"]>(
    type?: T,
    opts: { timeoutMs?: number; where?: (m: Extract<ServerMessage, { type: T }>) => boolean } = {},
  ): Promise<Extract<ServerMessage, { type: T }>> {
    const match = (m: ServerMessage) =>
      (!type || m.type === type) && (!opts.where || opts.where(m as Extract<ServerMessage, { type: T }>));
    const i = this.unread.findIndex(match);
    if (i !== -1) return Promise.resolve(this.unread.splice(i, 1)[0] as Extract<ServerMessage, { type: T }>);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w.timer !== timer);
        reject(
          new Error(`timed out waiting for ${type ?? "a message"}; unread: ${JSON.stringify(this.unread)}`),
        );
      }, opts.timeoutMs ?? 5000);
      this.waiters.push({ match, resolve: resolve as (m: ServerMessage) => void, timer });
    });
  }

  /** Everything received and not yet consumed by `next`. */
  drain(): ServerMessage[] {
    const out = this.unread;
    this.unread = [];
    return out;
  }

  close() {
    this.ws.close(1000);
  }
}

export type ConnectOptions = { token?: string; cookie?: string; origin?: string; path?: string };

export async function connect(srv: RunningServer, opts: ConnectOptions = {}): Promise<TestSocket> {
  const url = new URL(opts.path ?? "/api/ws", srv.url.replace("http", "ws"));
  if (opts.token !== undefined) url.searchParams.set("token", opts.token);
  const headers: Record<string, string> = {};
  if (opts.cookie) headers.cookie = opts.cookie;
  const socket = new TestSocket(
    new WebSocket(url, { headers, ...(opts.origin ? { origin: opts.origin } : {}) }),
  );
  await socket.opened;
  return socket;
}

/** Connected and authenticated with a ticket in the query string. */
export async function connectAuthed(srv: RunningServer, token: string): Promise<TestSocket> {
  const socket = await connect(srv, { token });
  const reply = await socket.next();
  if (reply.type !== "auth_success") throw new Error(`expected auth_success, got ${JSON.stringify(reply)}`);
  return socket;
}
