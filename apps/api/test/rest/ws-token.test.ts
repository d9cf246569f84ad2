import { redeemedWsTicket } from "@panel/db";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningServer } from "../../src/server.ts";
import { createUser, request } from "../support/factories.ts";
import { startTestServer } from "../support/server.ts";
import { connectAuthed } from "../support/ws-client.ts";
import { anonymous, bogusCookie, call } from "./support.ts";

let srv: RunningServer;
beforeAll(async () => {
  srv = await startTestServer();
});
afterAll(() => srv.close());

const UNAUTHORIZED = { error: "Unauthorized" };

describe("GET /api/ws/token", () => {
  it("mints a ticket for a signed-in session", async () => {
    const user = await createUser(srv);
    const res = await call(user.fetch("/api/ws/token"));
    expect(res.status).toBe(200);
    expect(Object.keys(res.body)).toEqual(["token", "userId"]);
    expect(res.body.userId).toBe(user.id);
    expect(res.body.token).toEqual(expect.any(String));
    expect(res.body.token.length).toBeGreaterThanOrEqual(32);
    // never the session token itself
    const sessionToken = decodeURIComponent(user.cookie.split("=")[1] ?? "").split(".")[0];
    expect(res.body.token).not.toContain(sessionToken);
    expect(res.headers.get("cache-control")).toBe("no-store");
  });

  it("mints a different ticket every time, stored only as a hash", async () => {
    const user = await createUser(srv);
    const a = await call(user.fetch("/api/ws/token"));
    const b = await call(user.fetch("/api/ws/token"));
    expect(a.body.token).not.toBe(b.body.token);
    for (const token of [a.body.token, b.body.token]) (await connectAuthed(srv, token)).close();
    const rows = await srv.db.select().from(redeemedWsTicket);
    const stored = JSON.stringify(rows);
    expect(stored).not.toContain(a.body.token);
    expect(stored).not.toContain(b.body.token);
  });

  it("the ticket authenticates exactly one WebSocket as that user", async () => {
    const user = await createUser(srv);
    const { body } = await call(user.fetch("/api/ws/token"));
    const ws = await connectAuthed(srv, body.token);
    ws.close();
    await expect(connectAuthed(srv, body.token)).rejects.toThrow(/auth_error/);
  });

  it("is 401 without a session", async () => {
    const res = await call(anonymous(srv, "/api/ws/token"));
    expect(res.status).toBe(401);
    expect(res.body).toEqual(UNAUTHORIZED);
  });

  it("is 401 with a bogus session cookie", async () => {
    const res = await call(bogusCookie(srv, "/api/ws/token"));
    expect(res.status).toBe(401);
    expect(res.body).toEqual(UNAUTHORIZED);
  });

  it("is 401 after signing out", async () => {
    const user = await createUser(srv);
    const out = await user.fetch("/api/auth/sign-out", {
      method: "POST",
      body: "{}",
      headers: { "content-type": "application/json" },
    });
    expect(out.status).toBe(200);
    const res = await call(user.fetch("/api/ws/token"));
    expect(res.status).toBe(401);
    expect(res.body).toEqual(UNAUTHORIZED);
  });

  it("accepts an API key in x-api-key", async () => {
    const user = await createUser(srv);
    const created = await srv.auth.api.createApiKey({ body: { userId: user.id, name: "script" } });
    expect(created.key).toEqual(expect.any(String));
    const res = await call(request(srv, "/api/ws/token", {}, { "x-api-key": created.key }));
    expect(res.status).toBe(200);
    expect(res.body.userId).toBe(user.id);
    expect(res.body.token).toEqual(expect.any(String));
    expect(res.body.token).not.toBe(created.key);
    const ws = await connectAuthed(srv, res.body.token);
    ws.close();
  });

  it("is 401 with an unknown API key", async () => {
    const res = await call(request(srv, "/api/ws/token", {}, { "x-api-key": "not-a-real-key-0123456789" }));
    expect(res.status).toBe(401);
    expect(res.body).toEqual(UNAUTHORIZED);
  });

  it("is 401 with a disabled API key", async () => {
    const user = await createUser(srv);
    const created = await srv.auth.api.createApiKey({ body: { userId: user.id, name: "script" } });
    await srv.auth.api.updateApiKey({ body: { keyId: created.id, userId: user.id, enabled: false } });
    const res = await call(request(srv, "/api/ws/token", {}, { "x-api-key": created.key }));
    expect(res.status).toBe(401);
    expect(res.body).toEqual(UNAUTHORIZED);
  });
});
