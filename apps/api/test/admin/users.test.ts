import { session, user as userTable } from "@panel/db";
import { WS_ERRORS } from "@panel/protocol";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningServer } from "../../src/server.ts";
import { createServer, createUser, signIn, type TestUser, ticketFor } from "../support/factories.ts";
import { startTestServer } from "../support/server.ts";
import { connectAuthed, type TestSocket } from "../support/ws-client.ts";
import { apiKeyOf, auditCount, bad, call, expectAdminOnly, json, lastAudit } from "./support.ts";

let srv: RunningServer;
let admin: TestUser;
let user: TestUser;
beforeAll(async () => {
  srv = await startTestServer();
  admin = await createUser(srv, { admin: true });
  user = await createUser(srv);
});
afterAll(() => srv.close());

const post = (as: { fetch: TestUser["fetch"] }, path: string, body: unknown = {}) =>
  call(as.fetch(path, json("POST", body)));

async function subscribed(who: TestUser, serverId: string): Promise<TestSocket> {
  const ws = await connectAuthed(srv, await ticketFor(srv, who));
  ws.send({ type: "subscribe", serverId });
  await ws.next("subscribed");
  await ws.next("server:sync");
  return ws;
}

async function expectKicked(ws: TestSocket) {
  await srv.sync.tick();
  expect(await ws.next("auth_error")).toEqual({ type: "auth_error", error: WS_ERRORS.invalidSession });
  expect((await ws.closed).code).toBe(4001);
}

describe("admin users: who may call", () => {
  it("is admin-only", async () => {
    const victim = await createUser(srv);
    await expectAdminOnly(srv, user, [
      ["GET", "/api/admin/users"],
      ["GET", `/api/admin/users/${victim.id}`],
      ["POST", `/api/admin/users/${victim.id}/ban`, {}],
      ["POST", `/api/admin/users/${victim.id}/unban`, {}],
      ["POST", `/api/admin/users/${victim.id}/revoke-sessions`, {}],
      ["PATCH", `/api/admin/users/${victim.id}`, { role: "admin" }],
    ]);
    const [row] = await srv.db.select().from(userTable).where(eq(userTable.id, victim.id));
    expect(row).toMatchObject({ role: "user", banned: false });
  });
});

describe("GET /api/admin/users", () => {
  it("lists and searches by email or name with role, ban fields, createdAt and server count", async () => {
    const tag = `find${Date.now().toString(36)}`;
    const someone = await createUser(srv, { label: tag });
    await createServer(srv, someone);
    await createServer(srv, someone);
    const res = await call(admin.fetch(`/api/admin/users?search=${tag}`));
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      data: [
        {
          id: someone.id,
          email: someone.email,
          name: tag,
          role: "user",
          banned: false,
          banReason: null,
          banExpires: null,
          createdAt: expect.any(String),
          serverCount: 2,
        },
      ],
      nextCursor: null,
    });
    const upper = await call(admin.fetch(`/api/admin/users?search=${tag.toUpperCase()}`));
    expect(upper.body.data.map((u: { id: string }) => u.id)).toEqual([someone.id]);
    const one = await call(admin.fetch(`/api/admin/users/${someone.id}`));
    expect(one.body).toEqual(res.body.data[0]);
    expect((await call(admin.fetch("/api/admin/users/user_nope"))).status).toBe(404);
  });

  it("pages newest first with an opaque cursor", async () => {
    const tag = `page${Date.now().toString(36)}`;
    const made: string[] = [];
    for (let i = 0; i < 5; i++) made.push((await createUser(srv, { label: tag })).id);
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res = await call(
        admin.fetch(`/api/admin/users?search=${tag}&limit=2${cursor ? `&cursor=${cursor}` : ""}`),
      );
      seen.push(...res.body.data.map((u: { id: string }) => u.id));
      cursor = res.body.nextCursor;
      pages++;
    } while (cursor && pages < 10);
    expect(pages).toBe(3);
    expect(seen).toEqual([...made].reverse());
    for (const [q, field] of [
      ["limit=101", "limit"],
      ["cursor=abc", "cursor"],
      [`search=${"x".repeat(101)}`, "search"],
    ]) {
      const res = await call(admin.fetch(`/api/admin/users?${q}`));
      expect(res.status, q).toBe(400);
      expect(res.body).toEqual(bad(field!));
    }
  });
});

describe("ban / unban", () => {
  it("bans: user row updated, sessions gone, audited, open sockets closed at the next tick", async () => {
    const victim = await createUser(srv);
    const server = await createServer(srv, victim);
    const ws = await subscribed(victim, server.id);
    const res = await post(admin, `/api/admin/users/${victim.id}/ban`, {
      reason: "cheating",
      expiresInSeconds: 3600,
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id: victim.id, banned: true, banReason: "cheating" });
    const expires = new Date(res.body.banExpires).getTime();
    expect(expires).toBeGreaterThan(Date.now() + 3500_000);
    expect(expires).toBeLessThan(Date.now() + 3700_000);
    expect(await srv.db.select().from(session).where(eq(session.userId, victim.id))).toEqual([]);
    const audit = await lastAudit(srv, "user.ban", victim.id);
    expect(audit).toMatchObject({ actorId: admin.id, targetType: "user" });
    expect(audit.details).toMatchObject({ reason: "cheating", sessionsRevoked: 1 });

    await expectKicked(ws);
    expect((await victim.fetch("/api/servers")).status).toBe(401);
    // better-auth itself refuses the banned user's sign-in
    await expect(signIn(srv, victim.email, victim.password)).rejects.toThrow();

    const unbanned = await post(admin, `/api/admin/users/${victim.id}/unban`);
    expect(unbanned.status).toBe(200);
    expect(unbanned.body).toMatchObject({ banned: false, banReason: null, banExpires: null });
    await lastAudit(srv, "user.unban", victim.id);
    const cookie = await signIn(srv, victim.email, victim.password);
    expect(cookie).toMatch(/^better-auth\.session_token=/);
  });

  it("defaults the reason like the admin plugin does", async () => {
    const victim = await createUser(srv);
    const res = await post(admin, `/api/admin/users/${victim.id}/ban`);
    expect(res.body).toMatchObject({ banned: true, banReason: "No reason", banExpires: null });
  });

  it("an admin cannot ban themself (400); 404 unknown user; 400 bad input; nothing audited", async () => {
    const before = await auditCount(srv, admin.id);
    expect(await post(admin, `/api/admin/users/${admin.id}/ban`)).toMatchObject({
      status: 400,
      body: bad("id"),
    });
    expect((await post(admin, "/api/admin/users/user_nope/ban")).status).toBe(404);
    expect((await post(admin, "/api/admin/users/user_nope/unban")).status).toBe(404);
    expect((await post(admin, "/api/admin/users/user_nope/revoke-sessions")).status).toBe(404);
    for (const [body, field] of [
      [{ expiresInSeconds: 0 }, "expiresInSeconds"],
      [{ expiresInSeconds: "10" }, "expiresInSeconds"],
      [{ reason: "" }, "reason"],
      [{ nope: 1 }, "nope"],
    ] as const) {
      expect(await post(admin, `/api/admin/users/${user.id}/ban`, body)).toMatchObject({
        status: 400,
        body: bad(field),
      });
    }
    const [row] = await srv.db.select().from(userTable).where(eq(userTable.id, admin.id));
    expect(row?.banned).toBe(false);
    expect(await auditCount(srv, admin.id)).toBe(before);
  });

  it("works with an admin's API key", async () => {
    const key = await apiKeyOf(srv, admin);
    const victim = await createUser(srv);
    const res = await post(key, `/api/admin/users/${victim.id}/ban`, { reason: "script" });
    expect(res.status).toBe(200);
    expect(await lastAudit(srv, "user.ban", victim.id)).toMatchObject({
      actorKind: "apiKey",
      apiKeyId: key.keyId,
    });
    // a key cannot ban its own owner either
    expect((await post(key, `/api/admin/users/${admin.id}/ban`)).status).toBe(400);
  });
});

describe("revoke sessions", () => {
  it("ends every session of the user; their sockets close at the next tick", async () => {
    const victim = await createUser(srv);
    const server = await createServer(srv, victim);
    const ws = await subscribed(victim, server.id);
    const res = await post(admin, `/api/admin/users/${victim.id}/revoke-sessions`);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ revoked: 1 });
    expect((await lastAudit(srv, "user.revoke_sessions", victim.id)).details).toEqual({ sessionsRevoked: 1 });
    await expectKicked(ws);
    expect((await victim.fetch("/api/servers")).status).toBe(401);
    // not banned: can sign in again
    await signIn(srv, victim.email, victim.password);
  });
});

describe("PATCH /api/admin/users/:id (role)", () => {
  it("grants and removes admin; a demoted admin's socket loses others' servers at the next tick", async () => {
    const other = await createUser(srv);
    const server = await createServer(srv, other);
    const promoted = await createUser(srv);
    const granted = await call(
      admin.fetch(`/api/admin/users/${promoted.id}`, json("PATCH", { role: "admin" })),
    );
    expect(granted.status).toBe(200);
    expect(granted.body.role).toBe("admin");
    expect((await lastAudit(srv, "user.set_role", promoted.id)).details).toEqual({
      changes: { role: { from: "user", to: "admin" } },
    });
    expect((await promoted.fetch(`/api/servers/${server.id}`)).status).toBe(200);
    const ws = await subscribed(promoted, server.id);

    const demoted = await call(
      admin.fetch(`/api/admin/users/${promoted.id}`, json("PATCH", { role: "user" })),
    );
    expect(demoted.body.role).toBe("user");
    await srv.sync.tick();
    expect(await ws.next("unsubscribed")).toEqual({
      type: "unsubscribed",
      serverId: server.id,
      reason: "access_revoked",
    });
    expect((await promoted.fetch(`/api/servers/${server.id}`)).status).toBe(404);
    expect((await promoted.fetch("/api/admin/users")).status).toBe(403);
    ws.close();
  });

  it("is 400 for other roles or removing one's own admin role; 404 unknown", async () => {
    for (const body of [{ role: "root" }, {}, { role: "admin", name: "x" }]) {
      const res = await call(admin.fetch(`/api/admin/users/${user.id}`, json("PATCH", body)));
      expect(res.status, JSON.stringify(body)).toBe(400);
    }
    expect(
      await call(admin.fetch(`/api/admin/users/${admin.id}`, json("PATCH", { role: "user" }))),
    ).toMatchObject({
      status: 400,
      body: bad("role"),
    });
    expect(
      (await call(admin.fetch("/api/admin/users/user_nope", json("PATCH", { role: "user" })))).status,
    ).toBe(404);
  });
});
