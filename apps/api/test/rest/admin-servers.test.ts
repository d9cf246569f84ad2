import { allocations, newId, serverSubusers, servers } from "@panel/db";
import type { ServerSnapshot } from "@panel/protocol";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningServer } from "../../src/server.ts";
import { createNode, createServer, createUser, type TestUser } from "../support/factories.ts";
import { startTestServer } from "../support/server.ts";
import {
  adminCreateServer,
  anonymous,
  bogusCookie,
  call,
  expectServerShape,
  freshPort,
  json,
  serverInput,
} from "./support.ts";

let srv: RunningServer;
let admin: TestUser;
let user: TestUser;
beforeAll(async () => {
  srv = await startTestServer();
  admin = await createUser(srv, { admin: true });
  user = await createUser(srv);
});
afterAll(() => srv.close());

const NOT_FOUND = { error: "Server not found" };
const bad = (field: string) => ({ error: expect.any(String), field });

const serverRow = async (id: string) => (await srv.db.select().from(servers).where(eq(servers.id, id)))[0];
const serversNamed = (name: string) => srv.db.select().from(servers).where(eq(servers.name, name));
const createRaw = (body: unknown) => call(admin.fetch("/api/admin/servers", json("POST", body)));
const patch = (id: string, body: unknown, as: TestUser = admin) =>
  call(as.fetch(`/api/admin/servers/${id}`, json("PATCH", body)));
const list = (query: Record<string, string>) =>
  call(admin.fetch(`/api/admin/servers?${new URLSearchParams(query)}`));

describe("admin server routes: who may call them", () => {
  it("are 401 without a session / with a bogus cookie and 403 for a non-admin", async () => {
    const victim = await createServer(srv, user);
    const input = await serverInput(srv, user.id);
    const requests: [string, RequestInit][] = [
      ["/api/admin/servers", json("POST", input)],
      ["/api/admin/servers", {}],
      [`/api/admin/servers/${victim.id}`, json("PATCH", { name: "pwned" })],
      [`/api/admin/servers/${victim.id}`, { method: "DELETE" }],
    ];
    for (const [path, init] of requests) {
      for (const send of [anonymous, bogusCookie]) {
        const res = await call(send(srv, path, init));
        expect(res.status, `${init.method ?? "GET"} ${path}`).toBe(401);
        expect(res.body).toEqual({ error: "Unauthorized" });
      }
      const res = await call(user.fetch(path, init));
      expect(res.status, `${init.method ?? "GET"} ${path}`).toBe(403);
      expect(res.body).toEqual({ error: expect.any(String) });
    }
    // the owner is not an admin either
    expect(
      (await call(user.fetch(`/api/admin/servers/${victim.id}`, json("PATCH", { name: "x" })))).status,
    ).toBe(403);
    const row = await serverRow(victim.id);
    expect(row?.name).not.toBe("pwned");
    expect(await serversNamed(input.name)).toEqual([]);
  });
});

describe("POST /api/admin/servers", () => {
  it("creates a server: 201 with the full server object", async () => {
    const owner = await createUser(srv);
    const input = await serverInput(srv, owner.id, {
      name: "  lobby  ",
      swap: 512,
      backupLimit: 3,
      allocations: [
        { ip: "0.0.0.0", port: 25566, isPrimary: false },
        { ip: "0.0.0.0", port: 25565, isPrimary: true },
      ],
    });
    const res = await createRaw(input);
    expect(res.status).toBe(201);
    const s = expectServerShape(res.body);
    expect(s).toMatchObject({
      name: "lobby",
      status: "installing",
      suspended: false,
      containerId: null,
      memory: 1024,
      disk: 5120,
      cpu: 150,
      cpuPinning: null,
      swap: 512,
      oomKillDisable: false,
      backupLimit: 3,
      nodeId: input.nodeId,
      blueprintId: input.blueprintId,
      ownerId: owner.id,
    });
    expect(s.id).toMatch(/^srv_[a-z0-9]+$/);
    expect(s.shortId).toBe(s.id.slice(4));
    expect(s.node.location.id).toMatch(/^loc_/);
    expect(s.blueprint.id).toMatch(/^bp_/);
    expect(s.allocations).toEqual([
      { id: expect.stringMatching(/^alloc_/), ip: "0.0.0.0", port: 25565, isPrimary: true },
      { id: expect.stringMatching(/^alloc_/), ip: "0.0.0.0", port: 25566, isPrimary: false },
    ]);
    // it is what the owner sees too
    const got = await call(owner.fetch(`/api/servers/${s.id}`));
    expect(got.body).toEqual(res.body);
  });

  it("defaults swap and backupLimit to 0 and makes the first allocation primary when none is", async () => {
    const owner = await createUser(srv);
    const input = await serverInput(srv, owner.id, {
      allocations: [
        { ip: "10.0.0.1", port: 27015 },
        { ip: "10.0.0.1", port: 27016 },
      ],
    });
    const res = await createRaw(input);
    expect(res.status).toBe(201);
    expect(res.body.swap).toBe(0);
    expect(res.body.backupLimit).toBe(0);
    expect(
      res.body.allocations.map((a: { port: number; isPrimary: boolean }) => [a.port, a.isPrimary]),
    ).toEqual([
      [27015, true],
      [27016, false],
    ]);
  });

  it("claims a free pre-created allocation on that node", async () => {
    const owner = await createUser(srv);
    const input = await serverInput(srv, owner.id);
    const port = freshPort();
    const freeId = newId("allocation");
    await srv.db.insert(allocations).values({ id: freeId, nodeId: input.nodeId, ip: "0.0.0.0", port });
    const res = await createRaw({ ...input, allocations: [{ ip: "0.0.0.0", port, isPrimary: true }] });
    expect(res.status).toBe(201);
    expect(res.body.allocations).toEqual([{ id: freeId, ip: "0.0.0.0", port, isPrimary: true }]);
  });

  it("allows the same ip:port on a different node", async () => {
    const owner = await createUser(srv);
    const first = await adminCreateServer(srv, admin, owner.id);
    const taken = first.allocations[0]!;
    const second = await adminCreateServer(srv, admin, owner.id, {
      allocations: [{ ip: taken.ip, port: taken.port, isPrimary: true }],
    });
    expect(second.nodeId).not.toBe(first.nodeId);
    expect(second.allocations[0]?.port).toBe(taken.port);
  });

  it("is 409 when the allocation is used by another server, and writes nothing", async () => {
    const owner = await createUser(srv);
    const existing = await adminCreateServer(srv, admin, owner.id);
    const taken = existing.allocations[0]!;
    // a free allocation claimed by the same request must be released again
    const freePort = freshPort();
    await srv.db
      .insert(allocations)
      .values({ id: newId("allocation"), nodeId: existing.nodeId, ip: "0.0.0.0", port: freePort });
    const name = `conflict-${Date.now()}`;
    const input = await serverInput(srv, owner.id, {
      name,
      nodeId: existing.nodeId,
      allocations: [
        { ip: "0.0.0.0", port: freePort, isPrimary: true },
        { ip: taken.ip, port: taken.port, isPrimary: false },
        { ip: "0.0.0.0", port: freshPort(), isPrimary: false },
      ],
    });
    const res = await createRaw(input);
    expect(res.status).toBe(409);
    expect(res.body).toEqual({ error: expect.stringContaining(String(taken.port)), field: "allocations" });

    // nothing half-written: no server row, no allocations of it, the free one still free
    expect(await serversNamed(name)).toEqual([]);
    const listed = await list({ search: name });
    expect(listed.body).toEqual({ data: [], nextCursor: null });
    const onNode = await srv.db.select().from(allocations).where(eq(allocations.nodeId, existing.nodeId));
    expect(onNode.map((a) => [a.port, a.serverId]).sort()).toEqual(
      [
        [taken.port, existing.id],
        [freePort, null],
      ].sort(),
    );
    // and the other server is untouched
    const still = await call(admin.fetch(`/api/servers/${existing.id}`));
    expect(still.body.allocations).toEqual(existing.allocations);
  });

  it("is 409 for the same IPv6 address spelled differently, and stores one spelling", async () => {
    const owner = await createUser(srv);
    const port = freshPort();
    const first = await adminCreateServer(srv, admin, owner.id, {
      allocations: [{ ip: "FE80:0:0:0:0:0:0:1", port, isPrimary: true }],
    });
    expect(first.allocations[0]?.ip).toBe("fe80::1");
    const name = `v6-${Date.now()}`;
    const again = await serverInput(srv, owner.id, {
      name,
      nodeId: first.nodeId,
      allocations: [{ ip: "fe80::1", port, isPrimary: true }],
    });
    const res = await createRaw(again);
    expect(res.status).toBe(409);
    expect(res.body.field).toBe("allocations");
    expect(await serversNamed(name)).toEqual([]);
    // and the same address twice in one request is bad input
    const samePort = freshPort();
    const twice = await createRaw({
      ...again,
      allocations: [
        { ip: "::", port: samePort, isPrimary: true },
        { ip: "0:0:0:0:0:0:0:0", port: samePort, isPrimary: false },
      ],
    });
    expect(twice.status).toBe(400);
    expect(twice.body).toEqual(bad("allocations"));
  });

  it("lets exactly one of two concurrent creates claim the same port", async () => {
    const owner = await createUser(srv);
    const input = await serverInput(srv, owner.id);
    const [a, b] = await Promise.all([
      createRaw({ ...input, name: "race-a" }),
      createRaw({ ...input, name: "race-b" }),
    ]);
    expect([a.status, b.status].sort()).toEqual([201, 409]);
    const onNode = await srv.db.select().from(servers).where(eq(servers.nodeId, input.nodeId));
    expect(onNode).toHaveLength(1);
    expect(onNode[0]?.id).toBe((a.status === 201 ? a : b).body.id);
  });

  it("is 400 naming the field for bad input, and writes nothing", async () => {
    const owner = await createUser(srv);
    const base = await serverInput(srv, owner.id, { name: `invalid-${Date.now()}` });
    const alloc = base.allocations[0]!;
    const cases: [Record<string, unknown>, string][] = [
      [{ ...base, name: undefined }, "name"],
      [{ ...base, name: "" }, "name"],
      [{ ...base, ownerId: undefined }, "ownerId"],
      [{ ...base, ownerId: 5 }, "ownerId"],
      [{ ...base, nodeId: undefined }, "nodeId"],
      [{ ...base, blueprintId: null }, "blueprintId"],
      [{ ...base, memory: "2048" }, "memory"],
      [{ ...base, memory: -1 }, "memory"],
      [{ ...base, memory: 1.5 }, "memory"],
      [{ ...base, disk: undefined }, "disk"],
      [{ ...base, cpu: true }, "cpu"],
      [{ ...base, swap: -2 }, "swap"],
      [{ ...base, backupLimit: "3" }, "backupLimit"],
      [{ ...base, allocations: undefined }, "allocations"],
      [{ ...base, allocations: [] }, "allocations"],
      [{ ...base, allocations: "0.0.0.0:25565" }, "allocations"],
      [{ ...base, allocations: [{ ...alloc, port: 0 }] }, "allocations.0.port"],
      [{ ...base, allocations: [{ ...alloc, port: 65536 }] }, "allocations.0.port"],
      [{ ...base, allocations: [{ ...alloc, port: "25565" }] }, "allocations.0.port"],
      [{ ...base, allocations: [alloc, { ip: "0.0.0.0", port: 99999 }] }, "allocations.1.port"],
      [{ ...base, allocations: [{ ...alloc, ip: "localhost" }] }, "allocations.0.ip"],
      [{ ...base, allocations: [{ ...alloc, ip: "300.1.1.1" }] }, "allocations.0.ip"],
      [{ ...base, allocations: [{ ...alloc, isPrimary: "yes" }] }, "allocations.0.isPrimary"],
      [{ ...base, allocations: [alloc, { ...alloc, port: alloc.port + 1 }] }, "allocations"], // two primaries
      [{ ...base, allocations: [alloc, { ...alloc, isPrimary: false }] }, "allocations"], // same ip:port twice
      // references that do not exist
      [{ ...base, ownerId: "user_doesnotexist" }, "ownerId"],
      [{ ...base, nodeId: "node_doesnotexist" }, "nodeId"],
      [{ ...base, blueprintId: "bp_doesnotexist" }, "blueprintId"],
    ];
    for (const [body, field] of cases) {
      const res = await createRaw(body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body, JSON.stringify(body)).toEqual(bad(field));
    }
    for (const body of ["{", "", "null", "[]", "42"]) {
      const res = await createRaw(body);
      expect(res.status, body).toBe(400);
      expect(res.body).toEqual(bad("body"));
    }
    expect(await serversNamed(base.name)).toEqual([]);
    expect(await srv.db.select().from(allocations).where(eq(allocations.nodeId, base.nodeId))).toEqual([]);
  });
});

describe("PATCH /api/admin/servers/:id", () => {
  it("updates every kind of field and returns the server", async () => {
    const owner = await createUser(srv);
    const created = await adminCreateServer(srv, admin, owner.id);
    await new Promise((r) => setTimeout(r, 5));
    const changes = {
      name: "renamed",
      status: "running",
      suspended: true,
      memory: 4096,
      disk: 20480,
      cpu: 250,
      swap: -1,
      cpuPinning: "0-3",
      oomKillDisable: true,
      backupLimit: 10,
      containerId: "container_xyz",
    } as const;
    const res = await patch(created.id, changes);
    expect(res.status).toBe(200);
    const s = expectServerShape(res.body);
    expect(s).toEqual({ ...created, ...changes, updatedAt: s.updatedAt });
    expect(s.createdAt).toBe(created.createdAt);
    expect(Date.parse(s.updatedAt)).toBeGreaterThan(Date.parse(created.updatedAt));
    // persisted: the owner sees the same
    expect((await call(owner.fetch(`/api/servers/${created.id}`))).body).toEqual(res.body);
  });

  it("updates a single field and leaves the rest alone", async () => {
    const owner = await createUser(srv);
    const created = await adminCreateServer(srv, admin, owner.id);
    for (const [key, value] of [
      ["status", "stopped"],
      ["suspended", true],
      ["memory", 1],
      ["name", "solo"],
    ] as const) {
      const before = (await call(admin.fetch(`/api/servers/${created.id}`))).body as ServerSnapshot;
      const res = await patch(created.id, { [key]: value });
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ ...before, [key]: value, updatedAt: res.body.updatedAt });
    }
  });

  it("accepts every documented status and rejects others", async () => {
    const owner = await createUser(srv);
    const created = await adminCreateServer(srv, admin, owner.id);
    for (const status of [
      "installing",
      "install_failed",
      "stopped",
      "starting",
      "running",
      "stopping",
      "restoring_backup",
      "transferring",
    ]) {
      const res = await patch(created.id, { status });
      expect(res.status, status).toBe(200);
      expect(res.body.status).toBe(status);
    }
    for (const status of ["exploded", "RUNNING", "", 1, null]) {
      const res = await patch(created.id, { status });
      expect(res.status, String(status)).toBe(400);
      expect(res.body).toEqual(bad("status"));
    }
    expect((await serverRow(created.id))?.status).toBe("transferring");
  });

  it("clears cpuPinning and containerId with null or an empty string", async () => {
    const owner = await createUser(srv);
    const created = await adminCreateServer(srv, admin, owner.id);
    for (const clear of [null, "", "   "]) {
      const set = await patch(created.id, { cpuPinning: "1", containerId: "c1" });
      expect([set.body.cpuPinning, set.body.containerId]).toEqual(["1", "c1"]);
      const res = await patch(created.id, { cpuPinning: clear, containerId: clear });
      expect(res.status).toBe(200);
      expect(res.body.cpuPinning).toBeNull();
      expect(res.body.containerId).toBeNull();
    }
  });

  it("moves ownership: the old owner loses access, the new one gains it", async () => {
    const oldOwner = await createUser(srv);
    const newOwner = await createUser(srv);
    const created = await adminCreateServer(srv, admin, oldOwner.id);
    expect((await oldOwner.fetch(`/api/servers/${created.id}`)).status).toBe(200);
    expect((await newOwner.fetch(`/api/servers/${created.id}`)).status).toBe(404);

    const res = await patch(created.id, { ownerId: newOwner.id });
    expect(res.status).toBe(200);
    expect(res.body.ownerId).toBe(newOwner.id);

    const lost = await call(oldOwner.fetch(`/api/servers/${created.id}`));
    expect(lost.status).toBe(404);
    expect(lost.body).toEqual(NOT_FOUND);
    expect((await call(oldOwner.fetch("/api/servers"))).body.data).toEqual([]);
    const gained = await call(newOwner.fetch(`/api/servers/${created.id}`));
    expect(gained.status).toBe(200);
    expect(gained.body.ownerId).toBe(newOwner.id);
    expect((await call(newOwner.fetch("/api/servers"))).body.data.map((s: { id: string }) => s.id)).toEqual([
      created.id,
    ]);
  });

  it("drops the new owner's subuser entry when a subuser becomes the owner", async () => {
    const owner = await createUser(srv);
    const sub = await createUser(srv);
    const created = await createServer(srv, owner, { subusers: [sub] });
    const res = await patch(created.id, { ownerId: sub.id });
    expect(res.status).toBe(200);
    expect(await srv.db.select().from(serverSubusers).where(eq(serverSubusers.serverId, created.id))).toEqual(
      [],
    );
    expect((await sub.fetch(`/api/servers/${created.id}`)).status).toBe(200);
    expect((await owner.fetch(`/api/servers/${created.id}`)).status).toBe(404);
  });

  it("is 400 naming ownerId for an unknown user, and changes nothing", async () => {
    const owner = await createUser(srv);
    const created = await adminCreateServer(srv, admin, owner.id);
    const res = await patch(created.id, { name: "should-not-stick", ownerId: "user_doesnotexist" });
    expect(res.status).toBe(400);
    expect(res.body).toEqual(bad("ownerId"));
    const row = await serverRow(created.id);
    expect(row?.ownerId).toBe(owner.id);
    expect(row?.name).toBe(created.name);
  });

  it("is 400 naming the field for bad input, and changes nothing", async () => {
    const owner = await createUser(srv);
    const created = await adminCreateServer(srv, admin, owner.id);
    const cases: [unknown, string][] = [
      [{ name: "" }, "name"],
      [{ name: 1 }, "name"],
      [{ suspended: "true" }, "suspended"],
      [{ memory: -1 }, "memory"],
      [{ memory: "1" }, "memory"],
      [{ disk: 1.5 }, "disk"],
      [{ cpu: null }, "cpu"],
      [{ swap: -2 }, "swap"],
      [{ cpuPinning: 5 }, "cpuPinning"],
      [{ oomKillDisable: 1 }, "oomKillDisable"],
      [{ backupLimit: 1001 }, "backupLimit"],
      [{ containerId: {} }, "containerId"],
      [{ ownerId: "" }, "ownerId"],
      [{ nodeId: "node_x" }, "nodeId"], // an unknown node (nodeId moves the server)
      [{ id: "srv_other" }, "id"],
      [{}, "body"],
      ["{", "body"],
      ["[]", "body"],
    ];
    for (const [body, field] of cases) {
      const res = await patch(created.id, body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body, JSON.stringify(body)).toEqual(bad(field));
    }
    const after = await call(admin.fetch(`/api/servers/${created.id}`));
    expect(after.body).toEqual(created);
  });

  it("is 404 for an unknown server", async () => {
    const res = await patch("srv_doesnotexist", { name: "x" });
    expect(res.status).toBe(404);
    expect(res.body).toEqual(NOT_FOUND);
  });
});

describe("DELETE /api/admin/servers/:id", () => {
  it("deletes: 204, then 404 everywhere, and frees its ports", async () => {
    const owner = await createUser(srv);
    const sub = await createUser(srv);
    const created = await adminCreateServer(srv, admin, owner.id);
    await srv.db.insert(serverSubusers).values({ serverId: created.id, userId: sub.id });

    const res = await admin.fetch(`/api/admin/servers/${created.id}`, { method: "DELETE" });
    expect(res.status).toBe(204);
    expect(await res.text()).toBe("");

    expect(await serverRow(created.id)).toBeUndefined();
    for (const who of [owner, sub, admin]) {
      const got = await call(who.fetch(`/api/servers/${created.id}`));
      expect(got.status).toBe(404);
      expect(got.body).toEqual(NOT_FOUND);
    }
    expect((await call(owner.fetch("/api/servers"))).body.data).toEqual([]);
    const again = await call(admin.fetch(`/api/admin/servers/${created.id}`, { method: "DELETE" }));
    expect(again.status).toBe(404);
    expect(again.body).toEqual(NOT_FOUND);
    expect((await patch(created.id, { name: "zombie" })).status).toBe(404);

    // the allocation went back to the node's free pool (kept, no server, not primary) ...
    const alloc = created.allocations[0]!;
    const [freed] = await srv.db.select().from(allocations).where(eq(allocations.id, alloc.id));
    expect(freed).toMatchObject({ nodeId: created.nodeId, serverId: null, isPrimary: false });
    // ... so the port can be allocated again on that node (claiming the same row)
    const reused = await adminCreateServer(srv, admin, owner.id, {
      nodeId: created.nodeId,
      allocations: [{ ip: alloc.ip, port: alloc.port, isPrimary: true }],
    });
    expect(reused.allocations[0]).toEqual({ ...alloc, isPrimary: true });
  });

  it("is 404 for an unknown server", async () => {
    const res = await call(admin.fetch("/api/admin/servers/srv_doesnotexist", { method: "DELETE" }));
    expect(res.status).toBe(404);
    expect(res.body).toEqual(NOT_FOUND);
  });
});

describe("GET /api/admin/servers", () => {
  const ids = (body: { data: { id: string }[] }) => body.data.map((s) => s.id);

  it("lists every server, newest first, with the full object", async () => {
    const owner = await createUser(srv);
    const a = await adminCreateServer(srv, admin, owner.id);
    const b = await adminCreateServer(srv, admin, owner.id);
    const res = await list({ ownerId: owner.id });
    expect(res.status).toBe(200);
    expect(Object.keys(res.body)).toEqual(["data", "nextCursor"]);
    expect(ids(res.body)).toEqual([b.id, a.id]);
    expect(res.body.nextCursor).toBeNull();
    expect(res.body.data[0]).toEqual(b);
    for (const s of res.body.data) expectServerShape(s);

    const all = await list({ limit: "100" });
    expect(ids(all.body)).toEqual(expect.arrayContaining([a.id, b.id]));
  });

  it("filters by status, nodeId, ownerId and search (combined with AND)", async () => {
    const owner = await createUser(srv);
    const other = await createUser(srv);
    const tag = `flt${Date.now().toString(36)}`;
    const running = await adminCreateServer(srv, admin, owner.id, { name: `${tag}-alpha` });
    await patch(running.id, { status: "running" });
    const stopped = await adminCreateServer(srv, admin, owner.id, { name: `${tag}-beta` });
    await patch(stopped.id, { status: "stopped" });
    const theirs = await adminCreateServer(srv, admin, other.id, {
      name: `${tag}-gamma`,
      nodeId: running.nodeId,
      allocations: [{ ip: "0.0.0.0", port: freshPort(), isPrimary: true }],
    });

    expect(ids((await list({ ownerId: owner.id, status: "running" })).body)).toEqual([running.id]);
    expect(ids((await list({ ownerId: owner.id, status: "stopped" })).body)).toEqual([stopped.id]);
    expect(ids((await list({ ownerId: owner.id, status: "transferring" })).body)).toEqual([]);
    expect(ids((await list({ nodeId: running.nodeId })).body)).toEqual([theirs.id, running.id]);
    expect(ids((await list({ nodeId: running.nodeId, ownerId: other.id })).body)).toEqual([theirs.id]);
    expect(ids((await list({ ownerId: other.id })).body)).toEqual([theirs.id]);
    expect(ids((await list({ ownerId: "user_doesnotexist" })).body)).toEqual([]);
    // search: name (case-insensitive), id, shortId
    expect(ids((await list({ search: tag })).body)).toEqual([theirs.id, stopped.id, running.id]);
    expect(ids((await list({ search: `${tag}-BETA` })).body)).toEqual([stopped.id]);
    expect(ids((await list({ search: stopped.shortId })).body)).toEqual([stopped.id]);
    expect(ids((await list({ search: stopped.id })).body)).toEqual([stopped.id]);
    expect(ids((await list({ search: tag, status: "running" })).body)).toEqual([running.id]);
  });

  it("treats LIKE wildcards in search literally", async () => {
    const owner = await createUser(srv);
    const tag = `lit${Date.now().toString(36)}`;
    const percent = await adminCreateServer(srv, admin, owner.id, { name: `${tag} 100%_done` });
    await adminCreateServer(srv, admin, owner.id, { name: `${tag} 100xxdone` });
    expect(ids((await list({ ownerId: owner.id, search: "100%_" })).body)).toEqual([percent.id]);
    expect(ids((await list({ ownerId: owner.id, search: "%" })).body)).toEqual([percent.id]);
    // "_" alone would match every id (srv_…), so use it inside a name fragment
    expect(ids((await list({ ownerId: owner.id, search: "0%_d" })).body)).toEqual([percent.id]);
    expect(ids((await list({ ownerId: owner.id, search: "0__d" })).body)).toEqual([]);
    expect(ids((await list({ ownerId: owner.id, search: "\\" })).body)).toEqual([]);
  });

  it("pages with limit and nextCursor: every server exactly once, null at the end", async () => {
    const owner = await createUser(srv);
    const made: string[] = [];
    for (let i = 0; i < 7; i++) made.push((await adminCreateServer(srv, admin, owner.id)).id);

    const seen: string[] = [];
    let cursor: string | null = null;
    const sizes: number[] = [];
    do {
      const query: Record<string, string> = { ownerId: owner.id, limit: "3" };
      if (cursor) query.cursor = cursor;
      const res = await list(query);
      expect(res.status).toBe(200);
      sizes.push(res.body.data.length);
      seen.push(...ids(res.body));
      cursor = res.body.nextCursor;
      if (cursor !== null) expect(cursor).toEqual(expect.any(String));
    } while (cursor && sizes.length < 10);
    expect(sizes).toEqual([3, 3, 1]);
    expect(seen).toEqual([...made].reverse());
    expect(new Set(seen).size).toBe(7);

    // an exact multiple of the page size ends with nextCursor null, not an empty page
    const exact = await list({ ownerId: owner.id, limit: "7" });
    expect(exact.body.data).toHaveLength(7);
    expect(exact.body.nextCursor).toBeNull();
  });

  it("pages correctly when servers share the same createdAt", async () => {
    const owner = await createUser(srv);
    const made: string[] = [];
    for (let i = 0; i < 5; i++) made.push((await createServer(srv, owner)).id);
    await srv.db
      .update(servers)
      .set({ createdAt: new Date("2026-03-01T12:00:00.000Z") })
      .where(eq(servers.ownerId, owner.id));

    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const query: Record<string, string> = { ownerId: owner.id, limit: "2" };
      if (cursor) query.cursor = cursor;
      const res = await list(query);
      expect(res.status).toBe(200);
      seen.push(...ids(res.body));
      cursor = res.body.nextCursor;
      pages++;
    } while (cursor && pages < 10);
    expect(pages).toBe(3);
    expect(seen).toHaveLength(5);
    expect([...seen].sort()).toEqual([...made].sort());
    // ties are broken by id, descending
    expect(seen).toEqual([...made].sort().reverse());
  });

  it("does not repeat or skip servers created while paging", async () => {
    const owner = await createUser(srv);
    const before: string[] = [];
    for (let i = 0; i < 4; i++) before.push((await adminCreateServer(srv, admin, owner.id)).id);
    const first = await list({ ownerId: owner.id, limit: "2" });
    await adminCreateServer(srv, admin, owner.id); // newer: lands before the cursor
    const second = await list({ ownerId: owner.id, limit: "2", cursor: first.body.nextCursor });
    expect([...ids(first.body), ...ids(second.body)]).toEqual([...before].reverse());
    expect(second.body.nextCursor).toBeNull();
  });

  it("is 400 naming the parameter for bad query input", async () => {
    const cases: [Record<string, string>, string][] = [
      [{ limit: "101" }, "limit"],
      [{ limit: "0" }, "limit"],
      [{ limit: "-5" }, "limit"],
      [{ limit: "abc" }, "limit"],
      [{ limit: "2.5" }, "limit"],
      [{ limit: "1e1" }, "limit"],
      [{ limit: "0x10" }, "limit"],
      [{ limit: "99999999999" }, "limit"],
      [{ status: "exploded" }, "status"],
      [{ cursor: "garbage" }, "cursor"],
      [{ cursor: Buffer.from("[1,2]").toString("base64url") }, "cursor"],
      [{ cursor: Buffer.from('["not a date","srv_x"]').toString("base64url") }, "cursor"],
      [{ cursor: Buffer.from("null").toString("base64url") }, "cursor"],
      [{ search: "x".repeat(101) }, "search"],
    ];
    for (const [query, field] of cases) {
      const res = await list(query);
      expect(res.status, JSON.stringify(query)).toBe(400);
      expect(res.body, JSON.stringify(query)).toEqual(bad(field));
    }
  });

  it("accepts limit=100 and defaults to pages of 50", async () => {
    const res = await list({ limit: "100" });
    expect(res.status).toBe(200);
    expect(res.body.data.length).toBeLessThanOrEqual(100);
    const owner = await createUser(srv);
    const { node, blueprintId } = await createNode(srv);
    // 51 servers of one owner, inserted directly to keep this fast
    const rows = Array.from({ length: 51 }, (_, i) => ({
      id: newId("server", `page${i}x${owner.id.slice(-6)}`),
      shortId: `page${i}x${owner.id.slice(-6)}`,
      name: `bulk-${i}`,
      memory: 1,
      disk: 1,
      cpu: 1,
      nodeId: node.id,
      blueprintId,
      ownerId: owner.id,
    }));
    await srv.db.insert(servers).values(rows);
    const first = await list({ ownerId: owner.id });
    expect(first.body.data).toHaveLength(50);
    expect(first.body.nextCursor).toEqual(expect.any(String));
    const rest = await list({ ownerId: owner.id, cursor: first.body.nextCursor });
    expect(rest.body.data).toHaveLength(1);
    expect(rest.body.nextCursor).toBeNull();
    expect(new Set([...ids(first.body), ...ids(rest.body)]).size).toBe(51);
  });

  it("treats empty query parameters as not given (the documented URL shape)", async () => {
    const owner = await createUser(srv);
    const mine = await adminCreateServer(srv, admin, owner.id);
    const res = await call(
      admin.fetch(`/api/admin/servers?status=&nodeId=&ownerId=${owner.id}&search=&limit=&cursor=`),
    );
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ data: [mine], nextCursor: null });
  });
});
