import type { Socket } from "node:net";
import type { ServerSyncMessage } from "@panel/protocol";
import { WebSocket } from "ws";
import { type ServerRow, sameRowData } from "../servers/snapshots.ts";
import type { Connection } from "./connection.ts";
import type { FanoutMode } from "./fanout-modes.ts";
import { type EncodedFrame, encodeSnapshot, encodeSnapshotFrame, snapshotMessage } from "./frames.ts";

/**
 * How a sync tick hands its snapshots to the sockets. The tick walks the sockets one by one
 * and, for each, sends its snapshots between `begin` and `end`. Every strategy puts the same
 * bytes on the wire (one unmasked, uncompressed text frame per snapshot per recipient); they
 * differ only in the work done per recipient.
 *
 * - `fast` (the default): each snapshot is serialised and framed ONCE per tick, or not at all
 *   when the server's row is the same as last tick's (its frame is reused). A socket's
 *   frames are gathered from `begin` to `end` and copied into one reusable buffer, handed to
 *   the kernel with a single write: one syscall and one pass through Node's stream machinery
 *   per socket, while its state is hot in cache. Sockets whose ws sender is busy (a queued or
 *   compressed send) or that negotiated permessage-deflate go through `ws.send` instead, so
 *   ws's ordering and framing rules hold.
 * - `naive`: the textbook loop, kept as the benchmark's reference: `JSON.stringify` the
 *   message for each recipient and `ws.send` each one separately.
 * - bench-only steps in between, to measure what each idea buys: `shared` (serialised once
 *   per tick, `ws.send` of the shared Buffer per recipient), `uncorked` (prebuilt frame
 *   written directly, one write per frame), `corked` (the same writes, corked per socket so
 *   they leave in one `writev`) and `gathered` (fast, but every snapshot serialised each tick).
 */
export { FANOUT_MODES, type FanoutMode } from "./fanout-modes.ts";

export type FanoutStats = {
  /** Sockets whose frames went to their TCP socket as one batch (fast, gathered, corked). */
  batched: number;
  /** Sends that went through `ws.send` instead of the prebuilt frame (fast, uncorked, corked). */
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
  /** Hands what the open batch holds to the socket now, so that a message sent outside the fan-out (`ws.send`) follows it. */
  flush(): void;
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

/** How a socket's prebuilt frames reach it: one write each, corked into one `writev`, or gathered into one buffer. */
type FrameWrites = "each" | "cork" | "gather";

/** The smallest gather buffer allocated: room for a batch of a dozen typical snapshots. */
const MIN_GATHER_BYTES = 16 * 1024;

type FramedRow = { row: ServerRow; frame: EncodedFrame };

/** Prebuilt frames written straight to the TCP socket. */
class FrameFanout implements Fanout<EncodedFrame> {
  /** The frames of this tick and the last, by server: a server whose row did not change keeps its frame. */
  private framed = new Map<string, FramedRow>();
  private lastFramed = new Map<string, FramedRow>();
  /** The open batch's TCP socket, when the prebuilt frames may be written to it. */
  private target: Socket | undefined;
  /** `gather`: the open batch's frames, not yet written. */
  private readonly held: Buffer[] = [];
  /** `gather`: the buffer batches are copied into, reused while the kernel takes each write whole. */
  private gatherBuffer: Buffer | undefined;
  private batched = 0;
  private fallbacks = 0;

  constructor(
    readonly mode: FanoutMode,
    private readonly writes: FrameWrites,
    private readonly reuseUnchanged = false,
  ) {}

  prepare(row: ServerRow): EncodedFrame {
    if (!this.reuseUnchanged) return encodeSnapshotFrame(row);
    const last = this.lastFramed.get(row.id);
    const frame = last && sameRowData(last.row, row) ? last.frame : encodeSnapshotFrame(row);
    this.framed.set(row.id, { row, frame });
    return frame;
  }

  // Checked once per batch: between `begin` and `end` only the tick writes to the socket, and
  // anything it sends through ws meanwhile (an `unsubscribed` notice, after `flush`) leaves
  // ws's sender idle on a plain socket.
  begin(conn: Connection) {
    const socket = plainSocket(conn.socket);
    this.target = socket;
    if (!socket || this.writes === "each") return;
    this.batched++;
    if (this.writes === "cork") socket.cork();
  }

  send(conn: Connection, snapshot: EncodedFrame) {
    const target = this.target;
    if (!target) {
      this.fallbacks++;
      conn.socket.send(snapshot.payload, TEXT);
    } else if (this.writes === "gather") {
      this.held.push(snapshot.frame);
    } else {
      target.write(snapshot.frame);
    }
  }

  flush() {
    const target = this.target;
    if (!target || this.held.length === 0) return;
    try {
      if (this.held.length === 1) target.write(this.held[0] as Buffer);
      else if (target.writableLength > 0) this.writeCorked(target);
      else this.writeGathered(target);
    } finally {
      // whatever happened, nothing held for this socket may reach the next one
      this.held.length = 0;
    }
  }

  end() {
    try {
      if (this.target && this.writes === "cork") this.target.uncork();
      this.flush();
    } finally {
      this.target = undefined;
    }
  }

  finish(): FanoutStats {
    this.end();
    // servers nobody was sent this tick drop out
    this.lastFramed = this.framed;
    this.framed = new Map();
    const stats = { batched: this.batched, fallbacks: this.fallbacks };
    this.batched = 0;
    this.fallbacks = 0;
    return stats;
  }

  /**
   * One copy, one write. A write the kernel takes whole completes synchronously and leaves
   * nothing queued (`writableLength` 0), so the buffer is free again at once; otherwise the
   * socket keeps it until the rest is written, and the next batch gets a new one.
   */
  private writeGathered(socket: Socket) {
    let bytes = 0;
    for (const frame of this.held) bytes += frame.length;
    let buffer = this.gatherBuffer;
    if (!buffer || buffer.length < bytes) buffer = Buffer.allocUnsafeSlow(Math.max(bytes, MIN_GATHER_BYTES));
    let offset = 0;
    for (const frame of this.held) offset += frame.copy(buffer, offset);
    socket.write(buffer.subarray(0, offset));
    this.gatherBuffer = socket.writableLength === 0 ? buffer : undefined;
  }

  /** A socket with writes still queued would keep the gather buffer: the shared frames are queued instead, as one `writev`. */
  private writeCorked(socket: Socket) {
    socket.cork();
    for (const frame of this.held) socket.write(frame);
    socket.uncork();
  }
}

export class FastFanout extends FrameFanout {
  constructor() {
    super("fast", "gather", true);
  }
}

/** Strategies that hand every snapshot to `ws.send`: nothing to open, close or count per socket. */
abstract class WsSendFanout<P> implements Fanout<P> {
  abstract readonly mode: FanoutMode;
  abstract prepare(row: ServerRow): P;
  abstract send(conn: Connection, snapshot: P): void;
  begin() {}
  flush() {}
  end() {}
  finish(): FanoutStats {
    return { batched: 0, fallbacks: 0 };
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
      return new FrameFanout("uncorked", "each");
    case "corked":
      return new FrameFanout("corked", "cork");
    case "gathered":
      return new FrameFanout("gathered", "gather");
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
