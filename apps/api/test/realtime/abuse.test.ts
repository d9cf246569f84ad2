import { WS_ERRORS } from "@panel/protocol";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import type { RunningServer } from "../../src/server.ts";
import { createServer, createUser, request, type TestUser, ticketFor } from "../support/factories.ts";
import { startTestServer } from "../support/server.ts";
import { connect, connectAuthed, type TestSocket } from "../support/ws-client.ts";

let srv: RunningServer;
let user: TestUser;
beforeAll(async () => {
  srv = await startTestServer(); // default limits: 64 KiB frames, bucket 120 @ 20/s, cap 100
  user = await createUser(srv);
});
afterAll(() => srv.close());

async function bystander() {
  const ws = await connectAuthed(srv, await ticketFor(srv, user));
  const server = await createServer(srv, user);
  ws.send({ type: "subscribe", serverId: server.id });
  await ws.next("server:sync");
  return { ws, server };
}

async function expectHealthy(ws: TestSocket, serverId: string) {
  ws.send({ type: "ping" });
  expect(await ws.next("pong")).toEqual({ type: "pong" });
  await srv.sync.tick();
  expect((await ws.next("server:sync")).serverId).toBe(serverId);
  expect((await request(srv, "/api/health")).status).toBe(200);
}

describe("hostile clients", () => {
  it("closes a connection that sends a frame over 64 KiB with 1009; others are unaffected", async () => {
    const other = await bystander();
    const ws = await connect(srv);
    ws.send(JSON.stringify({ type: "ping", pad: "x".repeat(64 * 1024) }));
    expect((await ws.closed).code).toBe(1009);
    await expectHealthy(other.ws, other.server.id);
    other.ws.close();
  });

  it("accepts a frame just under the cap", async () => {
    const ws = await connect(srv);
    ws.send(JSON.stringify({ type: "ping", pad: "x".repeat(60 * 1024) }));
    expect(await ws.next()).toEqual({ type: "pong" });
    ws.close();
  });

  it("rate limits a flood, then closes it with 1008; others are unaffected", async () => {
    const other = await bystander();
    const ws = await connectAuthed(srv, await ticketFor(srv, user));
    for (let i = 0; i < 400; i++) ws.send({ type: "ping" });
    const { code } = await ws.closed;
    expect(code).toBe(1008);
    const pongs = ws.received.filter((m) => m.type === "pong").length;
    const limited = ws.received.filter((m) => m.type === "error" && m.error === WS_ERRORS.rateLimited).length;
    expect(pongs).toBeGreaterThanOrEqual(120);
    expect(pongs).toBeLessThan(140);
    expect(limited).toBeGreaterThan(0);
    await expectHealthy(other.ws, other.server.id);
    other.ws.close();
  });

  it("lets a client subscribe to its whole cap at once without hitting the rate limit", async () => {
    const ws = await connectAuthed(srv, await ticketFor(srv, user));
    for (let i = 0; i < 100; i++) ws.send({ type: "subscribe", serverId: `srv_missing${i}` });
    for (let i = 0; i < 100; i++) {
      expect(await ws.next("error")).toEqual({
        type: "error",
        error: WS_ERRORS.serverNotFound,
        serverId: `srv_missing${i}`,
      });
    }
    ws.close();
  });

  it("treats binary garbage and huge ids as invalid messages", async () => {
    const ws = await connectAuthed(srv, await ticketFor(srv, user));
    ws.ws.send(Buffer.from([0xff, 0x00, 0xfe]));
    expect(await ws.next("error")).toEqual({ type: "error", error: WS_ERRORS.invalidMessage });
    ws.send({ type: "subscribe", serverId: "s".repeat(10_000) });
    expect(await ws.next("error")).toEqual({ type: "error", error: WS_ERRORS.invalidMessage });
    ws.close();
  });

  it("survives clients that vanish mid-handshake or mid-subscribe", async () => {
    const other = await bystander();
    const token = await ticketFor(srv, user);
    const sockets = await Promise.all(Array.from({ length: 10 }, () => connect(srv, { token })));
    for (const s of sockets) {
      s.send({ type: "subscribe", serverId: other.server.id });
      s.ws.terminate();
    }
    await expectHealthy(other.ws, other.server.id);
    await vi.waitFor(() => expect(srv.hub.stats().connections).toBe(1), { timeout: 3000 });
    other.ws.close();
  });
});
