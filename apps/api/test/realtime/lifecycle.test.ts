import { describe, expect, it } from "vitest";
import { createServer, createUser, request, ticketFor } from "../support/factories.ts";
import { startTestServer } from "../support/server.ts";
import { connect, connectAuthed } from "../support/ws-client.ts";

describe("graceful shutdown", () => {
  it("closes every socket with 1001, stops syncing and stops accepting", async () => {
    const srv = await startTestServer({ syncLoop: true, env: { SYNC_INTERVAL_MS: "200" } });
    const user = await createUser(srv);
    const server = await createServer(srv, user);
    const authed = await connectAuthed(srv, await ticketFor(srv, user));
    authed.send({ type: "subscribe", serverId: server.id });
    await authed.next("server:sync");
    const anonymous = await connect(srv);

    await srv.close();
    expect((await authed.closed).code).toBe(1001);
    expect((await anonymous.closed).code).toBe(1001);
    await expect(request(srv, "/api/health")).rejects.toThrow();
  });
});
