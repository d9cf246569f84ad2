import { allocations, servers, user } from "@panel/db";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningServer } from "../../src/server.ts";
import { createServer, createUser, request, type TestUser } from "../support/factories.ts";
import { startTestServer } from "../support/server.ts";
import { anonymous, bogusCookie, call, expectServerShape } from "./support.ts";

let srv: RunningServer;
let admin: TestUser;
beforeAll(async () => {
  srv = await startTestServer();
  admin = await createUser(srv, { admin: true });
});
afterAll(() => srv.close());

const UNAUTHORIZED = { error: "Unauthorized" };
const NOT_FOUND = { error: "Server not found" };

describe("GET /api/servers", () => {
  it("lists exactly the servers the caller owns or is a subuser of", async () => {
    const me = await createUser(srv);
    const other = await createUser(srv);
    const owned1 = await createServer(srv, me);
    const owned2 = await createServer(srv, me, { status: "stopped" });
    const shared = await createServer(srv, other, { subusers: [me] });
    await createServer(srv, other); // not mine
    await createServer(srv, other, { subusers: [admin] }); // someone else's subuser entry

    const res = await call(me.fetch("/api/servers"));
    expect(res.status).toBe(200);
    expect(Object.keys(res.body)).toEqual(["data"]);
    const ids = res.body.data.map((s: { id: string }) => s.id);
    expect(ids.sort()).toEqual([owned1.id, owned2.id, shared.id].sort());
    for (const s of res.body.data) expectServerShape(s);

    const theirs = await call(other.fetch("/api/servers"));
    expect(theirs.body.data).toHaveLength(3);
    expect(theirs.body.data.map((s: { id: string }) => s.id)).not.toContain(owned1.id);
  });

  it("is an empty list for a user with no servers", async () => {
    const loner = await createUser(srv);
    const res = await call(loner.fetch("/api/servers"));
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ data: [] });
  });

  it("does not list every server for an admin, only their own", async () => {
    const anAdmin = await createUser(srv, { admin: true });
    const someone = await createUser(srv);
    await createServer(srv, someone);
    const mine = await createServer(srv, anAdmin);
    const res = await call(anAdmin.fetch("/api/servers"));
    expect(res.body.data.map((s: { id: string }) => s.id)).toEqual([mine.id]);
  });

  it("is 401 without a session and with a bogus cookie", async () => {
    for (const res of [
      await call(anonymous(srv, "/api/servers")),
      await call(bogusCookie(srv, "/api/servers")),
    ]) {
      expect(res.status).toBe(401);
      expect(res.body).toEqual(UNAUTHORIZED);
    }
  });

  it("is 401 for a banned user's live session, and again once the ban expires", async () => {
    const me = await createUser(srv);
    await createServer(srv, me);
    await srv.db.update(user).set({ banned: true }).where(eq(user.id, me.id));
    const res = await call(me.fetch("/api/servers"));
    expect(res.status).toBe(401);
    expect(res.body).toEqual(UNAUTHORIZED);
    await srv.db
      .update(user)
      .set({ banExpires: new Date(Date.now() - 1000) })
      .where(eq(user.id, me.id));
    expect((await me.fetch("/api/servers")).status).toBe(200);
  });

  it("works with an API key", async () => {
    const me = await createUser(srv);
    const mine = await createServer(srv, me);
    const { key } = await srv.auth.api.createApiKey({ body: { userId: me.id, name: "script" } });
    const res = await call(request(srv, "/api/servers", {}, { "x-api-key": key }));
    expect(res.status).toBe(200);
    expect(res.body.data.map((s: { id: string }) => s.id)).toEqual([mine.id]);
  });
});

describe("GET /api/servers/:id", () => {
  it("returns the exact documented server object to the owner", async () => {
    const owner = await createUser(srv);
    const created = await createServer(srv, owner, { name: "my-server", status: "running" });
    const [alloc] = await srv.db.select().from(allocations).where(eq(allocations.serverId, created.id));
    const [row] = await srv.db.select().from(servers).where(eq(servers.id, created.id));

    const res = await call(owner.fetch(`/api/servers/${created.id}`));
    expect(res.status).toBe(200);
    const s = expectServerShape(res.body);
    expect(res.body).toEqual({
      id: created.id,
      shortId: created.shortId,
      name: "my-server",
      status: "running",
      suspended: false,
      containerId: null,
      memory: 2048,
      disk: 10240,
      cpu: 100,
      cpuPinning: null,
      swap: 0,
      oomKillDisable: false,
      backupLimit: 0,
      nodeId: created.nodeId,
      blueprintId: created.blueprintId,
      ownerId: owner.id,
      createdAt: row?.createdAt.toISOString(),
      updatedAt: row?.updatedAt.toISOString(),
      node: {
        id: created.nodeId,
        shortId: created.nodeId.slice("node_".length),
        displayName: s.node.displayName,
        host: `${created.nodeId.slice("node_".length)}.nodes.test`,
        port: 443,
        protocol: "https",
        sftpPort: 2022,
        isOnline: true,
        fqdn: `${created.nodeId.slice("node_".length)}.nodes.test`,
        daemonPort: 8080,
        location: { id: expect.stringMatching(/^loc_/), name: expect.stringMatching(/^Location /) },
      },
      allocations: [{ id: alloc?.id, ip: "0.0.0.0", port: alloc?.port, isPrimary: true }],
      blueprint: { id: created.blueprintId, name: "Minecraft Java" },
    });
    expect(alloc?.id).toMatch(/^alloc_/);
  });

  it("is readable by a subuser and by an admin, identically", async () => {
    const owner = await createUser(srv);
    const sub = await createUser(srv);
    const created = await createServer(srv, owner, { subusers: [sub] });
    const byOwner = await call(owner.fetch(`/api/servers/${created.id}`));
    const bySub = await call(sub.fetch(`/api/servers/${created.id}`));
    const byAdmin = await call(admin.fetch(`/api/servers/${created.id}`));
    expect(bySub.status).toBe(200);
    expect(byAdmin.status).toBe(200);
    expect(bySub.body).toEqual(byOwner.body);
    expect(byAdmin.body).toEqual(byOwner.body);
  });

  it("gives another user's server the same 404 as a missing one", async () => {
    const owner = await createUser(srv);
    const stranger = await createUser(srv);
    const created = await createServer(srv, owner);
    const hidden = await call(stranger.fetch(`/api/servers/${created.id}`));
    const missing = await call(stranger.fetch("/api/servers/srv_doesnotexist"));
    expect(hidden.status).toBe(404);
    expect(missing.status).toBe(404);
    expect(hidden.body).toEqual(NOT_FOUND);
    expect(missing.body).toEqual(hidden.body);
    // even for an admin a missing id is 404
    const adminMissing = await call(admin.fetch("/api/servers/srv_doesnotexist"));
    expect(adminMissing.status).toBe(404);
    expect(adminMissing.body).toEqual(NOT_FOUND);
  });

  it("is 401 without a session and with a bogus cookie", async () => {
    const owner = await createUser(srv);
    const created = await createServer(srv, owner);
    for (const res of [
      await call(anonymous(srv, `/api/servers/${created.id}`)),
      await call(bogusCookie(srv, `/api/servers/${created.id}`)),
    ]) {
      expect(res.status).toBe(401);
      expect(res.body).toEqual(UNAUTHORIZED);
    }
  });

  it("lists allocations primary first", async () => {
    const owner = await createUser(srv);
    const created = await createServer(srv, owner);
    await srv.db.insert(allocations).values({
      id: `alloc_extra${created.shortId}`,
      nodeId: created.nodeId,
      serverId: created.id,
      ip: "0.0.0.0",
      port: 1,
      isPrimary: false,
    });
    const res = await call(owner.fetch(`/api/servers/${created.id}`));
    expect(res.body.allocations).toHaveLength(2);
    expect(res.body.allocations.map((a: { isPrimary: boolean }) => a.isPrimary)).toEqual([true, false]);
  });
});
