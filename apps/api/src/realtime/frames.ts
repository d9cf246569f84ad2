import type { ServerSyncMessage } from "@panel/protocol";
import * as ws from "ws";
import { type ServerRow, toSnapshot } from "../servers/snapshots.ts";

/** The `server:sync` message of a row (docs/protocol.md#server-messages). */
export function snapshotMessage(row: ServerRow): ServerSyncMessage {
  return { type: "server:sync", serverId: row.id, data: toSnapshot(row) };
}

/** A `server:sync` message, serialised once and shared by every recipient. */
export function encodeSnapshot(row: ServerRow): Buffer {
  return Buffer.from(JSON.stringify(snapshotMessage(row)));
}

type FrameOptions = { fin: boolean; opcode: number; mask: boolean; readOnly: boolean; rsv1: boolean };
type SenderStatics = { frame?(data: Buffer, options: FrameOptions): Buffer[] };

/** ws's own framing (`Sender.frame`, exported by ws but not by its types), so a prebuilt frame is what `ws.send` would write. */
const { Sender } = ws as unknown as { Sender: SenderStatics };

/** An unmasked, final, uncompressed text frame: what a server's `ws.send(payload, { binary: false })` puts on the wire. */
const TEXT_FRAME: FrameOptions = { fin: true, opcode: 0x1, mask: false, readOnly: false, rsv1: false };

/**
 * A snapshot framed once per tick: `frame` is the complete WebSocket frame (header + payload
 * in one buffer, written as is to every plain socket), `payload` the message alone (a view
 * into `frame`) for sockets that must go through `ws.send`.
 */
export type EncodedFrame = { readonly frame: Buffer; readonly payload: Buffer };

export function frameOf(payload: Buffer): EncodedFrame {
  const [header] = (Sender as Required<SenderStatics>).frame(payload, TEXT_FRAME) as [Buffer];
  const frame = Buffer.allocUnsafeSlow(header.length + payload.length);
  header.copy(frame, 0);
  payload.copy(frame, header.length);
  return { frame, payload: frame.subarray(header.length) };
}

export function encodeSnapshotFrame(row: ServerRow): EncodedFrame {
  return frameOf(encodeSnapshot(row));
}

/** Whether the installed ws still frames as `frameOf` expects: a 2-byte header for a 1-byte text payload, data kept apart. */
export function senderFrameWorks(): boolean {
  if (typeof Sender?.frame !== "function") return false;
  const payload = Buffer.from("x");
  const parts = Sender.frame(payload, TEXT_FRAME);
  const header = parts[0];
  return (
    parts.length === 2 &&
    parts[1] === payload &&
    header?.length === 2 &&
    header[0] === 0x81 &&
    header[1] === 1
  );
}
