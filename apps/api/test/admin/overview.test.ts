import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createDb, realtimeInstance, servers } from "@panel/db";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningServer } from "../../src/server.ts";
import { adminCreateServer } from "../rest/support.ts";
import { createServer, createUser, type TestUser, ticketFor } from "../support/factories.ts";
import { startTestServer, usesPostgres } from "../support/server.ts";
import { connectAuthed } from "../support/ws-client.ts";
import { apiKeyOf, call, expectAdminOnly, json } from "./support.ts";

let srv: RunningServer;
let admin: TestUser;
let user: TestUser;
beforeAll(async () => {
  srv = await startTestServer();
  admin = await createUser(srv, { admin: true });
  user = await createUser(srv);
});
afterAll(() => srv.close());

const overview = async (as: { fetch: TestUser["fetch"] } = admin) => {
  const res = await call(as.fetch("/api/admin/overview"));
  expect(res.status).toBe(200);
  return res.body;
};

describe("GET /api/admin/overview", () => {
  it("is admin-only (API key included)", async () => {
    await expectAdminOnly(srv, user, [["GET", "/api/admin/overview"]]);
    await overview(await apiKeyOf(srv, admin));
  });

  it("counts servers by status and node load against capacity", async () => {
    const owner = await createUser(srv);
    const a = await adminCreateServer(srv, admin, owner.id, { memory: 1024, disk: 5000 });
    await adminCreateServer(srv, admin, owner.id, {
      nodeId: a.nodeId,
      memory: 2048,
      disk: 1000,
      allocations: [{ ip: "0.0.0.0", port: 45000, isPrimary: true }],
    });
    await call(
      admin.fetch(
        `/api/admin/nodes/${a.nodeId}`,
        json("PATCH", { memory: 8192, disk: 100000, isOnline: false }),
      ),
    );
    // On PostgreSQL other test files add servers concurrently: measure a change both ways
    // (done, then undone) and retry until both agree.
    let up: Record<string, number> = {};
    let down: Record<string, number> = {};
    let after: Awaited<ReturnType<typeof overview>> = {};
    const counts = (o: typeof after) => ({
      total: o.servers.total,
      running: o.servers.byStatus.running,
      stopped: o.servers.byStatus.stopped,
      suspended: o.servers.suspended,
    });
    const minus = (x: Record<string, number>, y: Record<string, number>) =>
      Object.fromEntries(Object.keys(x).map((k) => [k, (x[k] ?? 0) - (y[k] ?? 0)]));
    for (let attempt = 0; attempt < 5; attempt++) {
      const before = counts(await overview());
      const running = await createServer(srv, owner, { status: "running" });
      await srv.db.update(servers).set({ suspended: true }).where(eq(servers.id, running.id));
      after = await overview();
      await srv.db.delete(servers).where(eq(servers.id, running.id));
      const undone = counts(await overview());
      up = minus(counts(after), before);
      down = minus(counts(after), undone);
      if (JSON.stringify(up) === JSON.stringify(down)) break;
    }
    expect(up).toEqual({ total: 1, running: 1, stopped: 0, suspended: 1 });
    expect(down).toEqual(up);

    expect(Object.keys(after)).toEqual(["servers", "nodes", "realtime"]);
    const node = after.nodes.find((n: { id: string }) => n.id === a.nodeId);
    expect(node).toEqual({
      id: a.nodeId,
      displayName: a.node.displayName,
      location: a.node.location,
      isOnline: false,
      servers: 2,
      memory: { allocated: 3072, total: 8192 },
      disk: { allocated: 6000, total: 100000 },
    });
  });

  /**
   * How `change` moves the realtime numbers. On PostgreSQL other test files' instances publish
   * into the same table concurrently, so the change is measured both ways (done, then undone)
   * and retried until both agree.
   */
  async function realtimeDelta(change: () => Promise<void>, undo: () => Promise<void>) {
    const keys = ["instances", "connections", "authenticated", "subscriptions"] as const;
    let last: Record<string, number> = {};
    for (let attempt = 0; attempt < 5; attempt++) {
      const before = (await overview()).realtime;
      await change();
      const during = (await overview()).realtime;
      await undo();
      const after = (await overview()).realtime;
      const up = Object.fromEntries(keys.map((k) => [k, during[k] - before[k]]));
      const down = Object.fromEntries(keys.map((k) => [k, during[k] - after[k]]));
      last = up;
      if (JSON.stringify(up) === JSON.stringify(down)) return up;
    }
    return last;
  }

  it("counts this instance's sockets and subscriptions live", async () => {
    const owner = await createUser(srv);
    const s = await createServer(srv, owner);
    let ws: Awaited<ReturnType<typeof connectAuthed>> | undefined;
    const delta = await realtimeDelta(
      async () => {
        ws = await connectAuthed(srv, await ticketFor(srv, owner));
        ws.send({ type: "subscribe", serverId: s.id });
        await ws.next("subscribed");
      },
      async () => {
        const open = srv.hub.stats().connections;
        ws?.close();
        await ws?.closed;
        await expect.poll(() => srv.hub.stats().connections).toBe(open - 1);
      },
    );
    expect(delta).toEqual({ instances: 0, connections: 1, authenticated: 1, subscriptions: 1 });
  });

  it("publishes this instance's row every tick, and sums other instances' fresh rows only", async () => {
    const owner = await createUser(srv);
    const ws = await connectAuthed(srv, await ticketFor(srv, owner));
    await srv.sync.tick();
    const [mine] = await srv.db
      .select()
      .from(realtimeInstance)
      .where(eq(realtimeInstance.id, srv.instanceId));
    expect(mine).toMatchObject({
      connections: srv.hub.stats().connections,
      authenticated: srv.hub.stats().authenticated,
    });
    ws.close();

    const otherId = `test-other-${Date.now()}`;
    const deadId = `test-dead-${Date.now()}`;
    const delta = await realtimeDelta(
      async () => {
        await srv.db.insert(realtimeInstance).values([
          { id: otherId, connections: 7, authenticated: 5, subscriptions: 11 },
          {
            id: deadId,
            connections: 100,
            authenticated: 100,
            subscriptions: 100,
            updatedAt: new Date(Date.now() - 3_600_000),
          },
        ]);
      },
      async () => {
        await srv.db.delete(realtimeInstance).where(eq(realtimeInstance.id, otherId));
        await srv.db.delete(realtimeInstance).where(eq(realtimeInstance.id, deadId));
      },
    );
    expect(delta).toEqual({ instances: 1, connections: 7, authenticated: 5, subscriptions: 11 });
  });

  it("removes its row on shutdown", async () => {
    const queries: string[] = [];
    // PGlite: the other instance keeps its database in a folder, reopened below to look
    const dataDir = usesPostgres() ? undefined : mkdtempSync(join(tmpdir(), "panel-overview-"));
    const other = await startTestServer({
      queryLogger: { logQuery: (q) => void queries.push(q) },
      env: dataDir ? { DATA_DIR: dataDir } : {},
    });
    try {
      await other.sync.tick();
      const [row] = await other.db
        .select()
        .from(realtimeInstance)
        .where(eq(realtimeInstance.id, other.instanceId));
      expect(row).toBeDefined();
      await other.close();
      expect(queries.filter((q) => /^delete from "realtime_instance"/.test(q))).toHaveLength(1);
      const reopened = dataDir ? createDb({ dataDir }) : undefined;
      try {
        const db = reopened?.db ?? srv.db;
        expect(
          await db.select().from(realtimeInstance).where(eq(realtimeInstance.id, other.instanceId)),
        ).toEqual([]);
      } finally {
        await reopened?.close();
      }
    } finally {
      if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
