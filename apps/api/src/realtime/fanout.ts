import type { Socket } from "node:net";
import type { ServerSyncMessage } from "@panel/protocol";
import { WebSocket } from "ws";
import type { ServerRow } from "../servers/snapshots.ts";
import type { Connection } from "./connection.ts";
import { type EncodedFrame, encodeSnapshot, encodeSnapshotFrame, snapshotMessage } from "./frames.ts";

/**
 * How a sync tick hands its snapshots to the sockets. The tick walks the sockets one by one
 * and, for each, sends its snapshots between `begin` and `end`. Every strategy puts the same
 * bytes on the wire (one unmasked, uncompressed text frame per snapshot per recipient); they
 * differ only in the work done per recipient.
 *
 * - `fast` (the default): each snapshot is serialised and framed ONCE per tick; the finished
 *   frame buffer is written to the recipient's TCP socket, corked from `begin` to `end` so
 *   that a client's k frames leave in one `writev` while its socket state is hot in cache.
 *   Sockets whose ws sender is busy (a queued or compressed send) or that negotiated
 *   permessage-deflate go through `ws.send` instead, so ws's ordering and framing rules hold.
 * - `naive`: the textbook loop, kept as the benchmark's reference: `JSON.stringify` the
 *   message for each recipient and `ws.send` each one separately.
 * - bench-only steps in between, to measure what each idea buys: `shared` (serialised once
 *   per tick, `ws.send` of the shared Buffer per recipient) and `uncorked` (prebuilt frame
 *   written directly, one write per frame).
 */
export type FanoutMode = "fast" | "naive" | "shared" | "uncorked";

export type FanoutStats = {
  /** Sockets corked this tick (fast), each flushed with one write. */
  corked: number;
  /** Sends that went through `ws.send` instead of the prebuilt frame (fast). */
  fallbacks: number;
};

export interface Fanout<P> {
  readonly mode: FanoutMode;
  /** Builds what is sent for one snapshot; called at most once per snapshot per tick. */
  prepare(row: ServerRow): P;
  /** Starts one socket's batch; only `send`s to this socket may follow until `end`. */
  begin(conn: Connection): void;
  /** Sends one snapshot to the socket of the open batch (open, authorised, allowed to see it). */
  send(conn: Connection, snapshot: P): void;
  /** Ends the batch: the socket's frames are handed to the kernel together. */
  end(): void;
  /** Ends the tick. */
  finish(): FanoutStats;
}

// ws internals the fast path checks before writing a prebuilt frame (ws 8.x).
type SenderState = { _state: number; _firstFragment: boolean; _queue: unknown[] };
type WsInternals = {
  _socket?: Socket;
  _sender?: SenderState | null;
  _extensions?: Record<string, unknown>;
};
/** ws's Sender `DEFAULT` state: no compression or blob read in progress, nothing queued. */
const SENDER_IDLE = 0;
const TEXT = { binary: false } as const;

/**
 * The socket a prebuilt frame may be written to directly, or undefined when `ws.send` must
 * do it: the sender has queued or in-flight work (writing past it would reorder frames),
 * the peer negotiated permessage-deflate (ws would compress), or the socket is not open.
 */
function plainSocket(ws: WebSocket): Socket | undefined {
  if (ws.readyState !== WebSocket.OPEN) return undefined;
  const internals = ws as WebSocket & WsInternals;
  const sender = internals._sender;
  const socket = internals._socket;
  if (!sender || !socket || socket.destroyed) return undefined;
  if (sender._state !== SENDER_IDLE || !sender._firstFragment || sender._queue.length !== 0) return undefined;
  const extensions = internals._extensions;
  if (!extensions || extensions["permessage-deflate"] !== undefined) return undefined;
  return socket;
}

/** Prebuilt frames written straight to the TCP socket; `cork` makes a socket's frames one write. */
class FrameFanout implements Fanout<EncodedFrame> {
  /** The open batch's TCP socket, when the prebuilt frames may be written to it. */
  private target: Socket | undefined;
  private corked = 0;
  private fallbacks = 0;

  constructor(
    readonly mode: FanoutMode,
    private readonly cork: boolean,
  ) {}

  prepare(row: ServerRow): EncodedFrame {
    return encodeSnapshotFrame(row);
  }

  // Checked once per batch: between `begin` and `end` only the tick writes to the socket, and
  // anything it sends through ws meanwhile (an `unsubscribed` notice) leaves ws's sender idle
  // on a plain socket and joins the corked batch in order.
  begin(conn: Connection) {
    const socket = plainSocket(conn.socket);
    this.target = socket;
    if (socket && this.cork) {
      socket.cork();
      this.corked++;
    }
  }

  send(conn: Connection, snapshot: EncodedFrame) {
    if (this.target) {
      this.target.write(snapshot.frame);
      return;
    }
    this.fallbacks++;
    conn.socket.send(snapshot.payload, TEXT);
  }

  end() {
    if (this.target && this.cork) this.target.uncork();
    this.target = undefined;
  }

  finish(): FanoutStats {
    this.end();
    const stats = { corked: this.corked, fallbacks: this.fallbacks };
    this.corked = 0;
    this.fallbacks = 0;
    return stats;
  }
}

export class FastFanout extends FrameFanout {
  constructor() {
    super("fast", true);
  }
}

/** Strategies that hand every snapshot to `ws.send`: nothing to open, close or count per socket. */
abstract class WsSendFanout<P> implements Fanout<P> {
  abstract readonly mode: FanoutMode;
  abstract prepare(row: ServerRow): P;
  abstract send(conn: Connection, snapshot: P): void;
  begin() {}
  end() {}
  finish(): FanoutStats {
    return { corked: 0, fallbacks: 0 };
  }
}

/** The snapshot serialised once per tick, `ws.send` per recipient (what the sync loop did before). */
class SharedBufferFanout extends WsSendFanout<Buffer> {
  readonly mode = "shared";

  prepare(row: ServerRow): Buffer {
    return encodeSnapshot(row);
  }

  send(conn: Connection, payload: Buffer) {
    conn.socket.send(payload, TEXT);
  }
}

export class NaiveFanout extends WsSendFanout<ServerSyncMessage> {
  readonly mode = "naive";

  prepare(row: ServerRow): ServerSyncMessage {
    return snapshotMessage(row);
  }

  send(conn: Connection, message: ServerSyncMessage) {
    conn.socket.send(JSON.stringify(message));
  }
}

function create(mode: FanoutMode): Fanout<unknown> {
  switch (mode) {
    case "fast":
      return new FastFanout();
    case "naive":
      return new NaiveFanout();
    case "shared":
      return new SharedBufferFanout();
    case "uncorked":
      return new FrameFanout("uncorked", false);
  }
}

/** The strategy for each tick of one sync loop: the configured ones in turn (one, except in the bench). */
export class FanoutSelector {
  private readonly cycle: Fanout<unknown>[];
  private ticks = 0;

  constructor(modes: readonly FanoutMode[]) {
    this.cycle = (modes.length ? modes : (["fast"] as const)).map(create);
  }

  next(): Fanout<unknown> {
    return this.cycle[this.ticks++ % this.cycle.length] as Fanout<unknown>;
  }
}
