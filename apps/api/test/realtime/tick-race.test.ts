import type { Logger as DrizzleLogger } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/env.ts";
import { createLogger } from "../../src/logger.ts";
import { Hub } from "../../src/realtime/hub.ts";
import { SyncLoop } from "../../src/realtime/sync-loop.ts";
import type { RunningServer } from "../../src/server.ts";
import { createServer, createUser } from "../support/factories.ts";
import { startTestServer } from "../support/server.ts";
import { attachStub, liveSession } from "../support/stub-socket.ts";

/** Runs a callback when the next statement matching a pattern is sent to the database. */
class QueryHook implements DrizzleLogger {
  private pending: { pattern: RegExp; run: () => void } | undefined;
  onNext(pattern: RegExp, run: () => void) {
    this.pending = { pattern, run };
  }
  logQuery(query: string) {
    if (!this.pending?.pattern.test(query)) return;
    const { run } = this.pending;
    this.pending = undefined;
    run();
  }
}

const hook = new QueryHook();
let srv: RunningServer;
beforeAll(async () => {
  srv = await startTestServer({ queryLogger: hook });
});
afterAll(() => srv.close());

describe("a subscribe that lands while the tick's query runs", () => {
  it("is not revoked on rows read before it; a real loss of access is revoked one tick later", async () => {
    const hub = new Hub();
    const loop = new SyncLoop(
      hub,
      srv.db,
      loadConfig({ LOG_LEVEL: "silent" }).realtime,
      createLogger("silent"),
    );
    const owner = await createUser(srv);
    const other = await createUser(srv);
    const server = await createServer(srv, owner);
    // the owner's socket keeps the server in the tick's query
    const watcher = attachStub(hub, owner.id, await liveSession(srv, owner.id));
    hub.subscribe(watcher.conn, server.id);
    const late = attachStub(hub, other.id, await liveSession(srv, other.id));

    // `other` subscribes (its own, fresher check having passed) while the snapshot query is in flight;
    // the tick's rows, read before that, do not let `other` see the server
    hook.onNext(/from "servers"/, () => hub.subscribe(late.conn, server.id));
    expect(await loop.tick()).toMatchObject({ frames: 1, revoked: 0 });
    expect(late.socket.sent).toEqual([]);
    expect(late.conn.subscriptions.has(server.id)).toBe(true);

    // `other` really has no access: the next tick's rows postdate the subscribe, so it is revoked
    expect(await loop.tick()).toMatchObject({ frames: 1, revoked: 1 });
    expect(late.socket.sent).toEqual([
      { type: "unsubscribed", serverId: server.id, reason: "access_revoked" },
    ]);
    expect(watcher.socket.sent.filter((m) => m.type === "server:sync")).toHaveLength(2);
  });
});
