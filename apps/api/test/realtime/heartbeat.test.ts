import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import type { RunningServer } from "../../src/server.ts";
import { createUser, ticketFor } from "../support/factories.ts";
import { startTestServer } from "../support/server.ts";
import { connectAuthed, TestSocket } from "../support/ws-client.ts";

let srv: RunningServer;
beforeAll(async () => {
  srv = await startTestServer({ env: { WS_HEARTBEAT_MS: "200" } });
});
afterAll(() => srv.close());

describe("protocol heartbeats", () => {
  it("pings peers and terminates one that misses two in a row; answering peers stay", async () => {
    const user = await createUser(srv);
    const healthy = await connectAuthed(srv, await ticketFor(srv, user));
    let pings = 0;
    healthy.ws.on("ping", () => pings++);

    const url = `${srv.url.replace("http", "ws")}/api/ws?token=${await ticketFor(srv, user)}`;
    const silent = new TestSocket(new WebSocket(url, { autoPong: false }));
    await silent.opened;
    expect((await silent.next()).type).toBe("auth_success");

    const { code } = await silent.closed;
    expect(code).toBe(1006); // terminated, no close frame
    expect(pings).toBeGreaterThanOrEqual(2);
    healthy.send({ type: "ping" });
    expect(await healthy.next()).toEqual({ type: "pong" });
    healthy.close();
  });
});
