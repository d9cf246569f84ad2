/**
 * The reference fan-outs the bench measures the API's own (`fast`, apps/api/src/realtime/fanout.ts)
 * against, tick by tick in one process. Every one puts the same bytes on the wire (one
 * unmasked, uncompressed text frame per snapshot per recipient); they differ only in the work
 * done per recipient, each adding one idea on the way from `naive` to `fast`:
 *
 * - `naive`: the textbook loop: `JSON.stringify` the message for each recipient, `ws.send` each.
 * - `shared`: serialised once per tick, `ws.send` of the shared Buffer per recipient.
 * - `uncorked`: the frame built once per tick and written to the TCP socket directly, one write per frame.
 * - `corked`: the same writes, corked per socket so they leave in one `writev`.
 * - `gathered`: fast, but every snapshot serialised each tick (no reuse of unchanged rows).
 * - `fast`: what the API runs.
 */
import type { Socket } from "node:net";
import type { Connection } from "../../apps/api/src/realtime/connection.ts";
import {
  type Fanout,
  type FanoutStats,
  FastFanout,
  plainSocket,
} from "../../apps/api/src/realtime/fanout.ts";
import {
  type EncodedFrame,
  encodeSnapshot,
  encodeSnapshotFrame,
  snapshotMessage,
} from "../../apps/api/src/realtime/frames.ts";
import type { ServerRow } from "../../apps/api/src/servers/snapshots.ts";

export const FANOUT_NAMES = ["fast", "naive", "shared", "uncorked", "corked", "gathered"] as const;
export type FanoutName = (typeof FANOUT_NAMES)[number];

const TEXT = { binary: false } as const;
type ServerSyncMessage = ReturnType<typeof snapshotMessage>;

/** Strategies that hand every snapshot to `ws.send`: nothing to open, close or count per socket. */
abstract class WsSendFanout<P> implements Fanout<P> {
  abstract readonly name: FanoutName;
  abstract prepare(row: ServerRow): P;
  abstract send(conn: Connection, snapshot: P): void;
  begin() {}
  flush() {}
  end() {}
  finish(): FanoutStats {
    return { batched: 0, fallbacks: 0 };
  }
}

export class NaiveFanout extends WsSendFanout<ServerSyncMessage> {
  readonly name = "naive";

  prepare(row: ServerRow): ServerSyncMessage {
    return snapshotMessage(row);
  }

  send(conn: Connection, message: ServerSyncMessage) {
    conn.socket.send(JSON.stringify(message));
  }
}

class SharedBufferFanout extends WsSendFanout<Buffer> {
  readonly name = "shared";

  prepare(row: ServerRow): Buffer {
    return encodeSnapshot(row);
  }

  send(conn: Connection, payload: Buffer) {
    conn.socket.send(payload, TEXT);
  }
}

/** Prebuilt frames written to the TCP socket one by one, corked per socket or not. */
class FrameWriteFanout implements Fanout<EncodedFrame> {
  private target: Socket | undefined;
  private batched = 0;
  private fallbacks = 0;

  constructor(
    readonly name: "uncorked" | "corked",
    private readonly corkPerSocket: boolean,
  ) {}

  prepare(row: ServerRow): EncodedFrame {
    return encodeSnapshotFrame(row);
  }

  begin(conn: Connection) {
    this.target = plainSocket(conn.socket);
    if (!this.target || !this.corkPerSocket) return;
    this.batched++;
    this.target.cork();
  }

  send(conn: Connection, snapshot: EncodedFrame) {
    if (this.target) {
      this.target.write(snapshot.frame);
    } else {
      this.fallbacks++;
      conn.socket.send(snapshot.payload, TEXT);
    }
  }

  /** Nothing held: a `ws.send` meanwhile writes to the same (corked) stream, after these frames. */
  flush() {}

  end() {
    if (this.target && this.corkPerSocket) this.target.uncork();
    this.target = undefined;
  }

  finish(): FanoutStats {
    this.end();
    const stats = { batched: this.batched, fallbacks: this.fallbacks };
    this.batched = 0;
    this.fallbacks = 0;
    return stats;
  }
}

/** The fast fan-out without its reuse of unchanged rows' frames. */
class GatheredFanout extends FastFanout {
  override readonly name = "gathered";

  override prepare(row: ServerRow): EncodedFrame {
    return encodeSnapshotFrame(row);
  }
}

export function createFanout(name: FanoutName): Fanout<unknown> {
  switch (name) {
    case "fast":
      return new FastFanout();
    case "naive":
      return new NaiveFanout();
    case "shared":
      return new SharedBufferFanout();
    case "uncorked":
      return new FrameWriteFanout("uncorked", false);
    case "corked":
      return new FrameWriteFanout("corked", true);
    case "gathered":
      return new GatheredFanout();
  }
}

/** `alternate` or a comma list of strategy names. */
export function parseFanoutNames(list: string): FanoutName[] {
  const names = (list === "alternate" ? "fast,naive" : list).split(",").map((s) => s.trim());
  for (const name of names)
    if (!(FANOUT_NAMES as readonly string[]).includes(name))
      throw new Error(`unknown fan-out ${name}: one of ${FANOUT_NAMES.join(", ")} or alternate`);
  return names as FanoutName[];
}

/** The strategies in turn, one per tick, each keeping its own state across its ticks. */
export function fanoutCycle(names: readonly FanoutName[]): () => Fanout<unknown> {
  const cycle = names.map(createFanout);
  let ticks = 0;
  return () => cycle[ticks++ % cycle.length] as Fanout<unknown>;
}
