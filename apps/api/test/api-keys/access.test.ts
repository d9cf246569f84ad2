import { apikey, servers } from "@panel/db";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningServer } from "../../src/server.ts";
import { createServer, createUser, type TestUser } from "../support/factories.ts";
import { startTestServer } from "../support/server.ts";
import { connectAuthed } from "../support/ws-client.ts";
import { call, createKey, json, keyTicket, withKey } from "./support.ts";

let srv: RunningServer;
let admin: TestUser;
beforeAll(async () => {
  srv = await startTestServer();
  admin = await createUser(srv, { admin: true });
});
afterAll(() => srv.close());

const READ_ONLY = { error: "This API key is read-only" };
const UNAUTHORIZED = { error: "Unauthorized" };

describe("an API key acts with its owner's rights", () => {
  it("on GET /api/servers and GET /api/servers/:id", async () => {
    const me = await createUser(srv);
    const other = await createUser(srv);
    const mine = await createServer(srv, me);
    const shared = await createServer(srv, other, { subusers: [me] });
    const theirs = await createServer(srv, other);
    const { key } = await createKey(me);

    const list = await call(withKey(srv, key, "/api/servers"));
    expect(list.status).toBe(200);
    expect(list.body.data.map((s: { id: string }) => s.id).sort()).toEqual([mine.id, shared.id].sort());
    expect(list.body).toEqual(await call(me.fetch("/api/servers")).then((r) => r.body));

    const one = await call(withKey(srv, key, `/api/servers/${mine.id}`));
    expect(one.status).toBe(200);
    expect(one.body.id).toBe(mine.id);
    expect((await call(withKey(srv, key, `/api/servers/${theirs.id}`))).status).toBe(404);
  });

  it("on GET /api/ws/token: the ticket authenticates a socket as the owner", async () => {
    const me = await createUser(srv);
    const { key } = await createKey(me);
    const res = await call(withKey(srv, key, "/api/ws/token"));
    expect(res.status).toBe(200);
    expect(res.body.userId).toBe(me.id);
    const ws = await connectAuthed(srv, res.body.token);
    ws.close();
  });

  it("wins over a session cookie sent with it", async () => {
    const me = await createUser(srv);
    const other = await createUser(srv);
    const { key } = await createKey(other);
    const res = await call(withKey(srv, key, "/api/ws/token", { headers: { cookie: me.cookie } }));
    expect(res.body.userId).toBe(other.id);
  });

  it("on admin routes only for an admin's key", async () => {
    const adminKey = await createKey(admin);
    const userKey = await createKey(await createUser(srv));
    const list = await call(withKey(srv, adminKey.key, "/api/admin/servers"));
    expect(list.status).toBe(200);
    expect(list.body.data).toEqual(expect.any(Array));
    const denied = await call(withKey(srv, userKey.key, "/api/admin/servers"));
    expect(denied).toMatchObject({ status: 403, body: { error: "Admin access required" } });
  });

  it("a full key may write what its owner may (admin PATCH, owner adds a subuser)", async () => {
    const owner = await createUser(srv);
    const friend = await createUser(srv);
    const server = await createServer(srv, owner, { status: "running" });
    const adminKey = await createKey(admin);
    const patched = await call(
      withKey(srv, adminKey.key, `/api/admin/servers/${server.id}`, json("PATCH", { status: "stopped" })),
    );
    expect(patched.status).toBe(200);
    expect(patched.body.status).toBe("stopped");

    const ownerKey = await createKey(owner);
    const added = await call(
      withKey(srv, ownerKey.key, `/api/servers/${server.id}/subusers`, json("POST", { email: friend.email })),
    );
    expect(added).toMatchObject({ status: 201, body: { userId: friend.id } });
  });
});

describe("a read-only key", () => {
  it("reads like its owner", async () => {
    const me = await createUser(srv);
    const server = await createServer(srv, me);
    const { key } = await createKey(me, { readOnly: true });
    expect((await call(withKey(srv, key, "/api/servers"))).body.data).toHaveLength(1);
    expect((await call(withKey(srv, key, `/api/servers/${server.id}`))).status).toBe(200);
    const ws = await connectAuthed(srv, await keyTicket(srv, key));
    ws.send({ type: "subscribe", serverId: server.id });
    expect(await ws.next("subscribed")).toEqual({ type: "subscribed", serverId: server.id });
    ws.close();
  });

  it("gets 403 on every write, and nothing is written", async () => {
    const owner = await createUser(srv);
    const friend = await createUser(srv);
    const server = await createServer(srv, owner, { status: "running", subusers: [friend] });
    const ownerKey = await createKey(owner, { readOnly: true });
    const adminKey = await createKey(admin, { readOnly: true });
    const attempts: [string, string, RequestInit][] = [
      [ownerKey.key, `/api/servers/${server.id}/subusers`, json("POST", { email: admin.email })],
      [ownerKey.key, `/api/servers/${server.id}/subusers/${friend.id}`, { method: "DELETE" }],
      [adminKey.key, `/api/admin/servers/${server.id}`, json("PATCH", { status: "stopped" })],
      [adminKey.key, `/api/admin/servers/${server.id}`, { method: "DELETE" }],
      [adminKey.key, "/api/admin/locations", json("POST", { name: "Nowhere" })],
      // even an invalid body: the key is refused before anything is looked at
      [adminKey.key, "/api/admin/locations", json("POST", "{nope")],
    ];
    for (const [key, path, init] of attempts) {
      expect(await call(withKey(srv, key, path, init)), `${init.method} ${path}`).toMatchObject({
        status: 403,
        body: READ_ONLY,
      });
    }
    const [row] = await srv.db.select().from(servers).where(eq(servers.id, server.id));
    expect(row?.status).toBe("running");
    expect((await call(withKey(srv, ownerKey.key, `/api/servers/${server.id}`))).status).toBe(200);
    // an admin's read-only key still reads the admin API
    expect((await call(withKey(srv, adminKey.key, "/api/admin/servers"))).status).toBe(200);
  });

  it("is stored as plugin permissions the owner cannot widen", async () => {
    const me = await createUser(srv);
    const ro = await createKey(me, { readOnly: true });
    const full = await createKey(me);
    const rows = await srv.db.select({ id: apikey.id, permissions: apikey.permissions }).from(apikey);
    const byId = new Map(rows.map((r) => [r.id, JSON.parse(r.permissions ?? "null")]));
    expect(byId.get(ro.id)).toEqual({ panel: ["read"] });
    expect(byId.get(full.id)).toEqual({ panel: ["read", "write"] });
    // the plugin's own update endpoint is not served at all
    const res = await me.fetch(
      "/api/auth/api-key/update",
      json("POST", { keyId: ro.id, permissions: { panel: ["read", "write"] } }),
    );
    expect(res.status).toBe(404);
    const [after] = await srv.db
      .select({ permissions: apikey.permissions })
      .from(apikey)
      .where(eq(apikey.id, ro.id));
    expect(JSON.parse(after?.permissions ?? "null")).toEqual({ panel: ["read"] });
    const res2 = await call(
      withKey(srv, ro.key, `/api/servers/nope/subusers`, json("POST", { email: "a@b.c" })),
    );
    expect(res2).toMatchObject({ status: 403, body: READ_ONLY });
  });
});

describe("keys that are no longer good", () => {
  it("a revoked key is 401 everywhere", async () => {
    const me = await createUser(srv);
    const { id, key } = await createKey(me);
    expect((await me.fetch(`/api/api-keys/${id}`, { method: "DELETE" })).status).toBe(204);
    for (const path of ["/api/servers", "/api/ws/token"]) {
      expect(await call(withKey(srv, key, path))).toMatchObject({ status: 401, body: UNAUTHORIZED });
    }
  });

  it("an expired key is 401", async () => {
    const me = await createUser(srv);
    const { id, key } = await createKey(me, { expiresInDays: 1 });
    await srv.db
      .update(apikey)
      .set({ expiresAt: new Date(Date.now() - 1000) })
      .where(eq(apikey.id, id));
    expect(await call(withKey(srv, key, "/api/ws/token"))).toMatchObject({ status: 401, body: UNAUTHORIZED });
  });

  it("a key of a banned user is 401", async () => {
    const me = await createUser(srv);
    const { key } = await createKey(me);
    await srv.auth.api.banUser({ body: { userId: me.id }, headers: new Headers({ cookie: admin.cookie }) });
    expect(await call(withKey(srv, key, "/api/servers"))).toMatchObject({ status: 401, body: UNAUTHORIZED });
  });

  it("a made-up key is 401", async () => {
    const res = await call(withKey(srv, "pnl_notakeynotakeynotakey", "/api/servers"));
    expect(res).toMatchObject({ status: 401, body: UNAUTHORIZED });
  });
});

describe("rate limit", () => {
  it("429 once a key is over its limit; other keys are unaffected", async () => {
    const limited = await startTestServer({
      env: { API_KEY_RATE_LIMIT_MAX: "3", API_KEY_RATE_LIMIT_WINDOW_MS: "60000" },
    });
    try {
      const me = await createUser(limited);
      const { key } = await createKey(me);
      const other = await createKey(me);
      for (let i = 0; i < 3; i++) expect((await withKey(limited, key, "/api/servers")).status).toBe(200);
      const over = await call(withKey(limited, key, "/api/servers"));
      expect(over).toMatchObject({ status: 429, body: { error: "API key rate limit exceeded" } });
      expect((await call(withKey(limited, key, "/api/ws/token"))).status).toBe(429);
      expect((await withKey(limited, other.key, "/api/servers")).status).toBe(200);
      // the session is not rate limited by the key's limit
      expect((await me.fetch("/api/servers")).status).toBe(200);
    } finally {
      await limited.close();
    }
  });

  it("defaults to 600 requests a minute per key", async () => {
    const { id } = await createKey(await createUser(srv));
    const [row] = await srv.db.select().from(apikey).where(eq(apikey.id, id));
    expect(row).toMatchObject({ rateLimitEnabled: true, rateLimitMax: 600, rateLimitTimeWindow: 60_000 });
  });
});
