import { apikey } from "@panel/db";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningServer } from "../../src/server.ts";
import { createUser, request, type TestUser } from "../support/factories.ts";
import { startTestServer } from "../support/server.ts";
import { call, createKey, json, withKey } from "./support.ts";

let srv: RunningServer;
let user: TestUser;
beforeAll(async () => {
  srv = await startTestServer();
  user = await createUser(srv);
});
afterAll(() => srv.close());

const SESSION_ONLY = {
  error: "API keys can only be managed with a signed-in session, not with an API key",
};

describe("POST /api/api-keys", () => {
  it("creates a key and shows its secret once", async () => {
    const before = Date.now();
    const res = await call(user.fetch("/api/api-keys", json("POST", { name: "  backups  " })));
    expect(res.status).toBe(201);
    expect(res.headers.get("cache-control")).toBe("no-store");
    expect(Object.keys(res.body).sort()).toEqual(
      ["createdAt", "expiresAt", "id", "key", "name", "prefix", "readOnly", "start"].sort(),
    );
    expect(res.body).toMatchObject({ name: "backups", readOnly: false, expiresAt: null, prefix: "pnl_" });
    expect(res.body.key).toMatch(/^pnl_[A-Za-z]{64}$/);
    expect(res.body.start).toBe(res.body.key.slice(0, 10));
    expect(new Date(res.body.createdAt).getTime()).toBeGreaterThanOrEqual(before - 1000);
    // stored hashed, never in clear
    const [row] = await srv.db.select().from(apikey).where(eq(apikey.id, res.body.id));
    expect(row?.key).not.toContain(res.body.key.slice(4));
    expect(row?.referenceId).toBe(user.id);
  });

  it("creates read-only and expiring keys", async () => {
    const created = await createKey(user, { name: "ro", readOnly: true, expiresInDays: 30 });
    expect(created.readOnly).toBe(true);
    const days = (new Date(created.expiresAt ?? 0).getTime() - Date.now()) / 86_400_000;
    expect(days).toBeGreaterThan(29.9);
    expect(days).toBeLessThanOrEqual(30);
  });

  it.each([
    [{}, "name"],
    [{ name: "" }, "name"],
    [{ name: "   " }, "name"],
    [{ name: "x".repeat(33) }, "name"],
    [{ name: 42 }, "name"],
    [{ name: "a", readOnly: "yes" }, "readOnly"],
    [{ name: "a", expiresInDays: 0 }, "expiresInDays"],
    [{ name: "a", expiresInDays: 366 }, "expiresInDays"],
    [{ name: "a", expiresInDays: 1.5 }, "expiresInDays"],
    [{ name: "a", permissions: { panel: ["write"] } }, "permissions"],
    [[], "body"],
  ])("400 for %j naming %s", async (body, field) => {
    const res = await call(user.fetch("/api/api-keys", json("POST", body)));
    expect(res.status).toBe(400);
    expect(res.body.field).toBe(field);
    expect(res.body.error).toEqual(expect.any(String));
  });

  it("400 for a body that is not JSON", async () => {
    const res = await call(user.fetch("/api/api-keys", json("POST", "{nope")));
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ error: "Request body must be valid JSON", field: "body" });
  });

  it("401 without a session", async () => {
    const res = await call(request(srv, "/api/api-keys", json("POST", { name: "x" })));
    expect(res).toMatchObject({ status: 401, body: { error: "Unauthorized" } });
  });

  it("403 with an API key, even a full one: keys cannot mint keys", async () => {
    const { key } = await createKey(user);
    const res = await call(withKey(srv, key, "/api/api-keys", json("POST", { name: "child" })));
    expect(res).toMatchObject({ status: 403, body: SESSION_ONLY });
  });
});

describe("GET /api/api-keys", () => {
  it("lists the caller's keys, newest first, never the secret", async () => {
    const me = await createUser(srv);
    const other = await createUser(srv);
    await createKey(other, { name: "not mine" });
    const first = await createKey(me, { name: "first" });
    const second = await createKey(me, { name: "second", readOnly: true, expiresInDays: 7 });
    const res = await call(me.fetch("/api/api-keys"));
    expect(res.status).toBe(200);
    expect(res.body.data.map((k: { id: string }) => k.id)).toEqual([second.id, first.id]);
    expect(res.body.data[0]).toEqual({
      id: second.id,
      name: "second",
      start: second.start,
      prefix: "pnl_",
      readOnly: true,
      lastUsedAt: null,
      createdAt: second.createdAt,
      expiresAt: second.expiresAt,
      enabled: true,
    });
    expect(JSON.stringify(res.body)).not.toContain(first.key);
    expect(JSON.stringify(res.body)).not.toContain(second.key);
  });

  it("shows when a key was last used", async () => {
    const me = await createUser(srv);
    const created = await createKey(me);
    expect((await withKey(srv, created.key, "/api/servers")).status).toBe(200);
    const res = await call(me.fetch("/api/api-keys"));
    const lastUsed = new Date(res.body.data[0].lastUsedAt).getTime();
    expect(Date.now() - lastUsed).toBeLessThan(10_000);
  });

  it("401 anonymous, 403 with an API key", async () => {
    expect((await call(request(srv, "/api/api-keys"))).status).toBe(401);
    const { key } = await createKey(user);
    expect(await call(withKey(srv, key, "/api/api-keys"))).toMatchObject({ status: 403, body: SESSION_ONLY });
  });
});

describe("DELETE /api/api-keys/:id", () => {
  it("revokes the key: 204, gone from the list, refused from then on", async () => {
    const me = await createUser(srv);
    const created = await createKey(me);
    expect((await withKey(srv, created.key, "/api/servers")).status).toBe(200);
    const res = await me.fetch(`/api/api-keys/${created.id}`, { method: "DELETE" });
    expect(res.status).toBe(204);
    expect((await call(me.fetch("/api/api-keys"))).body.data).toEqual([]);
    expect(await call(withKey(srv, created.key, "/api/servers"))).toMatchObject({
      status: 401,
      body: { error: "Unauthorized" },
    });
    expect((await call(me.fetch(`/api/api-keys/${created.id}`, { method: "DELETE" }))).status).toBe(404);
  });

  it("404 for another user's key (and leaves it alone), even for an admin", async () => {
    const owner = await createUser(srv);
    const created = await createKey(owner);
    for (const caller of [await createUser(srv), await createUser(srv, { admin: true })]) {
      const res = await call(caller.fetch(`/api/api-keys/${created.id}`, { method: "DELETE" }));
      expect(res).toMatchObject({ status: 404, body: { error: "API key not found" } });
    }
    expect((await withKey(srv, created.key, "/api/servers")).status).toBe(200);
  });

  it("404 for an unknown id, 401 anonymous, 403 with an API key (even its own)", async () => {
    expect((await call(user.fetch("/api/api-keys/nope", { method: "DELETE" }))).status).toBe(404);
    const created = await createKey(user);
    const path = `/api/api-keys/${created.id}`;
    expect((await call(request(srv, path, { method: "DELETE" }))).status).toBe(401);
    const res = await call(withKey(srv, created.key, path, { method: "DELETE" }));
    expect(res).toMatchObject({ status: 403, body: SESSION_ONLY });
  });
});
