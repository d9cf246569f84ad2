import { apiKeySocket } from "@panel/db";
import { WS_ERRORS } from "@panel/protocol";
import { type Logger as DrizzleLogger, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TOO_MANY_KEY_SOCKETS } from "../../src/realtime/gateway.ts";
import type { RunningServer } from "../../src/server.ts";
import { createServer, createUser, type TestUser, ticketFor } from "../support/factories.ts";
import { startTestServer, usesPostgres } from "../support/server.ts";
import { connect, connectAuthed } from "../support/ws-client.ts";
import { closeAll, connectWithKey, createKey, eventually, keySocketRows, keyTicket } from "./support.ts";

const TOO_MANY = { type: "auth_error", error: TOO_MANY_KEY_SOCKETS };
const CAPPED = { WS_MAX_SOCKETS_PER_API_KEY: "1" };

describe("revoking a key", () => {
  let srv: RunningServer;
  beforeAll(async () => {
    srv = await startTestServer();
  });
  afterAll(() => srv.close());

  it("closes the sockets it opened at the next sync tick (auth_error, 4001), and only those", async () => {
    const me = await createUser(srv);
    const server = await createServer(srv, me);
    const revoked = await createKey(me);
    const kept = await createKey(me);
    const a = await connectAuthed(srv, await keyTicket(srv, revoked.key));
    const b = await connectAuthed(srv, await keyTicket(srv, revoked.key));
    const other = await connectAuthed(srv, await keyTicket(srv, kept.key));
    const session = await connectAuthed(srv, await ticketFor(srv, me));
    a.send({ type: "subscribe", serverId: server.id });
    await a.next("subscribed");

    expect((await me.fetch(`/api/api-keys/${revoked.id}`, { method: "DELETE" })).status).toBe(204);
    await srv.sync.tick();
    for (const ws of [a, b]) {
      expect(await ws.next("auth_error")).toEqual({ type: "auth_error", error: WS_ERRORS.invalidSession });
      expect((await ws.closed).code).toBe(4001);
    }
    for (const ws of [other, session]) {
      ws.send({ type: "ping" });
      expect(await ws.next("pong")).toEqual({ type: "pong" });
    }
    await closeAll(other, session);
  });

  it("kills a ticket minted with it that was not used yet", async () => {
    const me = await createUser(srv);
    const key = await createKey(me);
    const token = await keyTicket(srv, key.key);
    await me.fetch(`/api/api-keys/${key.id}`, { method: "DELETE" });
    const ws = await connect(srv, { token });
    expect(await ws.next()).toEqual({ type: "auth_error", error: WS_ERRORS.invalidSession });
    ws.close();
  });

  it("records nothing in api_key_socket while the cap is off", async () => {
    const me = await createUser(srv);
    const key = await createKey(me);
    const sockets = await Promise.all([1, 2, 3].map(async () => (await connectWithKey(srv, key.key)).ws));
    expect(await keySocketRows(srv, key.id)).toEqual([]);
    await closeAll(...sockets);
  });
});

/** Records every SQL statement the server sends. */
class QueryRecorder implements DrizzleLogger {
  queries: string[] = [];
  logQuery(query: string) {
    this.queries.push(query);
  }
}

describe("WS_MAX_SOCKETS_PER_API_KEY", () => {
  let srv: RunningServer;
  let me: TestUser;
  const recorder = new QueryRecorder();
  beforeAll(async () => {
    srv = await startTestServer({ env: { WS_MAX_SOCKETS_PER_API_KEY: "2" }, queryLogger: recorder });
    me = await createUser(srv);
  });
  afterAll(() => srv.close());

  it("refuses the socket over the cap with auth_error and 1008, consuming the ticket", async () => {
    const key = await createKey(me);
    const first = await connectWithKey(srv, key.key);
    const second = await connectWithKey(srv, key.key);
    expect(first.reply.type).toBe("auth_success");
    expect(second.reply.type).toBe("auth_success");
    const token = await keyTicket(srv, key.key);
    const third = await connect(srv, { token });
    expect(await third.next()).toEqual(TOO_MANY);
    expect(await third.closed).toEqual({ code: 1008, reason: TOO_MANY_KEY_SOCKETS });
    // the ticket is spent even though the socket was refused
    await closeAll(first.ws);
    await eventually(async () => (await keySocketRows(srv, key.id)).length === 1);
    const retry = await connect(srv, { token });
    expect(await retry.next()).toEqual({ type: "auth_error", error: WS_ERRORS.invalidSession });
    retry.close();
    await closeAll(second.ws);
  });

  it("frees the slot when a socket closes; a new one is then accepted", async () => {
    const key = await createKey(me);
    const held = [await connectWithKey(srv, key.key), await connectWithKey(srv, key.key)];
    expect((await connectWithKey(srv, key.key)).reply).toEqual(TOO_MANY);
    await closeAll(held[0]!.ws);
    await eventually(async () => (await keySocketRows(srv, key.id)).length === 1);
    const next = await connectWithKey(srv, key.key);
    expect(next.reply.type).toBe("auth_success");
    await closeAll(held[1]!.ws, next.ws);
    await eventually(async () => (await keySocketRows(srv, key.id)).length === 0);
  });

  it("frees the slot of a socket closed because its key was revoked... and counts per key", async () => {
    const a = await createKey(me);
    const b = await createKey(me);
    const onA = [await connectWithKey(srv, a.key), await connectWithKey(srv, a.key)];
    // another key of the same user has its own allowance
    const onB = await connectWithKey(srv, b.key);
    expect(onB.reply.type).toBe("auth_success");
    // and sessions are not capped
    const sessions = await Promise.all(
      [1, 2, 3].map(async () => connectAuthed(srv, await ticketFor(srv, me))),
    );
    await me.fetch(`/api/api-keys/${a.id}`, { method: "DELETE" });
    await srv.sync.tick();
    for (const { ws } of onA) expect((await ws.closed).code).toBe(4001);
    expect(await keySocketRows(srv, a.id)).toEqual([]); // cascaded with the key
    await closeAll(onB.ws, ...sessions);
  });

  it("lets only `cap` of many racing connections in", async () => {
    const key = await createKey(me);
    const tokens = await Promise.all([1, 2, 3, 4, 5, 6].map(() => keyTicket(srv, key.key)));
    const sockets = await Promise.all(tokens.map((token) => connect(srv, { token })));
    const replies = await Promise.all(sockets.map((ws) => ws.next()));
    expect(replies.filter((r) => r.type === "auth_success")).toHaveLength(2);
    expect(replies.filter((r) => r.type === "auth_error")).toEqual([TOO_MANY, TOO_MANY, TOO_MANY, TOO_MANY]);
    expect(await keySocketRows(srv, key.id)).toHaveLength(2);
    await closeAll(...sockets);
  });

  it("refreshes this instance's rows every tick in one statement; stale rows stop counting", async () => {
    const key = await createKey(me);
    const held = [await connectWithKey(srv, key.key), await connectWithKey(srv, key.key)];
    const old = new Date(Date.now() - 60 * 60_000);
    await srv.db.update(apiKeySocket).set({ lastSeenAt: old }).where(eq(apiKeySocket.apiKeyId, key.id));
    recorder.queries = [];
    await srv.sync.tick();
    expect(recorder.queries.filter((q) => /"api_key_socket"/.test(q))).toHaveLength(1);
    const rows = await keySocketRows(srv, key.id);
    expect(rows).toHaveLength(2);
    for (const row of rows) {
      expect(row.instanceId).toBe(srv.instanceId);
      expect(Date.now() - row.lastSeenAt.getTime()).toBeLessThan(10_000);
    }
    expect((await connectWithKey(srv, key.key)).reply).toEqual(TOO_MANY);

    // a row a dead instance left behind (never refreshed) does not hold a slot
    await closeAll(held[0]!.ws);
    await eventually(async () => (await keySocketRows(srv, key.id)).length === 1);
    await srv.db
      .insert(apiKeySocket)
      .values({ socketId: "dead-socket", apiKeyId: key.id, instanceId: "dead-instance", lastSeenAt: old });
    const fresh = await connectWithKey(srv, key.key);
    expect(fresh.reply.type).toBe("auth_success");
    await closeAll(held[1]!.ws, fresh.ws);
  });
});

describe("the cap across instances (same PostgreSQL)", () => {
  it.runIf(usesPostgres())("holds across two API instances and frees on close", async () => {
    const one = await startTestServer({ env: CAPPED });
    const two = await startTestServer({ env: CAPPED });
    try {
      expect(one.instanceId).not.toBe(two.instanceId);
      const me = await createUser(one);
      const key = await createKey(me);
      const first = await connectWithKey(one, key.key);
      expect(first.reply.type).toBe("auth_success");
      expect((await connectWithKey(two, key.key)).reply).toEqual(TOO_MANY);
      expect((await connectWithKey(one, key.key)).reply).toEqual(TOO_MANY);

      // racing on both instances at once: still one at most
      await closeAll(first.ws);
      await eventually(async () => (await keySocketRows(one, key.id)).length === 0);
      const tokens = await Promise.all([1, 2, 3, 4].map(() => keyTicket(one, key.key)));
      const sockets = await Promise.all(tokens.map((token, i) => connect(i % 2 ? two : one, { token })));
      const replies = await Promise.all(sockets.map((ws) => ws.next()));
      expect(replies.filter((r) => r.type === "auth_success")).toHaveLength(1);
      await closeAll(...sockets);

      // an instance that shuts down releases its rows at once
      const last = await connectWithKey(two, key.key);
      expect(last.reply.type).toBe("auth_success");
      await two.close();
      expect(await keySocketRows(one, key.id)).toEqual([]);
      expect((await connectWithKey(one, key.key)).reply.type).toBe("auth_success");
    } finally {
      await Promise.all([one.close(), two.close()]);
    }
  });

  it("deletes stale rows of dead instances on start", async () => {
    const srv = await startTestServer();
    try {
      const me = await createUser(srv);
      const key = await createKey(me);
      const old = new Date(Date.now() - 60 * 60_000);
      await srv.db.insert(apiKeySocket).values([
        { socketId: `stale-${key.id}`, apiKeyId: key.id, instanceId: "dead", lastSeenAt: old },
        { socketId: `live-${key.id}`, apiKeyId: key.id, instanceId: "alive" },
      ]);
      // on PostgreSQL a second instance starting does it; PGlite is one instance's own database
      if (usesPostgres()) await (await startTestServer()).close();
      else await srv.keySockets.deleteStale();
      const rows = await keySocketRows(srv, key.id);
      expect(rows.map((r) => r.socketId)).toEqual([`live-${key.id}`]);
    } finally {
      await srv.close();
    }
  });
});
