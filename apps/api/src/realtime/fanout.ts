import type { Socket } from "node:net";
import { PassThrough } from "node:stream";
import { WebSocket } from "ws";
import { type ServerRow, sameRowData } from "../servers/snapshots.ts";
import type { Connection } from "./connection.ts";
import { type EncodedFrame, encodeSnapshotFrame, senderFrameWorks } from "./frames.ts";

export type FanoutStats = {
  /** Sockets whose frames went to their TCP socket as one batch. */
  batched: number;
  /** Sends that went through `ws.send` instead of the prebuilt frame. */
  fallbacks: number;
};

/**
 * How a sync tick hands its snapshots to the sockets. The tick walks the sockets one by one
 * and, for each, sends its snapshots between `begin` and `end`.
 */
export interface Fanout<P> {
  readonly name: string;
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

// ws internals the direct write reads (ws 8.x); `wsInternalsMissing` checks them once at start.
type SenderState = { _state: number; _firstFragment: boolean; _queue: unknown[] };
type WsInternals = {
  _socket?: Socket | null;
  _sender?: SenderState | null;
  _extensions?: Record<string, unknown>;
  setSocket?(socket: NodeJS.ReadWriteStream, head: Buffer, options: { maxPayload: number }): void;
};
/** ws's Sender `DEFAULT` state: no compression or blob read in progress, nothing queued. */
const SENDER_IDLE = 0;
const TEXT = { binary: false } as const;

/**
 * What is missing from the installed ws for the direct write, or undefined when all is there:
 * `Sender.frame` framing as `ws.send` does, and a socket's `_socket`, `_extensions` and an idle
 * `_sender` (`_state`, `_firstFragment`, `_queue`), read from a WebSocket set up on a stream.
 */
export function wsInternalsMissing(): string | undefined {
  if (!senderFrameWorks()) return "Sender.frame";
  // a server-side WebSocket not yet given its socket (ws's own constructor call in handleUpgrade)
  const probe = new (
    WebSocket as unknown as new (
      address: null,
      protocols: undefined,
      options: object,
    ) => WebSocket & WsInternals
  )(null, undefined, {});
  if (typeof probe.setSocket !== "function") return "WebSocket.setSocket";
  const stream = new PassThrough();
  try {
    probe.setSocket(stream, Buffer.alloc(0), { maxPayload: 0 });
    const sender = probe._sender;
    if ((probe._socket as unknown) !== stream) return "WebSocket._socket";
    if (typeof probe._extensions !== "object" || probe._extensions === null) return "WebSocket._extensions";
    if (!sender || sender._state !== SENDER_IDLE) return "Sender._state";
    if (sender._firstFragment !== true) return "Sender._firstFragment";
    if (!Array.isArray(sender._queue)) return "Sender._queue";
    return undefined;
  } finally {
    stream.removeAllListeners();
    stream.destroy();
  }
}

/**
 * The socket a prebuilt frame may be written to directly, or undefined when `ws.send` must
 * do it: the sender has queued or in-flight work (writing past it would reorder frames),
 * the peer negotiated permessage-deflate (ws would compress), or the socket is not open.
 */
export function plainSocket(ws: WebSocket): Socket | undefined {
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

/** The smallest gather buffer allocated: room for a batch of a dozen typical snapshots. */
const MIN_GATHER_BYTES = 16 * 1024;

type FramedRow = { row: ServerRow; frame: EncodedFrame };

/**
 * The sync fan-out. Each snapshot is serialised and framed ONCE per tick, or not at all when
 * the server's row is the same as last tick's (its frame is reused). A socket's frames are
 * gathered from `begin` to `end` and copied into one reusable buffer, handed to the kernel
 * with a single write: one syscall and one pass through Node's stream machinery per socket,
 * while its state is hot in cache. Every socket gets the bytes `ws.send` would put on the wire
 * (one unmasked, uncompressed text frame per snapshot). Sockets whose ws sender is busy (a
 * queued or compressed send) or that negotiated permessage-deflate go through `ws.send`
 * instead, so ws's ordering and framing rules hold; so do all sockets when the installed ws
 * lacks the internals the direct write needs (`direct: false`).
 */
export class FastFanout implements Fanout<EncodedFrame> {
  readonly name: string = "fast";
  /** The frames of this tick and the last, by server: a server whose row did not change keeps its frame. */
  private framed = new Map<string, FramedRow>();
  private lastFramed = new Map<string, FramedRow>();
  /** The open batch's TCP socket, when the prebuilt frames may be written to it. */
  private target: Socket | undefined;
  /** The open batch's frames, not yet written. */
  private readonly held: Buffer[] = [];
  /** The buffer batches are copied into, reused while the kernel takes each write whole. */
  private gatherBuffer: Buffer | undefined;
  private batched = 0;
  private fallbacks = 0;

  constructor(private readonly direct = true) {}

  prepare(row: ServerRow): EncodedFrame {
    const last = this.lastFramed.get(row.id);
    const frame = last && sameRowData(last.row, row) ? last.frame : encodeSnapshotFrame(row);
    this.framed.set(row.id, { row, frame });
    return frame;
  }

  // Checked once per batch: between `begin` and `end` only the tick writes to the socket, and
  // anything it sends through ws meanwhile (an `unsubscribed` notice, after `flush`) leaves
  // ws's sender idle on a plain socket.
  begin(conn: Connection) {
    this.target = this.direct ? plainSocket(conn.socket) : undefined;
    if (this.target) this.batched++;
  }

  send(conn: Connection, snapshot: EncodedFrame) {
    if (this.target) {
      this.held.push(snapshot.frame);
    } else {
      this.fallbacks++;
      conn.socket.send(snapshot.payload, TEXT);
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
