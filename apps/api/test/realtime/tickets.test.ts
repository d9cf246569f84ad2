import { WS_ERRORS } from "@panel/protocol";
import type { Logger as DrizzleLogger } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mintTicket, readTicket, redeemTickets } from "../../src/auth/tickets.ts";
import type { RunningServer } from "../../src/server.ts";
import { createUser, request, signIn, type TestUser, ticketFor } from "../support/factories.ts";
import { startTestServer } from "../support/server.ts";
import { connect } from "../support/ws-client.ts";

const queries: string[] = [];
const queryLogger: DrizzleLogger = { logQuery: (query) => void queries.push(query) };

let srv: RunningServer;
let secret: string;
beforeAll(async () => {
  srv = await startTestServer({ queryLogger });
  secret = (await srv.auth.$context).secret;
});
afterAll(() => srv.close());

const refused = { type: "auth_error", error: WS_ERRORS.invalidSession };

async function authReply(token: string) {
  const ws = await connect(srv, { token });
  const reply = await ws.next();
  ws.close();
  return reply;
}

async function apiKeyTicket(user: TestUser) {
  const created = await srv.auth.api.createApiKey({ body: { userId: user.id, name: "script" } });
  const res = await request(srv, "/api/ws/token", {}, { "x-api-key": created.key });
  expect(res.status).toBe(200);
  return { key: created, token: ((await res.json()) as { token: string }).token };
}

/** The ticket's payload (base64url JSON) with one claim changed, the signature kept. */
function withClaim(token: string, index: number, value: unknown) {
  const [payload, signature] = token.split(".") as [string, string];
  const claims = JSON.parse(Buffer.from(payload, "base64url").toString()) as unknown[];
  claims[index] = value;
  return `${Buffer.from(JSON.stringify(claims)).toString("base64url")}.${signature}`;
}

describe("WebSocket tickets", () => {
  it("refuses a tampered ticket and leaves the genuine one usable", async () => {
    const user = await createUser(srv);
    const other = await createUser(srv);
    const token = await ticketFor(srv, user);
    const [payload, signature] = token.split(".") as [string, string];
    const flipped = `${signature.slice(0, -1)}${signature.endsWith("A") ? "B" : "A"}`;
    for (const forged of [
      withClaim(token, 2, other.id), // someone else's user id
      withClaim(token, 3, Date.now() + 3_600_000), // a later expiry
      `${payload}.${flipped}`,
      `${payload}.`,
      payload,
      `${payload}.${signature}=`,
    ]) {
      expect(await authReply(forged)).toEqual(refused);
    }
    expect(await authReply(token)).toEqual({ type: "auth_success", userId: user.id });
  });

  it("refuses an expired ticket", async () => {
    const user = await createUser(srv);
    const principal = { userId: user.id, isAdmin: false, credential: await sessionOf(user) };
    const token = mintTicket(secret, principal, 50);
    expect(readTicket(secret, token)).not.toBeNull();
    await new Promise((r) => setTimeout(r, 80));
    expect(readTicket(secret, token)).toBeNull();
    expect(await authReply(token)).toEqual(refused);
  });

  it("works once, also when two redemptions of it race in one batch", async () => {
    const user = await createUser(srv);
    const token = await ticketFor(srv, user);
    const sockets = await Promise.all([connect(srv, { token }), connect(srv, { token })]);
    const replies = await Promise.all(sockets.map((ws) => ws.next()));
    for (const ws of sockets) ws.close();
    expect(replies).toContainEqual({ type: "auth_success", userId: user.id });
    expect(replies).toContainEqual(refused);
    expect(await authReply(token)).toEqual(refused);
  });

  it("works once when the same ticket is redeemed twice in one call or by two calls at once", async () => {
    const user = await createUser(srv);
    const once = await ticketFor(srv, user);
    expect([...(await redeemTickets(srv.db, secret, [once, once])).keys()]).toEqual([once]);
    const raced = await ticketFor(srv, user);
    const [a, b] = await Promise.all([
      redeemTickets(srv.db, secret, [raced]),
      redeemTickets(srv.db, secret, [raced]),
    ]);
    expect(a.size + b.size).toBe(1);
  });

  it("is bound to its session: dead once that session is revoked, though the user has another", async () => {
    const user = await createUser(srv);
    const token = await ticketFor(srv, user);
    const secondCookie = await signIn(srv, user.email, user.password);
    const out = await user.fetch("/api/auth/sign-out", { method: "POST", body: "{}" });
    expect(out.status).toBe(200);
    expect(await authReply(token)).toEqual(refused);
    const fresh = await ticketFor(srv, { cookie: secondCookie });
    expect(await authReply(fresh)).toEqual({ type: "auth_success", userId: user.id });
  });

  it("is bound to its API key: dead once that key is deleted or disabled, though the user's session lives", async () => {
    const user = await createUser(srv);
    const deleted = await apiKeyTicket(user);
    await srv.auth.api.deleteApiKey({
      body: { keyId: deleted.key.id },
      headers: new Headers({ cookie: user.cookie }),
    });
    expect(await authReply(deleted.token)).toEqual(refused);

    const disabled = await apiKeyTicket(user);
    await srv.auth.api.updateApiKey({ body: { keyId: disabled.key.id, userId: user.id, enabled: false } });
    expect(await authReply(disabled.token)).toEqual(refused);
    expect(await authReply(await ticketFor(srv, user))).toEqual({ type: "auth_success", userId: user.id });
  });

  it("is never the session token or the API key, nor contains them", async () => {
    const user = await createUser(srv);
    const sessionToken = decodeURIComponent(user.cookie.split("=")[1] ?? "").split(".")[0] ?? "";
    const token = await ticketFor(srv, user);
    expect(sessionToken.length).toBeGreaterThan(16);
    expect(token).not.toContain(sessionToken);
    expect(Buffer.from(token.split(".")[0] ?? "", "base64url").toString()).not.toContain(sessionToken);
    const byKey = await apiKeyTicket(user);
    expect(byKey.token).not.toContain(byKey.key.key);
    expect(Buffer.from(byKey.token.split(".")[0] ?? "", "base64url").toString()).not.toContain(byKey.key.key);
  });

  it("minting writes nothing; redeeming any number of tickets costs two statements", async () => {
    const user = await createUser(srv);
    queries.length = 0;
    const tokens = await Promise.all(Array.from({ length: 40 }, () => ticketFor(srv, user)));
    expect(queries.filter((q) => /^(insert|update|delete)/i.test(q))).toEqual([]);
    expect(new Set(tokens).size).toBe(40);

    queries.length = 0;
    const redeemed = await redeemTickets(srv.db, secret, tokens);
    expect(queries).toHaveLength(2);
    expect(queries[0]).toMatch(/^insert into "redeemed_ws_ticket"/);
    expect([...redeemed.keys()].sort()).toEqual([...tokens].sort());
    expect(await redeemTickets(srv.db, secret, tokens)).toEqual(new Map());
  });
});

async function sessionOf(user: TestUser) {
  const res = await user.fetch("/api/auth/get-session");
  const body = (await res.json()) as { session: { id: string } };
  return { kind: "session" as const, id: body.session.id };
}
