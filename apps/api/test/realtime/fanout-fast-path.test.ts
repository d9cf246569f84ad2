import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { wsInternalsMissing } from "../../src/realtime/fanout.ts";
import { senderFrameWorks } from "../../src/realtime/frames.ts";
import type { RunningServer } from "../../src/server.ts";
import { createServer, createUser, ticketFor } from "../support/factories.ts";
import { startTestServer } from "../support/server.ts";
import { connectAuthed } from "../support/ws-client.ts";

/**
 * The fast fan-out writes prebuilt frames past ws, which needs ws internals (Sender.frame, the
 * sender's state, the socket). On the ws this repository pins, all of them must be there and
 * the API's ticks must take the direct path; after a ws upgrade that changed them, this fails
 * (the API itself would log it once and send everything through ws.send).
 */
let srv: RunningServer;
beforeAll(async () => {
  srv = await startTestServer();
});
afterAll(() => srv.close());

describe("the fast fan-out's direct path on the pinned ws", () => {
  it("finds every ws internal it needs", () => {
    expect(senderFrameWorks()).toBe(true);
    expect(wsInternalsMissing()).toBeUndefined();
  });

  it("is what the API's tick takes: the socket's frames in one batch, none through ws.send", async () => {
    const user = await createUser(srv);
    const ids = await Promise.all([1, 2].map(async () => (await createServer(srv, user)).id));
    const ws = await connectAuthed(srv, await ticketFor(srv, user));
    for (const serverId of ids) {
      ws.send({ type: "subscribe", serverId });
      await ws.next("subscribed");
      await ws.next("server:sync");
    }
    const report = await srv.sync.tick();
    expect(report).toMatchObject({ fanout: "fast", frames: 2, batched: 1, fallbacks: 0 });
    const received = [await ws.next("server:sync"), await ws.next("server:sync")];
    expect(received.map((m) => m.serverId).sort()).toEqual([...ids].sort());
    ws.close();
  });
});
