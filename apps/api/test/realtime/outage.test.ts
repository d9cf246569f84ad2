import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import type { RunningServer } from "../../src/server.ts";
import { createServer, createUser, request, ticketFor } from "../support/factories.ts";
import { startTestServer, usesPostgres } from "../support/server.ts";
import { TcpProxy } from "../support/tcp-proxy.ts";
import { connectAuthed } from "../support/ws-client.ts";

// PGlite lives inside the process and cannot go away; the outage is played on PostgreSQL.
describe.skipIf(!usesPostgres())("database outage", () => {
  let srv: RunningServer;
  let proxy: TcpProxy;

  beforeAll(async () => {
    const url = new URL(inject("databaseUrl") ?? "");
    proxy = new TcpProxy(url.hostname, Number(url.port || 5432));
    url.port = String(await proxy.start());
    url.hostname = "127.0.0.1";
    srv = await startTestServer({ databaseUrl: url.toString() });
  });
  afterAll(async () => {
    await srv?.close();
    await proxy?.stop();
  });

  it("skips ticks while the database is down, keeps every socket, and resumes after", async () => {
    const user = await createUser(srv);
    const server = await createServer(srv, user);
    const ws = await connectAuthed(srv, await ticketFor(srv, user));
    ws.send({ type: "subscribe", serverId: server.id });
    await ws.next("subscribed");
    await ws.next("server:sync");

    await proxy.stop();
    expect(await srv.sync.tick()).toBeUndefined();
    expect(await srv.sync.tick()).toBeUndefined();
    expect((await request(srv, "/api/health")).status).toBe(503);
    ws.send({ type: "ping" });
    expect(await ws.next()).toEqual({ type: "pong" });
    ws.send({ type: "subscribe", serverId: server.id });
    expect(await ws.next("error", { timeoutMs: 15_000 })).toMatchObject({ serverId: server.id });

    await proxy.start();
    const report = await srv.sync.tick();
    expect(report?.frames).toBe(1);
    expect((await ws.next("server:sync")).serverId).toBe(server.id);
    expect((await request(srv, "/api/health")).status).toBe(200);
    ws.close();
  });
});
