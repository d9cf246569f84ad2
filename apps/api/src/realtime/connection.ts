import type { WebSocket } from "ws";
import type { Principal } from "../auth/credentials.ts";
import type { Followers } from "./hub.ts";

/**
 * Per-socket state, kept deliberately small: no closures, no timers (one sweep serves all
 * sockets), plain fields the hot paths read directly.
 */
export class Connection {
  principal: Principal | null = null;
  /** The hub's number for the principal's user (-1 until authenticated): the tick compares numbers, not ids. */
  userKey = -1;
  /** serverId -> the hub's followers of that server */
  readonly subscriptions = new Map<string, Followers>();
  /** `performance.now()` of the latest subscribe: a tick must not revoke on rows read before it. */
  subscribedAt = 0;
  /** Messages of one socket are handled in order; this is the tail of that chain. */
  queue: Promise<void> = Promise.resolve();
  closed = false;
  // inbound rate limit (token bucket)
  tokens: number;
  refilledAt: number;
  strikes = 0;
  // liveness and backpressure
  missedPings = 0;
  slowTicks = 0;

  constructor(
    readonly socket: WebSocket,
    readonly openedAt: number,
    burst: number,
  ) {
    this.tokens = burst;
    this.refilledAt = openedAt;
  }
}

const CONNECTION = Symbol("panel.connection");
type Tagged = WebSocket & { [CONNECTION]?: Connection };

export function attachConnection(socket: WebSocket, connection: Connection) {
  (socket as Tagged)[CONNECTION] = connection;
}

export function connectionOf(socket: WebSocket): Connection | undefined {
  return (socket as Tagged)[CONNECTION];
}
