import { session } from "@panel/db";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/env.ts";
import { createLogger } from "../../src/logger.ts";
import { Hub } from "../../src/realtime/hub.ts";
import { SyncLoop } from "../../src/realtime/sync-loop.ts";
import type { RunningServer } from "../../src/server.ts";
import { createServer, createUser, signIn } from "../support/factories.ts";
import { startTestServer } from "../support/server.ts";
import { attachStub, liveSession } from "../support/stub-socket.ts";

/**
 * The tick decides who may see a server by the hub's numbers for users with sockets here
 * (owner, subuser or admin, as `canSee`); a user's number lives while any of its credentials
 * has a socket.
 */
let srv: RunningServer;
beforeAll(async () => {
  srv = await startTestServer();
});
afterAll(() => srv.close());

function newLoop(hub: Hub) {
  return new SyncLoop(hub, srv.db, loadConfig({ LOG_LEVEL: "silent" }).realtime, createLogger("silent"));
}
const syncs = (sent: { type: string }[]) => sent.filter((m) => m.type === "server:sync").length;

describe("the tick's visibility check", () => {
  it("lets owners and subusers see a server, and revokes a user who is neither", async () => {
    const hub = new Hub();
    const loop = newLoop(hub);
    const [owner, subuser, stranger] = await Promise.all([createUser(srv), createUser(srv), createUser(srv)]);
    const server = await createServer(srv, owner, { subusers: [subuser] });
    const sockets = await Promise.all(
      [owner, subuser, stranger].map(async (u) => attachStub(hub, u.id, await liveSession(srv, u.id))),
    );
    for (const { conn } of sockets) hub.subscribe(conn, server.id);
    expect(await loop.tick()).toMatchObject({ frames: 2, revoked: 1 });
    const [ownerSocket, subuserSocket, strangerSocket] = sockets.map((s) => s.socket);
    expect(syncs(ownerSocket?.sent ?? [])).toBe(1);
    expect(syncs(subuserSocket?.sent ?? [])).toBe(1);
    expect(strangerSocket?.sent).toEqual([
      { type: "unsubscribed", serverId: server.id, reason: "access_revoked" },
    ]);
  });

  it("does not let an owner with no socket here stand in for anyone", async () => {
    const hub = new Hub();
    const loop = newLoop(hub);
    const [absentOwner, stranger] = await Promise.all([createUser(srv), createUser(srv)]);
    const server = await createServer(srv, absentOwner);
    const { conn, socket } = attachStub(hub, stranger.id, await liveSession(srv, stranger.id));
    hub.subscribe(conn, server.id);
    expect(await loop.tick()).toMatchObject({ frames: 0, revoked: 1 });
    expect(socket.sent).toEqual([{ type: "unsubscribed", serverId: server.id, reason: "access_revoked" }]);
  });

  it("keeps a user's number while one of its sockets is open, and gives a returning user a working one", async () => {
    const hub = new Hub();
    const loop = newLoop(hub);
    const owner = await createUser(srv);
    const server = await createServer(srv, owner);
    // two sessions of the same user: two credential groups
    await signIn(srv, owner.email, owner.password);
    const sessions = await srv.db
      .select({ id: session.id })
      .from(session)
      .where(eq(session.userId, owner.id));
    expect(sessions).toHaveLength(2);
    const [first, second] = sessions.map((s) => attachStub(hub, owner.id, { kind: "session", id: s.id }));
    if (!first || !second) throw new Error("two sessions expected");
    for (const { conn } of [first, second]) hub.subscribe(conn, server.id);
    hub.remove(first.conn);
    expect(await loop.tick()).toMatchObject({ frames: 1, revoked: 0 });

    hub.remove(second.conn);
    const returning = attachStub(hub, owner.id, { kind: "session", id: sessions[0]?.id ?? "" });
    hub.subscribe(returning.conn, server.id);
    expect(await loop.tick()).toMatchObject({ frames: 1, revoked: 0 });
    expect(syncs(returning.socket.sent)).toBe(1);
  });
});
