import { session } from "@panel/db";
import type { ServerMessage } from "@panel/protocol";
import { eq } from "drizzle-orm";
import type { WebSocket } from "ws";
import type { Credential } from "../../src/auth/credentials.ts";
import { Connection } from "../../src/realtime/connection.ts";
import type { Hub } from "../../src/realtime/hub.ts";
import type { RunningServer } from "../../src/server.ts";

/**
 * A stand-in for a server-side socket whose send buffer the test sets (filling a real
 * loopback socket takes megabytes); it records what the sync loop sends it. The loop, hub and
 * database around it are the real ones.
 */
export class StubSocket {
  readyState = 1;
  bufferedAmount = 0;
  sent: ServerMessage[] = [];
  closedWith: number | undefined;
  send(data: Buffer | string) {
    this.sent.push(JSON.parse(String(data)) as ServerMessage);
  }
  close(code: number) {
    this.closedWith = code;
    this.readyState = 3;
  }
}

/** The user's real, live session, so the loop's credential check keeps their sockets. */
export async function liveSession(srv: RunningServer, userId: string): Promise<Credential> {
  const [live] = await srv.db.select({ id: session.id }).from(session).where(eq(session.userId, userId));
  return { kind: "session", id: live?.id ?? "" };
}

/** A stub socket authenticated on the hub as this user. */
export function attachStub(hub: Hub, userId: string, credential: Credential) {
  const socket = new StubSocket();
  const conn = new Connection(socket as unknown as WebSocket, Date.now(), 120);
  hub.add(conn);
  hub.authenticate(conn, { userId, isAdmin: false, credential });
  return { socket, conn };
}
