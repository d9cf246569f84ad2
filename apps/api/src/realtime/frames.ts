import type { ServerSyncMessage } from "@panel/protocol";
import { type ServerRow, toSnapshot } from "../servers/snapshots.ts";

/** A `server:sync` message, serialised once and shared by every recipient. */
export function encodeSnapshot(row: ServerRow): Buffer {
  const message: ServerSyncMessage = { type: "server:sync", serverId: row.id, data: toSnapshot(row) };
  return Buffer.from(JSON.stringify(message));
}
