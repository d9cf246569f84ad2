import { nodes } from "@panel/db";
import { WS_ERRORS } from "@panel/protocol";
import { type Logger as DrizzleLogger, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningServer } from "../../src/server.ts";
import { createServer, createUser, type TestUser, ticketFor } from "../support/factories.ts";
import { startTestServer } from "../support/server.ts";
import { connectAuthed, type TestSocket } from "../support/ws-client.ts";

/** Records every SQL statement the server sends. */
class QueryRecorder implements DrizzleLogger {
  queries: string[] = [];
  logQuery(query: string) {
    this.queries.push(query);
  }
}

let srv: RunningServer;
let admin: TestUser;
const recorder = new QueryRecorder();

beforeAll(async () => {
  srv = await startTestServer({ queryLogger: recorder });
  admin = await createUser(srv, { admin: true });
});
afterAll(() => srv.close());

const socketFor = async (user: TestUser) => connectAuthed(srv, await ticketFor(srv, user));

async function subscribed(user: TestUser, serverId: string): Promise<TestSocket> {
  const ws = await socketFor(user);
  ws.send({ type: "subscribe", serverId });
  await ws.next("subscribed");
  await ws.next("server:sync");
  return ws;
}

async function queriesDuringTick() {
  recorder.queries = [];
  const report = await srv.sync.tick();
  expect(report).toBeDefined();
  return [...recorder.queries];
}

describe("sync loop", () => {
  it("runs one snapshot query per tick whatever the number of sockets and servers", async () => {
    const owners = await Promise.all([1, 2, 3].map(() => createUser(srv)));
    const servers = await Promise.all(owners.map((o) => createServer(srv, o)));
    const sockets: TestSocket[] = [];
    for (let i = 0; i < 3; i++) sockets.push(await subscribed(owners[i]!, servers[i]!.id));
    const few = await queriesDuringTick();

    for (let i = 0; i < 24; i++) sockets.push(await subscribed(owners[i % 3]!, servers[i % 3]!.id));
    const many = await queriesDuringTick();

    // per tick: the batched credential check and the snapshot query (plus, once a minute,
    // the expired-ticket cleanup, and the one-row upsert of this instance's socket counters)
    const sync = (qs: string[]) =>
      qs.filter(
        (q) => !/^delete from "redeemed_ws_ticket"/.test(q) && !/^insert into "realtime_instance"/.test(q),
      );
    for (const queries of [sync(few), sync(many)]) {
      expect(queries).toHaveLength(2);
      expect(queries.filter((q) => /from "servers"/.test(q))).toHaveLength(1);
      expect(queries.filter((q) => /from "session"/.test(q))).toHaveLength(1);
    }
    for (const ws of sockets) {
      expect((await ws.next("server:sync")).type).toBe("server:sync");
      ws.close();
    }
  });

  it("shows an admin status change in the next snapshot", async () => {
    const owner = await createUser(srv);
    const server = await createServer(srv, owner, { status: "running" });
    const ws = await subscribed(owner, server.id);
    const res = await admin.fetch(`/api/admin/servers/${server.id}`, {
      method: "PATCH",
      body: JSON.stringify({ status: "stopping" }),
    });
    expect(res.status).toBe(200);
    await srv.sync.tick();
    const sync = await ws.next("server:sync");
    expect(sync.data.status).toBe("stopping");
    ws.close();
  });

  it("reuses last tick's snapshot only while the server is unchanged", async () => {
    const owner = await createUser(srv);
    const server = await createServer(srv, owner, { status: "running" });
    const ws = await subscribed(owner, server.id);
    const nextSync = async () => {
      await srv.sync.tick();
      return (await ws.next("server:sync")).data;
    };
    const first = await nextSync();
    expect(await nextSync()).toEqual(first);
    // a change anywhere in what a snapshot shows: the server, its node, its allocations
    const patched = await admin.fetch(`/api/admin/servers/${server.id}`, {
      method: "PATCH",
      body: JSON.stringify({ name: "renamed-between-ticks" }),
    });
    expect(patched.status).toBe(200);
    const renamed = await nextSync();
    expect(renamed.name).toBe("renamed-between-ticks");
    expect(Date.parse(renamed.updatedAt)).toBeGreaterThanOrEqual(Date.parse(first.updatedAt));
    await srv.db.update(nodes).set({ isOnline: !renamed.node.isOnline }).where(eq(nodes.id, renamed.nodeId));
    expect((await nextSync()).node.isOnline).toBe(!renamed.node.isOnline);
    ws.close();
  });

  it("sends access_revoked when a subuser is removed, and stops syncing", async () => {
    const owner = await createUser(srv);
    const sub = await createUser(srv);
    const server = await createServer(srv, owner, { subusers: [sub] });
    const subWs = await subscribed(sub, server.id);
    const ownerWs = await subscribed(owner, server.id);
    const res = await owner.fetch(`/api/servers/${server.id}/subusers/${sub.id}`, { method: "DELETE" });
    expect(res.status).toBe(204);
    await srv.sync.tick();
    expect(await subWs.next()).toEqual({
      type: "unsubscribed",
      serverId: server.id,
      reason: "access_revoked",
    });
    expect((await ownerWs.next("server:sync")).serverId).toBe(server.id);
    await srv.sync.tick();
    subWs.send({ type: "ping" });
    expect(await subWs.next()).toEqual({ type: "pong" });
    subWs.close();
    ownerWs.close();
  });

  it("sends access_revoked when the server is deleted or ownership moves", async () => {
    const owner = await createUser(srv);
    const next = await createUser(srv);
    const doomed = await createServer(srv, owner);
    const moved = await createServer(srv, owner);
    const ws = await subscribed(owner, doomed.id);
    ws.send({ type: "subscribe", serverId: moved.id });
    await ws.next("server:sync", { where: (m) => m.serverId === moved.id });

    expect((await admin.fetch(`/api/admin/servers/${doomed.id}`, { method: "DELETE" })).status).toBe(204);
    const patch = await admin.fetch(`/api/admin/servers/${moved.id}`, {
      method: "PATCH",
      body: JSON.stringify({ ownerId: next.id }),
    });
    expect(patch.status).toBe(200);
    await srv.sync.tick();
    const revoked = [await ws.next("unsubscribed"), await ws.next("unsubscribed")];
    expect(revoked).toEqual(
      expect.arrayContaining([
        { type: "unsubscribed", serverId: doomed.id, reason: "access_revoked" },
        { type: "unsubscribed", serverId: moved.id, reason: "access_revoked" },
      ]),
    );
    await srv.sync.tick();
    ws.send({ type: "ping" });
    await ws.next("pong");
    expect(ws.drain().filter((m) => m.type === "server:sync")).toEqual([]);
    ws.close();
  });

  it("closes sockets with auth_error + 4001 when the session is signed out", async () => {
    const user = await createUser(srv);
    const server = await createServer(srv, user);
    const ws = await subscribed(user, server.id);
    expect((await user.fetch("/api/auth/sign-out", { method: "POST", body: "{}" })).status).toBe(200);
    await srv.sync.tick();
    expect(await ws.next()).toEqual({ type: "auth_error", error: WS_ERRORS.invalidSession });
    expect((await ws.closed).code).toBe(4001);
  });

  it("closes sockets of a banned user, and drops admin rights when the role is removed", async () => {
    const banned = await createUser(srv);
    const demoted = await createUser(srv, { admin: true });
    const owner = await createUser(srv);
    const server = await createServer(srv, owner);
    const bannedWs = await subscribed(banned, (await createServer(srv, banned)).id);
    const demotedWs = await subscribed(demoted, server.id);

    const ban = await admin.fetch("/api/auth/admin/ban-user", {
      method: "POST",
      body: JSON.stringify({ userId: banned.id, banReason: "test" }),
    });
    expect(ban.status).toBe(200);
    const role = await admin.fetch("/api/auth/admin/set-role", {
      method: "POST",
      body: JSON.stringify({ userId: demoted.id, role: "user" }),
    });
    expect(role.status).toBe(200);
    await srv.sync.tick();
    expect(await bannedWs.next()).toEqual({ type: "auth_error", error: WS_ERRORS.invalidSession });
    expect((await bannedWs.closed).code).toBe(4001);
    expect(await demotedWs.next()).toEqual({
      type: "unsubscribed",
      serverId: server.id,
      reason: "access_revoked",
    });
    demotedWs.close();
  });
});

describe("sync timer", () => {
  it("pushes snapshots every period and delivers revocations within one period", async () => {
    const timed = await startTestServer({ syncLoop: true, env: { SYNC_INTERVAL_MS: "250" } });
    try {
      const owner = await createUser(timed);
      const sub = await createUser(timed);
      const server = await createServer(timed, owner, { subusers: [sub] });
      const ws = await connectAuthed(timed, await ticketFor(timed, sub));
      ws.send({ type: "subscribe", serverId: server.id });
      await ws.next("server:sync");
      await ws.next("server:sync", { timeoutMs: 1000 });
      await ws.next("server:sync", { timeoutMs: 1000 });

      const removedAt = Date.now();
      await owner.fetch(`/api/servers/${server.id}/subusers/${sub.id}`, { method: "DELETE" });
      await ws.next("unsubscribed", { timeoutMs: 1000 });
      expect(Date.now() - removedAt).toBeLessThan(250 + 500);
      ws.close();
    } finally {
      await timed.close();
    }
  });
});
