import { createHash } from "node:crypto";
import { redeemedWsTicket } from "@panel/db";
import { WS_ERRORS } from "@panel/protocol";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningServer } from "../../src/server.ts";
import { createServer, createUser, request, ticketFor } from "../support/factories.ts";
import { startTestServer } from "../support/server.ts";
import { connect, connectAuthed } from "../support/ws-client.ts";

let srv: RunningServer;
beforeAll(async () => {
  srv = await startTestServer({ env: { WS_TICKET_TTL_MS: "1500", WS_AUTH_TIMEOUT_MS: "500" } });
});
afterAll(() => srv.close());

describe("WebSocket authentication", () => {
  it("authenticates a session cookie on upgrade, unprompted", async () => {
    const user = await createUser(srv);
    const ws = await connect(srv, { cookie: user.cookie });
    expect(await ws.next()).toEqual({ type: "auth_success", userId: user.id });
    ws.close();
  });

  it("authenticates ?token= once; the same ticket is refused the second time", async () => {
    const user = await createUser(srv);
    const token = await ticketFor(srv, user);
    const first = await connect(srv, { token });
    expect(await first.next()).toEqual({ type: "auth_success", userId: user.id });
    const second = await connect(srv, { token });
    expect(await second.next()).toEqual({ type: "auth_error", error: WS_ERRORS.invalidSession });
    first.close();
    second.close();
  });

  it("authenticates an auth message; a bad ticket gets auth_error and the socket stays usable", async () => {
    const user = await createUser(srv);
    const ws = await connect(srv);
    ws.send({ type: "auth", token: "not-a-ticket" });
    expect(await ws.next()).toEqual({ type: "auth_error", error: WS_ERRORS.invalidSession });
    ws.send({ type: "ping" });
    expect(await ws.next()).toEqual({ type: "pong" });
    ws.send({ type: "auth", token: await ticketFor(srv, user) });
    expect(await ws.next()).toEqual({ type: "auth_success", userId: user.id });
    ws.close();
  });

  it("stores tickets only as a SHA-256 hash, never the session token", async () => {
    const user = await createUser(srv);
    const token = await ticketFor(srv, user);
    const sessionToken = decodeURIComponent(user.cookie.split("=")[1] ?? "").split(".")[0];
    expect(token).not.toBe(sessionToken);
    (await connectAuthed(srv, token)).close();
    const hash = createHash("sha256").update(token).digest("hex");
    const rows = await srv.db.select().from(redeemedWsTicket).where(eq(redeemedWsTicket.tokenHash, hash));
    expect(rows.map((r) => r.tokenHash)).toEqual([hash]);
    const all = JSON.stringify(await srv.db.select().from(redeemedWsTicket));
    expect(all).not.toContain(token);
  });

  it("refuses an expired ticket", async () => {
    const user = await createUser(srv);
    const token = await ticketFor(srv, user);
    await new Promise((r) => setTimeout(r, 1700));
    const ws = await connect(srv, { token });
    expect(await ws.next()).toEqual({ type: "auth_error", error: WS_ERRORS.invalidSession });
    ws.close();
  });

  it("kills unused tickets when their session is revoked (sign-out)", async () => {
    const user = await createUser(srv);
    const token = await ticketFor(srv, user);
    const out = await user.fetch("/api/auth/sign-out", { method: "POST", body: "{}" });
    expect(out.status).toBe(200);
    const ws = await connect(srv, { token });
    expect(await ws.next()).toEqual({ type: "auth_error", error: WS_ERRORS.invalidSession });
    ws.close();
  });

  it("refuses subscribe before authentication", async () => {
    const ws = await connect(srv);
    ws.send({ type: "subscribe", serverId: "srv_whatever" });
    expect(await ws.next()).toMatchObject({ type: "error", error: WS_ERRORS.authRequired });
    ws.close();
  });

  it("closes a connection that has not authenticated in time with 4001", async () => {
    const ws = await connect(srv);
    const started = Date.now();
    const { code } = await ws.closed;
    expect(code).toBe(4001);
    expect(Date.now() - started).toBeGreaterThanOrEqual(400);
  });

  it("refuses upgrades from browser origins outside the allow-list", async () => {
    await expect(connect(srv, { origin: "http://evil.test" })).rejects.toThrow(/403/);
    const user = await createUser(srv);
    const ok = await connect(srv, { origin: "http://dashboard.test", cookie: user.cookie });
    expect(await ok.next()).toEqual({ type: "auth_success", userId: user.id });
    ok.close();
  });

  it("refuses upgrades on other paths", async () => {
    await expect(connect(srv, { path: "/api/nope" })).rejects.toThrow(/404/);
  });

  it("accepts tickets minted with an API key, and closes the socket when the key is revoked", async () => {
    const user = await createUser(srv);
    const server = await createServer(srv, user);
    const created = await srv.auth.api.createApiKey({ body: { userId: user.id, name: "script" } });
    const res = await request(srv, "/api/ws/token", {}, { "x-api-key": created.key });
    expect(res.status).toBe(200);
    const { token, userId } = (await res.json()) as { token: string; userId: string };
    expect(userId).toBe(user.id);
    const ws = await connectAuthed(srv, token);
    ws.send({ type: "subscribe", serverId: server.id });
    await ws.next("subscribed");
    await ws.next("server:sync");

    await srv.auth.api.deleteApiKey({
      body: { keyId: created.id },
      headers: new Headers({ cookie: user.cookie }),
    });
    await srv.sync.tick();
    expect(await ws.next()).toEqual({ type: "auth_error", error: WS_ERRORS.invalidSession });
    expect((await ws.closed).code).toBe(4001);
  });
});
