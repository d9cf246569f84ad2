import { serverSnapshotSchema, WS_ERRORS } from "@panel/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningServer } from "../../src/server.ts";
import { createServer, createUser, type TestUser, ticketFor } from "../support/factories.ts";
import { startTestServer } from "../support/server.ts";
import { connectAuthed, type TestSocket } from "../support/ws-client.ts";

let srv: RunningServer;
let owner: TestUser;
let server: Awaited<ReturnType<typeof createServer>>;

beforeAll(async () => {
  srv = await startTestServer({ env: { WS_MAX_SUBSCRIPTIONS: "3" } });
  owner = await createUser(srv);
  server = await createServer(srv, owner, { name: "alpha" });
});
afterAll(() => srv.close());

const socketFor = async (user: TestUser) => connectAuthed(srv, await ticketFor(srv, user));

async function expectError(ws: TestSocket, raw: string, error: string) {
  ws.send(raw);
  expect(await ws.next("error")).toEqual({ type: "error", error });
}

describe("client messages", () => {
  it("answers ping with pong", async () => {
    const ws = await socketFor(owner);
    ws.send({ type: "ping" });
    expect(await ws.next()).toEqual({ type: "pong" });
    ws.close();
  });

  it("subscribes: subscribed, then at once a full server:sync matching the contract", async () => {
    const ws = await socketFor(owner);
    ws.send({ type: "subscribe", serverId: server.id });
    expect(await ws.next()).toEqual({ type: "subscribed", serverId: server.id });
    const sync = await ws.next();
    expect(sync.type).toBe("server:sync");
    if (sync.type !== "server:sync") return;
    expect(sync.serverId).toBe(server.id);
    const data = serverSnapshotSchema.strict().parse(sync.data);
    expect(data).toMatchObject({ id: server.id, shortId: server.shortId, name: "alpha", ownerId: owner.id });
    expect(Object.keys(sync.data)).toEqual(Object.keys(serverSnapshotSchema.shape));
    ws.close();
  });

  it("unsubscribes and stops syncing that server", async () => {
    const ws = await socketFor(owner);
    ws.send({ type: "subscribe", serverId: server.id });
    await ws.next("server:sync");
    ws.send({ type: "unsubscribe", serverId: server.id });
    expect(await ws.next("unsubscribed")).toEqual({ type: "unsubscribed", serverId: server.id });
    await srv.sync.tick();
    ws.send({ type: "ping" });
    await ws.next("pong");
    expect(ws.drain().filter((m) => m.type === "server:sync")).toEqual([]);
    ws.close();
  });

  it("gives the same error for another user's server as for a missing one", async () => {
    const stranger = await createUser(srv);
    const ws = await socketFor(stranger);
    ws.send({ type: "subscribe", serverId: server.id });
    const hidden = await ws.next("error");
    ws.send({ type: "subscribe", serverId: "srv_doesnotexist" });
    const missing = await ws.next("error");
    expect(hidden).toEqual({ type: "error", error: WS_ERRORS.serverNotFound, serverId: server.id });
    expect(missing).toEqual({ type: "error", error: WS_ERRORS.serverNotFound, serverId: "srv_doesnotexist" });
    ws.close();
  });

  it("lets subusers and admins subscribe", async () => {
    const sub = await createUser(srv);
    const admin = await createUser(srv, { admin: true });
    const shared = await createServer(srv, owner, { subusers: [sub] });
    for (const user of [sub, admin]) {
      const ws = await socketFor(user);
      ws.send({ type: "subscribe", serverId: shared.id });
      expect(await ws.next()).toEqual({ type: "subscribed", serverId: shared.id });
      expect((await ws.next("server:sync")).data.id).toBe(shared.id);
      ws.close();
    }
  });

  it("maps every malformed message to the contract's errors and keeps the socket open", async () => {
    const ws = await socketFor(owner);
    for (const raw of ["not json", "[]", "42", "null", '"str"', "{}", '{"type":5}', '{"type":"subscribe"}']) {
      await expectError(ws, raw, WS_ERRORS.invalidMessage);
    }
    await expectError(ws, '{"type":"subscribe","serverId":7}', WS_ERRORS.invalidMessage);
    await expectError(ws, '{"type":"auth"}', WS_ERRORS.invalidMessage);
    await expectError(ws, '{"type":"subscribe","serverId":""}', WS_ERRORS.invalidMessage);
    await expectError(ws, '{"type":"explode"}', WS_ERRORS.unknownType);
    await expectError(ws, '{"type":"__proto__"}', WS_ERRORS.unknownType);
    ws.send({ type: "ping" });
    expect(await ws.next()).toEqual({ type: "pong" });
    ws.close();
  });

  it("caps subscriptions per connection", async () => {
    const ws = await socketFor(owner);
    const mine = [server, ...(await Promise.all([1, 2, 3].map(() => createServer(srv, owner))))];
    for (const s of mine.slice(0, 3)) {
      ws.send({ type: "subscribe", serverId: s.id });
      await ws.next("subscribed");
    }
    ws.send({ type: "subscribe", serverId: mine[3]?.id });
    expect(await ws.next("error")).toEqual({
      type: "error",
      error: WS_ERRORS.tooManySubscriptions,
      serverId: mine[3]?.id,
    });
    // re-subscribing to one it has is not a new subscription
    ws.send({ type: "subscribe", serverId: server.id });
    expect(await ws.next("subscribed", { where: (m) => m.serverId === server.id })).toEqual({
      type: "subscribed",
      serverId: server.id,
    });
    ws.close();
  });
});
