import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningServer } from "../src/server.ts";
import { createServer, createUser, ticketFor } from "./support/factories.ts";
import { startTestServer } from "./support/server.ts";
import { connectAuthed } from "./support/ws-client.ts";

let srv: RunningServer;
beforeAll(async () => {
  srv = await startTestServer();
});
afterAll(() => srv.close());

describe("smoke", () => {
  it("subscribes and receives a first snapshot", async () => {
    const user = await createUser(srv);
    const server = await createServer(srv, user);
    const ws = await connectAuthed(srv, await ticketFor(srv, user));
    ws.send({ type: "subscribe", serverId: server.id });
    expect(await ws.next("subscribed")).toEqual({ type: "subscribed", serverId: server.id });
    const sync = await ws.next("server:sync");
    expect(sync.data.id).toBe(server.id);
    ws.close();
  });
});
