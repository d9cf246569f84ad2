import { allocations } from "@panel/db";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningServer } from "../../src/server.ts";
import { createNode, createServer, createUser, type TestUser } from "../support/factories.ts";
import { startTestServer } from "../support/server.ts";
import { apiKeyOf, auditCount, bad, call, expectAdminOnly, json, lastAudit } from "./support.ts";

let srv: RunningServer;
let admin: TestUser;
let user: TestUser;
beforeAll(async () => {
  srv = await startTestServer();
  admin = await createUser(srv, { admin: true });
  user = await createUser(srv);
});
afterAll(() => srv.close());

const base = (nodeId: string) => `/api/admin/nodes/${nodeId}/allocations`;
const create = (nodeId: string, body: unknown) => call(admin.fetch(base(nodeId), json("POST", body)));
const patch = (nodeId: string, id: string, body: unknown) =>
  call(admin.fetch(`${base(nodeId)}/${id}`, json("PATCH", body)));
const list = (nodeId: string, query = "") => call(admin.fetch(`${base(nodeId)}${query}`));
const ports = (body: { data: { port: number }[] }) => body.data.map((a) => a.port);

describe("allocations: who may call them", () => {
  it("is admin-only; an admin's API key works", async () => {
    const owner = await createUser(srv);
    const server = await createServer(srv, owner);
    const [alloc] = await srv.db.select().from(allocations).where(eq(allocations.serverId, server.id));
    await expectAdminOnly(srv, user, [
      ["GET", base(server.nodeId)],
      ["POST", base(server.nodeId), { ip: "0.0.0.0", ports: [1000] }],
      ["PATCH", `${base(server.nodeId)}/${alloc!.id}`, { serverId: null }],
      ["DELETE", `${base(server.nodeId)}/${alloc!.id}`],
    ]);
    const key = await apiKeyOf(srv, admin);
    const res = await call(key.fetch(base(server.nodeId), json("POST", { ip: "0.0.0.0", ports: [1001] })));
    expect(res.status).toBe(201);
  });
});

describe("POST /api/admin/nodes/:nodeId/allocations", () => {
  it("creates single ports and ranges as free allocations, audited once", async () => {
    const { node } = await createNode(srv);
    const res = await create(node.id, { ip: "10.0.0.1", ports: [25565, "27015-27017", 25565] });
    expect(res.status).toBe(201);
    expect(res.body.data).toEqual(
      [25565, 27015, 27016, 27017].map((port) => ({
        id: expect.stringMatching(/^alloc_/),
        nodeId: node.id,
        ip: "10.0.0.1",
        port,
        serverId: null,
        isPrimary: false,
      })),
    );
    expect((await lastAudit(srv, "allocation.create", node.id)).details).toEqual({
      ip: "10.0.0.1",
      ports: [25565, 27015, 27016, 27017],
      count: 4,
    });
  });

  it("is 400 naming the field for bad input or too many ports, 404 for an unknown node", async () => {
    const { node } = await createNode(srv);
    for (const [body, field] of [
      [{ ports: [1] }, "ip"],
      [{ ip: "nope", ports: [1] }, "ip"],
      [{ ip: "0.0.0.0" }, "ports"],
      [{ ip: "0.0.0.0", ports: [] }, "ports"],
      [{ ip: "0.0.0.0", ports: [0] }, "ports.0"],
      [{ ip: "0.0.0.0", ports: [70000] }, "ports.0"],
      [{ ip: "0.0.0.0", ports: ["5-1"] }, "ports.0"],
      [{ ip: "0.0.0.0", ports: ["abc"] }, "ports.0"],
      [{ ip: "0.0.0.0", ports: ["1-2000"] }, "ports"],
      [{ ip: "0.0.0.0", ports: [1], extra: true }, "extra"],
    ] as const) {
      const res = await create(node.id, body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body, JSON.stringify(body)).toEqual(bad(field));
    }
    expect((await list(node.id)).body.data).toEqual([]);
    const missing = await create("node_nope", { ip: "0.0.0.0", ports: [1] });
    expect(missing.status).toBe(404);
    expect(missing.body).toEqual({ error: "Node not found" });
  });

  it("is 409 when one of the ports exists already, and creates none of them", async () => {
    const { node } = await createNode(srv);
    await create(node.id, { ip: "0.0.0.0", ports: [30001] });
    const before = await auditCount(srv, admin.id);
    const res = await create(node.id, { ip: "0.0.0.0", ports: ["30000-30002"] });
    expect(res.status).toBe(409);
    expect(res.body).toEqual({ error: expect.stringContaining("30001"), field: "ports" });
    expect(ports((await list(node.id)).body)).toEqual([30001]);
    expect(await auditCount(srv, admin.id)).toBe(before);
  });
});

describe("GET /api/admin/nodes/:nodeId/allocations", () => {
  it("lists free/assigned with keyset pages", async () => {
    const owner = await createUser(srv);
    const server = await createServer(srv, owner);
    await create(server.nodeId, { ip: "0.0.0.0", ports: ["1-5"] });
    const free = await list(server.nodeId, "?state=free");
    expect(ports(free.body)).toEqual([1, 2, 3, 4, 5]);
    const assigned = await list(server.nodeId, "?state=assigned");
    expect(assigned.body.data).toHaveLength(1);
    expect(assigned.body.data[0]).toMatchObject({ serverId: server.id, isPrimary: true });

    const seen: number[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res = await list(server.nodeId, `?state=free&limit=2${cursor ? `&cursor=${cursor}` : ""}`);
      expect(res.status).toBe(200);
      seen.push(...ports(res.body));
      cursor = res.body.nextCursor;
      pages++;
    } while (cursor && pages < 10);
    expect(seen).toEqual([1, 2, 3, 4, 5]);
    expect(pages).toBe(3);

    for (const [query, field] of [
      ["?state=gone", "state"],
      ["?limit=0", "limit"],
      ["?cursor=zzz", "cursor"],
    ]) {
      const res = await list(server.nodeId, query);
      expect(res.status, query).toBe(400);
      expect(res.body).toEqual(bad(field!));
    }
    expect((await list("node_nope")).status).toBe(404);
  });
});

describe("PATCH /api/admin/nodes/:nodeId/allocations/:id", () => {
  it("assigns a free allocation, makes it primary, unassigns it (primary moves back)", async () => {
    const owner = await createUser(srv);
    const server = await createServer(srv, owner);
    const created = await create(server.nodeId, { ip: "0.0.0.0", ports: [40000] });
    const allocId = created.body.data[0].id as string;

    const assigned = await patch(server.nodeId, allocId, { serverId: server.id });
    expect(assigned.status).toBe(200);
    expect(assigned.body).toMatchObject({ id: allocId, serverId: server.id, isPrimary: false });
    expect((await lastAudit(srv, "allocation.assign", allocId)).details).toMatchObject({
      serverId: server.id,
    });

    const primary = await patch(server.nodeId, allocId, { isPrimary: true });
    expect(primary.body).toMatchObject({ serverId: server.id, isPrimary: true });
    await lastAudit(srv, "allocation.set_primary", allocId);
    let seen = await call(owner.fetch(`/api/servers/${server.id}`));
    expect(seen.body.allocations.map((a: { id: string; isPrimary: boolean }) => [a.id, a.isPrimary])).toEqual(
      [
        [allocId, true],
        [expect.any(String), false],
      ],
    );

    const freed = await patch(server.nodeId, allocId, { serverId: null });
    expect(freed.body).toMatchObject({ serverId: null, isPrimary: false });
    await lastAudit(srv, "allocation.unassign", allocId);
    seen = await call(owner.fetch(`/api/servers/${server.id}`));
    expect(seen.body.allocations).toHaveLength(1);
    expect(seen.body.allocations[0].isPrimary).toBe(true);
  });

  it("refuses what would break the invariants: 409/400/404", async () => {
    const owner = await createUser(srv);
    const server = await createServer(srv, owner);
    const other = await createServer(srv, owner); // on another node
    const [own] = await srv.db.select().from(allocations).where(eq(allocations.serverId, server.id));
    const free = (await create(server.nodeId, { ip: "0.0.0.0", ports: [41000] })).body.data[0].id as string;
    const before = await auditCount(srv, admin.id);

    // the last allocation of a server
    let res = await patch(server.nodeId, own!.id, { serverId: null });
    expect(res.status).toBe(409);
    expect(res.body.field).toBe("serverId");
    // held by another server (checked before where the new server is)
    const third = await createServer(srv, owner);
    const [theirs] = await srv.db.select().from(allocations).where(eq(allocations.serverId, third.id));
    res = await patch(third.nodeId, theirs!.id, { serverId: other.id });
    expect(res.status).toBe(409);
    expect(res.body).toEqual({ error: "Allocation is assigned to another server", field: "serverId" });
    // a server on another node / unknown
    res = await patch(server.nodeId, free, { serverId: other.id });
    expect(res.status).toBe(400);
    expect(res.body).toEqual(bad("serverId"));
    res = await patch(server.nodeId, free, { serverId: "srv_nope" });
    expect(res.body).toEqual(bad("serverId"));
    // primary while free
    res = await patch(server.nodeId, free, { isPrimary: true });
    expect(res.status).toBe(409);
    // bad bodies
    for (const [body, field] of [
      [{}, "body"],
      [{ isPrimary: false }, "isPrimary"],
      [{ serverId: 5 }, "serverId"],
      [{ port: 1 }, "port"],
    ] as const) {
      res = await patch(server.nodeId, free, body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body).toEqual(bad(field));
    }
    // unknown allocation, or one of another node
    expect((await patch(server.nodeId, "alloc_nope", { serverId: null })).status).toBe(404);
    expect((await patch(other.nodeId, free, { serverId: null })).status).toBe(404);
    expect(await auditCount(srv, admin.id)).toBe(before);
  });

  it("is 409 assigning an allocation another server on the node holds", async () => {
    const owner = await createUser(srv);
    const a = await createServer(srv, owner);
    const { node } = { node: { id: a.nodeId } };
    const b = await call(
      admin.fetch(
        "/api/admin/servers",
        json("POST", {
          name: "b",
          ownerId: owner.id,
          nodeId: node.id,
          blueprintId: a.blueprintId,
          memory: 1,
          disk: 1,
          cpu: 1,
          allocations: [{ ip: "0.0.0.0", port: 42000 }],
        }),
      ),
    );
    expect(b.status).toBe(201);
    const res = await patch(node.id, b.body.allocations[0].id, { serverId: a.id });
    expect(res.status).toBe(409);
    expect(res.body).toEqual({ error: expect.any(String), field: "serverId" });
  });
});

describe("DELETE /api/admin/nodes/:nodeId/allocations/:id", () => {
  it("deletes a free allocation; 409 for an assigned one; 404 unknown", async () => {
    const owner = await createUser(srv);
    const server = await createServer(srv, owner);
    const free = (await create(server.nodeId, { ip: "0.0.0.0", ports: [43000] })).body.data[0].id as string;
    const del = await admin.fetch(`${base(server.nodeId)}/${free}`, { method: "DELETE" });
    expect(del.status).toBe(204);
    expect((await lastAudit(srv, "allocation.delete", free)).details).toMatchObject({ port: 43000 });
    expect((await call(admin.fetch(`${base(server.nodeId)}/${free}`, { method: "DELETE" }))).status).toBe(
      404,
    );

    const [own] = await srv.db.select().from(allocations).where(eq(allocations.serverId, server.id));
    const res = await call(admin.fetch(`${base(server.nodeId)}/${own!.id}`, { method: "DELETE" }));
    expect(res.status).toBe(409);
    expect(res.body).toEqual({ error: "Allocation is assigned to a server" });
    expect(await srv.db.select().from(allocations).where(eq(allocations.id, own!.id))).toHaveLength(1);
  });
});
