import { allocations, auditLog, servers } from "@panel/db";
import { and, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningServer } from "../../src/server.ts";
import { adminCreateServer, expectServerShape, freshPort } from "../rest/support.ts";
import { createNode, createServer, createUser, type TestUser } from "../support/factories.ts";
import { startTestServer } from "../support/server.ts";
import { apiKeyOf, auditCount, bad, call, json, lastAudit } from "./support.ts";

let srv: RunningServer;
let admin: TestUser;
beforeAll(async () => {
  srv = await startTestServer();
  admin = await createUser(srv, { admin: true });
});
afterAll(() => srv.close());

const patch = (id: string, body: unknown) =>
  call(admin.fetch(`/api/admin/servers/${id}`, json("PATCH", body)));
const list = (query: Record<string, string>) =>
  call(admin.fetch(`/api/admin/servers?${new URLSearchParams(query)}`));
const ids = (body: { data: { id: string }[] }) => body.data.map((s) => s.id);

describe("server writes are audited", () => {
  it("create, update and delete each leave one row with the details", async () => {
    const owner = await createUser(srv);
    const created = await adminCreateServer(srv, admin, owner.id, { name: "audited" });
    const row = await lastAudit(srv, "server.create", created.id);
    expect(row).toMatchObject({
      actorId: admin.id,
      actorKind: "session",
      targetType: "server",
      ip: "127.0.0.1",
    });
    expect(row.details).toMatchObject({ name: "audited", ownerId: owner.id, nodeId: created.nodeId });

    await patch(created.id, { name: "renamed", suspended: true, memory: created.memory });
    expect((await lastAudit(srv, "server.update", created.id)).details).toEqual({
      changes: { name: { from: "audited", to: "renamed" }, suspended: { from: false, to: true } },
    });

    expect((await admin.fetch(`/api/admin/servers/${created.id}`, { method: "DELETE" })).status).toBe(204);
    expect((await lastAudit(srv, "server.delete", created.id)).details).toMatchObject({ name: "renamed" });
  });

  it("records the socket's address, not a client-sent x-forwarded-for (TRUST_PROXY is off)", async () => {
    const owner = await createUser(srv);
    const created = await adminCreateServer(srv, admin, owner.id);
    const res = await admin.fetch(`/api/admin/servers/${created.id}`, {
      ...json("PATCH", { name: "via-proxy" }),
      headers: { "content-type": "application/json", "x-forwarded-for": "203.0.113.7, 10.0.0.1" },
    });
    expect(res.status).toBe(200);
    expect((await lastAudit(srv, "server.update", created.id)).ip).toBe("127.0.0.1");
  });

  it("a failed write (409) leaves no audit row", async () => {
    const owner = await createUser(srv);
    const existing = await adminCreateServer(srv, admin, owner.id);
    const before = await auditCount(srv, admin.id);
    const res = await call(
      admin.fetch(
        "/api/admin/servers",
        json("POST", {
          name: "dup",
          ownerId: owner.id,
          nodeId: existing.nodeId,
          blueprintId: existing.blueprintId,
          memory: 1,
          disk: 1,
          cpu: 1,
          allocations: [{ ip: existing.allocations[0]!.ip, port: existing.allocations[0]!.port }],
        }),
      ),
    );
    expect(res.status).toBe(409);
    expect(await auditCount(srv, admin.id)).toBe(before);
  });
});

describe("DELETE returns allocations to the node's free pool", () => {
  it("keeps the allocation rows, free and not primary", async () => {
    const owner = await createUser(srv);
    const created = await adminCreateServer(srv, admin, owner.id);
    const alloc = created.allocations[0]!;
    expect((await admin.fetch(`/api/admin/servers/${created.id}`, { method: "DELETE" })).status).toBe(204);
    const [row] = await srv.db.select().from(allocations).where(eq(allocations.id, alloc.id));
    expect(row).toMatchObject({ nodeId: created.nodeId, serverId: null, isPrimary: false, port: alloc.port });
    const free = await call(admin.fetch(`/api/admin/nodes/${created.nodeId}/allocations?state=free`));
    expect(free.body.data.map((a: { id: string }) => a.id)).toEqual([alloc.id]);
  });

  it("the FK also frees them when a server row is deleted directly", async () => {
    const owner = await createUser(srv);
    const s = await createServer(srv, owner);
    await srv.db.delete(servers).where(eq(servers.id, s.id));
    const rows = await srv.db.select().from(allocations).where(eq(allocations.nodeId, s.nodeId));
    expect(rows.map((r) => r.serverId)).toEqual([null]);
  });
});

describe("PATCH moves a server to another node", () => {
  it("moves with new allocations: old ones freed, new ones claimed (free ones too), audited", async () => {
    const owner = await createUser(srv);
    const created = await adminCreateServer(srv, admin, owner.id);
    const { node: target } = await createNode(srv);
    const port = freshPort();
    await call(
      admin.fetch(
        `/api/admin/nodes/${target.id}/allocations`,
        json("POST", { ip: "0.0.0.0", ports: [port] }),
      ),
    );
    const res = await patch(created.id, {
      nodeId: target.id,
      allocations: [
        { ip: "0.0.0.0", port },
        { ip: "10.1.1.1", port: 7777, isPrimary: true },
      ],
    });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const moved = expectServerShape(res.body);
    expect(moved.nodeId).toBe(target.id);
    expect(moved.node.id).toBe(target.id);
    expect(moved.allocations.map((a) => [a.ip, a.port, a.isPrimary])).toEqual([
      ["10.1.1.1", 7777, true],
      ["0.0.0.0", port, false],
    ]);
    const old = await srv.db.select().from(allocations).where(eq(allocations.nodeId, created.nodeId));
    expect(old.map((a) => [a.serverId, a.isPrimary])).toEqual([[null, false]]);
    const audit = await lastAudit(srv, "server.move", created.id);
    expect(audit.details).toMatchObject({
      changes: {
        nodeId: { from: created.nodeId, to: target.id },
        allocations: { from: [`0.0.0.0:${created.allocations[0]!.port}`] },
      },
    });
  });

  it("is 409 when an allocation is taken on the target node, and changes nothing", async () => {
    const owner = await createUser(srv);
    const moving = await adminCreateServer(srv, admin, owner.id);
    const blocker = await adminCreateServer(srv, admin, owner.id);
    const taken = blocker.allocations[0]!;
    const before = await auditCount(srv, admin.id);
    const res = await patch(moving.id, {
      nodeId: blocker.nodeId,
      name: "should-not-stick",
      allocations: [
        { ip: "0.0.0.0", port: freshPort() },
        { ip: taken.ip, port: taken.port },
      ],
    });
    expect(res.status).toBe(409);
    expect(res.body).toEqual({ error: expect.stringContaining(String(taken.port)), field: "allocations" });
    const after = await call(admin.fetch(`/api/servers/${moving.id}`));
    expect(after.body).toEqual(moving);
    const onTarget = await srv.db.select().from(allocations).where(eq(allocations.nodeId, blocker.nodeId));
    expect(onTarget.map((a) => a.serverId)).toEqual([blocker.id]);
    expect(await auditCount(srv, admin.id)).toBe(before);
  });

  it("needs allocations to move, and a node that exists", async () => {
    const owner = await createUser(srv);
    const s = await adminCreateServer(srv, admin, owner.id);
    const { node } = await createNode(srv);
    expect(await patch(s.id, { nodeId: node.id })).toMatchObject({ status: 400, body: bad("allocations") });
    expect(
      await patch(s.id, { nodeId: "node_nope", allocations: [{ ip: "0.0.0.0", port: 1 }] }),
    ).toMatchObject({ status: 400, body: bad("nodeId") });
    expect(await patch(s.id, { allocations: [] })).toMatchObject({ status: 400, body: bad("allocations") });
  });

  it("replaces allocations on the same node (re-claiming its own ports is fine)", async () => {
    const owner = await createUser(srv);
    const s = await adminCreateServer(srv, admin, owner.id);
    const own = s.allocations[0]!;
    const extra = freshPort();
    const res = await patch(s.id, {
      allocations: [
        { ip: own.ip, port: own.port },
        { ip: "0.0.0.0", port: extra, isPrimary: true },
      ],
    });
    expect(res.status).toBe(200);
    expect(
      res.body.allocations.map((a: { port: number; isPrimary: boolean }) => [a.port, a.isPrimary]),
    ).toEqual([
      [extra, true],
      [own.port, false],
    ]);
    expect(res.body.allocations[1].id).toBe(own.id);
    await lastAudit(srv, "server.update", s.id);
  });
});

describe("GET /api/admin/servers: new filters and sorts", () => {
  it("filters by locationId and suspended", async () => {
    const owner = await createUser(srv);
    const a = await adminCreateServer(srv, admin, owner.id);
    const b = await adminCreateServer(srv, admin, owner.id);
    await patch(b.id, { suspended: true });
    expect(ids((await list({ locationId: a.node.location.id })).body)).toEqual([a.id]);
    expect(ids((await list({ ownerId: owner.id, suspended: "true" })).body)).toEqual([b.id]);
    expect(ids((await list({ ownerId: owner.id, suspended: "false" })).body)).toEqual([a.id]);
    expect((await list({ suspended: "yes" })).body).toEqual(bad("suspended"));
    expect((await list({ sort: "owner" })).body).toEqual(bad("sort"));
  });

  it("sorts by name with keyset pages (ties broken by id), stable under inserts", async () => {
    const owner = await createUser(srv);
    const names = ["delta", "alpha", "charlie", "bravo", "alpha", "echo"];
    const made: { id: string; name: string }[] = [];
    for (const name of names) made.push(await adminCreateServer(srv, admin, owner.id, { name }));
    const expected = [...made]
      .sort((x, y) => (x.name === y.name ? (x.id < y.id ? -1 : 1) : x.name < y.name ? -1 : 1))
      .map((s) => s.id);

    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const q: Record<string, string> = { ownerId: owner.id, sort: "name", limit: "2" };
      if (cursor) q.cursor = cursor;
      const res = await list(q);
      expect(res.status).toBe(200);
      seen.push(...ids(res.body));
      cursor = res.body.nextCursor;
      if (pages === 0) {
        // inserted while paging: before the cursor (A…) is not seen, after it (z…) is, none twice
        await adminCreateServer(srv, admin, owner.id, { name: "aaa-late" });
        made.push(await adminCreateServer(srv, admin, owner.id, { name: "zulu-late" }));
      }
      pages++;
    } while (cursor && pages < 10);
    expect(seen).toEqual([...expected, made.at(-1)!.id]);

    // a cursor of one sort is refused under another
    const first = await list({ ownerId: owner.id, sort: "name", limit: "1" });
    const mixed = await list({ ownerId: owner.id, sort: "createdAt", cursor: first.body.nextCursor });
    expect(mixed).toMatchObject({ status: 400, body: bad("cursor") });
  });

  it("pages past the longest names a cursor carries (one cursor bound for every listing)", async () => {
    const owner = await createUser(srv);
    // 100 control characters: JSON escapes each to six bytes, so the cursor is ~850 characters.
    const longest = "\u0001".repeat(100);
    const a = await adminCreateServer(srv, admin, owner.id, { name: longest });
    const b = await adminCreateServer(srv, admin, owner.id, { name: longest });
    const first = await list({ ownerId: owner.id, sort: "name", limit: "1" });
    expect(first.body.nextCursor.length).toBeGreaterThan(512);
    const second = await list({ ownerId: owner.id, sort: "name", limit: "1", cursor: first.body.nextCursor });
    expect(second.status).toBe(200);
    expect([...ids(first.body), ...ids(second.body)].sort()).toEqual([a.id, b.id].sort());
    expect((await list({ cursor: "x".repeat(1025) })).body).toEqual(bad("cursor"));
  });

  it("keeps createdAt (newest first) as the default", async () => {
    const owner = await createUser(srv);
    const a = await adminCreateServer(srv, admin, owner.id, { name: "zzz" });
    const b = await adminCreateServer(srv, admin, owner.id, { name: "aaa" });
    expect(ids((await list({ ownerId: owner.id })).body)).toEqual([b.id, a.id]);
    expect(ids((await list({ ownerId: owner.id, sort: "createdAt" })).body)).toEqual([b.id, a.id]);
    expect(ids((await list({ ownerId: owner.id, sort: "name" })).body)).toEqual([b.id, a.id]);
  });

  it("is usable with an admin's API key, and the key is the audit actor", async () => {
    const key = await apiKeyOf(srv, admin);
    const owner = await createUser(srv);
    const s = await adminCreateServer(srv, admin, owner.id);
    const res = await call(key.fetch(`/api/admin/servers/${s.id}`, json("PATCH", { name: "by-key" })));
    expect(res.status).toBe(200);
    const [row] = await srv.db
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.targetId, s.id), eq(auditLog.action, "server.update")));
    expect(row).toMatchObject({ actorKind: "apiKey", apiKeyId: key.keyId, actorId: admin.id });
    expect((await call(key.fetch(`/api/admin/servers?ownerId=${owner.id}`))).body.data).toHaveLength(1);
  });
});
