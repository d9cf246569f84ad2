import { serverSubusers } from "@panel/db";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningServer } from "../../src/server.ts";
import { createServer, createUser, request, type TestUser } from "../support/factories.ts";
import { startTestServer } from "../support/server.ts";
import { anonymous, bogusCookie, call, json } from "./support.ts";

let srv: RunningServer;
let admin: TestUser;
beforeAll(async () => {
  srv = await startTestServer();
  admin = await createUser(srv, { admin: true });
});
afterAll(() => srv.close());

const subuserIds = async (serverId: string) =>
  (await srv.db.select().from(serverSubusers).where(eq(serverSubusers.serverId, serverId)))
    .map((r) => r.userId)
    .sort();

const add = (as: TestUser, serverId: string, body: unknown) =>
  call(as.fetch(`/api/servers/${serverId}/subusers`, json("POST", body)));
const remove = (as: TestUser, serverId: string, userId: string) =>
  call(as.fetch(`/api/servers/${serverId}/subusers/${userId}`, { method: "DELETE" }));

const canSee = async (user: TestUser, serverId: string) =>
  (await user.fetch(`/api/servers/${serverId}`)).status === 200;

describe("POST /api/servers/:id/subusers", () => {
  it("lets the owner add a user by email: 201 {userId,email}, and grants access", async () => {
    const owner = await createUser(srv);
    const friend = await createUser(srv);
    const server = await createServer(srv, owner);
    expect(await canSee(friend, server.id)).toBe(false);

    const res = await add(owner, server.id, { email: friend.email });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({ userId: friend.id, email: friend.email });
    expect(Object.keys(res.body)).toEqual(["userId", "email"]);
    expect(await subuserIds(server.id)).toEqual([friend.id]);
    expect(await canSee(friend, server.id)).toBe(true);
    const list = await call(friend.fetch("/api/servers"));
    expect(list.body.data.map((s: { id: string }) => s.id)).toEqual([server.id]);
  });

  it("matches the email case-insensitively", async () => {
    const owner = await createUser(srv);
    const friend = await createUser(srv);
    const server = await createServer(srv, owner);
    const res = await add(owner, server.id, { email: friend.email.toUpperCase() });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({ userId: friend.id, email: friend.email });
  });

  it("lets an admin add a subuser to someone else's server", async () => {
    const owner = await createUser(srv);
    const friend = await createUser(srv);
    const server = await createServer(srv, owner);
    const res = await add(admin, server.id, { email: friend.email });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({ userId: friend.id, email: friend.email });
    expect(await subuserIds(server.id)).toEqual([friend.id]);
  });

  it("is 403 for a subuser adding someone else", async () => {
    const owner = await createUser(srv);
    const sub = await createUser(srv);
    const third = await createUser(srv);
    const server = await createServer(srv, owner, { subusers: [sub] });
    const res = await add(sub, server.id, { email: third.email });
    expect(res.status).toBe(403);
    expect(res.body).toEqual({ error: expect.any(String) });
    expect(await subuserIds(server.id)).toEqual([sub.id]);
  });

  it("is 404 for a stranger, the same as for a missing server", async () => {
    const owner = await createUser(srv);
    const stranger = await createUser(srv);
    const server = await createServer(srv, owner);
    const hidden = await add(stranger, server.id, { email: stranger.email });
    const missing = await add(stranger, "srv_doesnotexist", { email: stranger.email });
    expect(hidden.status).toBe(404);
    expect(hidden.body).toEqual({ error: "Server not found" });
    expect(missing.status).toBe(404);
    expect(missing.body).toEqual(hidden.body);
    expect(await subuserIds(server.id)).toEqual([]);
  });

  it("is 404 naming email for an unknown email", async () => {
    const owner = await createUser(srv);
    const server = await createServer(srv, owner);
    const res = await add(owner, server.id, { email: "nobody-here@test.local" });
    expect(res.status).toBe(404);
    expect(res.body).toEqual({ error: expect.any(String), field: "email" });
  });

  it("is 409 for a user who already is a subuser", async () => {
    const owner = await createUser(srv);
    const friend = await createUser(srv);
    const server = await createServer(srv, owner, { subusers: [friend] });
    const res = await add(owner, server.id, { email: friend.email });
    expect(res.status).toBe(409);
    expect(res.body).toEqual({ error: expect.any(String), field: "email" });
    expect(await subuserIds(server.id)).toEqual([friend.id]);
  });

  it("is 400 naming email for the owner themself", async () => {
    const owner = await createUser(srv);
    const server = await createServer(srv, owner);
    const res = await add(owner, server.id, { email: owner.email });
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ error: expect.any(String), field: "email" });
    expect(await subuserIds(server.id)).toEqual([]);
  });

  it("is 400 naming email for a missing, non-string or malformed email", async () => {
    const owner = await createUser(srv);
    const server = await createServer(srv, owner);
    for (const body of [{}, { email: 42 }, { email: "not-an-email" }, { email: null }]) {
      const res = await add(owner, server.id, body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body).toEqual({ error: expect.any(String), field: "email" });
    }
  });

  it("is 400 for a body that is not JSON or not an object", async () => {
    const owner = await createUser(srv);
    const server = await createServer(srv, owner);
    for (const body of ["{not json", "", "[]", "null"]) {
      const res = await add(owner, server.id, body);
      expect(res.status, body).toBe(400);
      expect(res.body).toEqual({ error: expect.any(String), field: expect.any(String) });
    }
    expect(await subuserIds(server.id)).toEqual([]);
  });

  it("is 401 without a session and with a bogus cookie", async () => {
    const owner = await createUser(srv);
    const server = await createServer(srv, owner);
    for (const send of [anonymous, bogusCookie]) {
      const res = await call(
        send(srv, `/api/servers/${server.id}/subusers`, json("POST", { email: owner.email })),
      );
      expect(res.status).toBe(401);
      expect(res.body).toEqual({ error: "Unauthorized" });
    }
  });
});

describe("DELETE /api/servers/:id/subusers/:userId", () => {
  it("lets the owner remove a subuser: 204, and access is gone", async () => {
    const owner = await createUser(srv);
    const sub = await createUser(srv);
    const keep = await createUser(srv);
    const server = await createServer(srv, owner, { subusers: [sub, keep] });
    const res = await owner.fetch(`/api/servers/${server.id}/subusers/${sub.id}`, { method: "DELETE" });
    expect(res.status).toBe(204);
    expect(await res.text()).toBe("");
    expect(await subuserIds(server.id)).toEqual([keep.id]);
    expect(await canSee(sub, server.id)).toBe(false);
    expect(await canSee(keep, server.id)).toBe(true);
  });

  it("lets an admin remove a subuser", async () => {
    const owner = await createUser(srv);
    const sub = await createUser(srv);
    const server = await createServer(srv, owner, { subusers: [sub] });
    const res = await remove(admin, server.id, sub.id);
    expect(res.status).toBe(204);
    expect(await subuserIds(server.id)).toEqual([]);
  });

  it("lets a subuser remove themself", async () => {
    const owner = await createUser(srv);
    const sub = await createUser(srv);
    const server = await createServer(srv, owner, { subusers: [sub] });
    const res = await remove(sub, server.id, sub.id);
    expect(res.status).toBe(204);
    expect(await subuserIds(server.id)).toEqual([]);
    expect(await canSee(sub, server.id)).toBe(false);
    // and then it is gone for them: 404
    const again = await remove(sub, server.id, sub.id);
    expect(again.status).toBe(404);
    expect(again.body).toEqual({ error: "Server not found" });
  });

  it("is 403 for a subuser removing another subuser", async () => {
    const owner = await createUser(srv);
    const a = await createUser(srv);
    const b = await createUser(srv);
    const server = await createServer(srv, owner, { subusers: [a, b] });
    const res = await remove(a, server.id, b.id);
    expect(res.status).toBe(403);
    expect(res.body).toEqual({ error: expect.any(String) });
    expect(await subuserIds(server.id)).toEqual([a.id, b.id].sort());
  });

  it("is 404 for a stranger and for a missing server", async () => {
    const owner = await createUser(srv);
    const sub = await createUser(srv);
    const stranger = await createUser(srv);
    const server = await createServer(srv, owner, { subusers: [sub] });
    const hidden = await remove(stranger, server.id, sub.id);
    const missing = await remove(stranger, "srv_doesnotexist", sub.id);
    expect(hidden.status).toBe(404);
    expect(hidden.body).toEqual({ error: "Server not found" });
    expect(missing.body).toEqual(hidden.body);
    expect(await subuserIds(server.id)).toEqual([sub.id]);
  });

  it("is 404 for a user who is not a subuser", async () => {
    const owner = await createUser(srv);
    const notSub = await createUser(srv);
    const server = await createServer(srv, owner);
    for (const userId of [notSub.id, "user_doesnotexist", owner.id]) {
      const res = await remove(owner, server.id, userId);
      expect(res.status).toBe(404);
      expect(res.body).toEqual({ error: expect.any(String) });
    }
  });

  it("is 401 without a session and with a bogus cookie", async () => {
    const owner = await createUser(srv);
    const sub = await createUser(srv);
    const server = await createServer(srv, owner, { subusers: [sub] });
    for (const send of [anonymous, bogusCookie]) {
      const res = await call(send(srv, `/api/servers/${server.id}/subusers/${sub.id}`, { method: "DELETE" }));
      expect(res.status).toBe(401);
      expect(res.body).toEqual({ error: "Unauthorized" });
    }
    expect(await subuserIds(server.id)).toEqual([sub.id]);
  });
});

describe("subuser routes with an API key", () => {
  it("count each request once against the key's rate limit", async () => {
    // a dedicated server with a tiny per-key limit: 4 requests per window
    const limited = await startTestServer({ env: { API_KEY_RATE_LIMIT_MAX: "4" } });
    try {
      const owner = await createUser(limited);
      const friend = await createUser(limited);
      const server = await createServer(limited, owner);
      const { key } = await limited.auth.api.createApiKey({ body: { userId: owner.id, name: "script" } });
      const withKey = (path: string, init: RequestInit) =>
        call(request(limited, path, init, { "x-api-key": key }));
      const statuses: number[] = [];
      for (let i = 0; i < 2; i++) {
        statuses.push(
          (await withKey(`/api/servers/${server.id}/subusers`, json("POST", { email: friend.email }))).status,
        );
        statuses.push(
          (await withKey(`/api/servers/${server.id}/subusers/${friend.id}`, { method: "DELETE" })).status,
        );
      }
      expect(statuses).toEqual([201, 204, 201, 204]);
      const over = await withKey(`/api/servers/${server.id}/subusers`, json("POST", { email: friend.email }));
      expect(over.status).toBe(429);
      expect(over.body).toEqual({ error: expect.any(String) });
    } finally {
      await limited.close();
    }
  });
});
