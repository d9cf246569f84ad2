import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/env.ts";
import { createLogger } from "../../src/logger.ts";
import { Hub } from "../../src/realtime/hub.ts";
import { SyncLoop } from "../../src/realtime/sync-loop.ts";
import type { RunningServer } from "../../src/server.ts";
import { createServer, createUser } from "../support/factories.ts";
import { startTestServer } from "../support/server.ts";
import { attachStub, liveSession, type StubSocket } from "../support/stub-socket.ts";

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
    const credential = await liveSession(srv, owner.id);

    const attach = () => {
      const { socket, conn } = attachStub(hub, owner.id, credential);
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
