import { session } from "@panel/db";
import type { ServerMessage } from "@panel/protocol";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { WebSocket } from "ws";
import { loadConfig } from "../../src/env.ts";
import { createLogger } from "../../src/logger.ts";
import { Connection } from "../../src/realtime/connection.ts";
import { Hub } from "../../src/realtime/hub.ts";
import { SyncLoop } from "../../src/realtime/sync-loop.ts";
import type { RunningServer } from "../../src/server.ts";
import { createServer, createUser } from "../support/factories.ts";
import { startTestServer } from "../support/server.ts";

/**
 * Filling a real loopback socket's buffers takes megabytes, so these sockets are stand-ins
 * whose send buffer the test sets; the sync loop, hub and database are the real ones.
 */
class StubSocket {
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

let srv: RunningServer;
beforeAll(async () => {
  srv = await startTestServer();
});
afterAll(() => srv.close());

describe("slow readers", () => {
  it("skips a socket whose send buffer is over the limit, and closes it with 1013 if it stays over", async () => {
    const config = loadConfig({ WS_MAX_BUFFERED_BYTES: "4096", LOG_LEVEL: "silent" });
    const hub = new Hub();
    const loop = new SyncLoop(hub, srv.db, config.realtime, createLogger("silent"));
    const owner = await createUser(srv);
    const server = await createServer(srv, owner);
    // a real, live session, so the loop's credential check keeps these sockets
    const [live] = await srv.db.select({ id: session.id }).from(session).where(eq(session.userId, owner.id));
    const credential = { kind: "session" as const, id: live?.id ?? "" };

    const attach = () => {
      const socket = new StubSocket();
      const conn = new Connection(socket as unknown as WebSocket, Date.now(), 120);
      hub.add(conn);
      hub.authenticate(conn, { userId: owner.id, isAdmin: false, credential });
      hub.subscribe(conn, server.id);
      return socket;
    };
    const fast = attach();
    const slow = attach();
    const recovering = attach();

    slow.bufferedAmount = 1024 * 1024;
    recovering.bufferedAmount = 1024 * 1024;
    await loop.tick();
    recovering.bufferedAmount = 0; // drained: it is served again and its count starts over
    await loop.tick();
    recovering.bufferedAmount = 1024 * 1024;
    await loop.tick();

    const syncs = (s: StubSocket) => s.sent.filter((m) => m.type === "server:sync").length;
    expect(syncs(fast)).toBe(3);
    expect(syncs(slow)).toBe(0);
    expect(slow.closedWith).toBe(1013);
    expect(syncs(recovering)).toBe(1);
    expect(recovering.closedWith).toBeUndefined();
  });
});
