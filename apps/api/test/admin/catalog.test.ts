import { locations, nodes } from "@panel/db";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningServer } from "../../src/server.ts";
import { NODE_KEYS } from "../rest/support.ts";
import { createNode, createServer, createUser, type TestUser } from "../support/factories.ts";
import { startTestServer } from "../support/server.ts";
import {
  apiKeyOf,
  auditCount,
  bad,
  call,
  expectAdminOnly,
  json,
  type KeyUser,
  lastAudit,
} from "./support.ts";

let srv: RunningServer;
let admin: TestUser;
let user: TestUser;
let key: KeyUser;
beforeAll(async () => {
  srv = await startTestServer();
  admin = await createUser(srv, { admin: true });
  user = await createUser(srv);
  key = await apiKeyOf(srv, admin);
});
afterAll(() => srv.close());

const nodeBody = (locationId: string, over: Record<string, unknown> = {}) => ({
  displayName: "EU-West-1",
  fqdn: "eu1.nodes.test",
  host: "10.0.0.5",
  port: 443,
  protocol: "https",
  sftpPort: 2022,
  daemonPort: 8080,
  locationId,
  ...over,
});

describe("admin catalog: who may call it", () => {
  it("is 401 anonymous, 403 for users, and writes nothing", async () => {
    const { node, locationId, blueprintId } = await createNode(srv);
    await expectAdminOnly(srv, user, [
      ["GET", "/api/admin/locations"],
      ["GET", `/api/admin/locations/${locationId}`],
      ["PATCH", `/api/admin/locations/${locationId}`, { name: "pwned" }],
      ["DELETE", `/api/admin/locations/${locationId}`],
      ["GET", "/api/admin/blueprints"],
      ["GET", `/api/admin/blueprints/${blueprintId}`],
      ["PATCH", `/api/admin/blueprints/${blueprintId}`, { name: "pwned" }],
      ["DELETE", `/api/admin/blueprints/${blueprintId}`],
      ["GET", "/api/admin/nodes"],
      ["GET", `/api/admin/nodes/${node.id}`],
      ["PATCH", `/api/admin/nodes/${node.id}`, { displayName: "pwned" }],
      ["DELETE", `/api/admin/nodes/${node.id}`],
    ]);
    expect((await call(admin.fetch(`/api/admin/nodes/${node.id}`))).body.displayName).toBe(node.displayName);
  });

  it("accepts an admin's API key and records it as the actor", async () => {
    const created = await call(key.fetch("/api/admin/locations", json("POST", { name: "Via key" })));
    expect(created.status).toBe(201);
    const row = await lastAudit(srv, "location.create", created.body.id);
    expect(row).toMatchObject({ actorId: admin.id, actorKind: "apiKey", apiKeyId: key.keyId });
    const listed = await call(key.fetch("/api/admin/locations"));
    expect(listed.status).toBe(200);
    expect(listed.body.data).toContainEqual(created.body);
  });
});

describe("locations", () => {
  it("creates, lists, reads, renames and deletes, each write audited", async () => {
    const created = await call(admin.fetch("/api/admin/locations", json("POST", { name: " Frankfurt " })));
    expect(created.status).toBe(201);
    expect(created.body).toEqual({ id: expect.stringMatching(/^loc_/), name: "Frankfurt" });
    const id = created.body.id as string;
    expect(await lastAudit(srv, "location.create", id)).toMatchObject({
      actorId: admin.id,
      actorKind: "session",
      apiKeyId: null,
      targetType: "location",
      details: { name: "Frankfurt" },
    });

    const list = await call(admin.fetch("/api/admin/locations"));
    expect(list.status).toBe(200);
    expect(list.body.data).toContainEqual({ id, name: "Frankfurt" });
    expect((await call(admin.fetch(`/api/admin/locations/${id}`))).body).toEqual({ id, name: "Frankfurt" });

    const renamed = await call(admin.fetch(`/api/admin/locations/${id}`, json("PATCH", { name: "FRA" })));
    expect(renamed.status).toBe(200);
    expect(renamed.body).toEqual({ id, name: "FRA" });
    expect((await lastAudit(srv, "location.update", id)).details).toEqual({
      changes: { name: { from: "Frankfurt", to: "FRA" } },
    });

    const del = await admin.fetch(`/api/admin/locations/${id}`, { method: "DELETE" });
    expect(del.status).toBe(204);
    expect(await lastAudit(srv, "location.delete", id)).toMatchObject({ details: { name: "FRA" } });
    expect((await call(admin.fetch(`/api/admin/locations/${id}`))).status).toBe(404);
  });

  it("is 400 naming the field, 404 for unknown ids, and audits nothing on failure", async () => {
    const before = await auditCount(srv, admin.id);
    const { locationId } = await createNode(srv);
    for (const [body, field] of [
      [{}, "name"],
      [{ name: "" }, "name"],
      [{ name: 5 }, "name"],
      [{ name: "x", extra: 1 }, "extra"],
      ["{", "body"],
    ] as const) {
      const res = await call(admin.fetch(`/api/admin/locations/${locationId}`, json("PATCH", body)));
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body).toEqual(bad(field));
    }
    for (const [method, body] of [
      ["GET", undefined],
      ["PATCH", { name: "x" }],
      ["DELETE", undefined],
    ] as const) {
      const res = await call(
        admin.fetch("/api/admin/locations/loc_nope", body ? json(method, body) : { method }),
      );
      expect(res.status, method).toBe(404);
      expect(res.body).toEqual({ error: "Location not found" });
    }
    expect(await auditCount(srv, admin.id)).toBe(before);
  });

  it("is 409 deleting a location that nodes still use, and deletes nothing", async () => {
    const { locationId } = await createNode(srv);
    const before = await auditCount(srv, admin.id);
    const res = await call(admin.fetch(`/api/admin/locations/${locationId}`, { method: "DELETE" }));
    expect(res.status).toBe(409);
    expect(res.body).toEqual({ error: expect.stringContaining("node") });
    expect(await srv.db.select().from(locations).where(eq(locations.id, locationId))).toHaveLength(1);
    expect(await auditCount(srv, admin.id)).toBe(before);
  });
});

describe("blueprints", () => {
  it("creates, lists, reads, renames and deletes", async () => {
    const created = await call(admin.fetch("/api/admin/blueprints", json("POST", { name: "Rust" })));
    expect(created.status).toBe(201);
    const id = created.body.id as string;
    expect(await lastAudit(srv, "blueprint.create", id)).toMatchObject({ targetType: "blueprint" });
    expect((await call(admin.fetch("/api/admin/blueprints"))).body.data).toContainEqual({ id, name: "Rust" });
    expect((await call(admin.fetch(`/api/admin/blueprints/${id}`))).body).toEqual({ id, name: "Rust" });
    const renamed = await call(admin.fetch(`/api/admin/blueprints/${id}`, json("PATCH", { name: "Rust+" })));
    expect(renamed.body).toEqual({ id, name: "Rust+" });
    expect((await lastAudit(srv, "blueprint.update", id)).details).toEqual({
      changes: { name: { from: "Rust", to: "Rust+" } },
    });
    expect((await admin.fetch(`/api/admin/blueprints/${id}`, { method: "DELETE" })).status).toBe(204);
    await lastAudit(srv, "blueprint.delete", id);
    expect((await call(admin.fetch(`/api/admin/blueprints/${id}`))).status).toBe(404);
  });

  it("is 400/404 for bad input and unknown ids", async () => {
    const created = await call(admin.fetch("/api/admin/blueprints", json("POST", { name: "Valheim" })));
    const res = await call(
      admin.fetch(`/api/admin/blueprints/${created.body.id}`, json("PATCH", { name: " " })),
    );
    expect(res.status).toBe(400);
    expect(res.body).toEqual(bad("name"));
    expect(
      (await call(admin.fetch("/api/admin/blueprints/bp_nope", json("PATCH", { name: "x" })))).status,
    ).toBe(404);
    expect((await call(admin.fetch("/api/admin/blueprints/bp_nope", { method: "DELETE" }))).status).toBe(404);
  });

  it("is 409 deleting a blueprint servers use", async () => {
    const owner = await createUser(srv);
    const server = await createServer(srv, owner);
    const res = await call(admin.fetch(`/api/admin/blueprints/${server.blueprintId}`, { method: "DELETE" }));
    expect(res.status).toBe(409);
    expect(res.body).toEqual({ error: expect.stringContaining("server") });
    expect((await call(admin.fetch(`/api/admin/blueprints/${server.blueprintId}`))).status).toBe(200);
  });
});

describe("nodes", () => {
  it("lists nodes with their location and capacity, filtered by location", async () => {
    const { node, locationId } = await createNode(srv);
    const all = await call(admin.fetch("/api/admin/nodes"));
    expect(all.status).toBe(200);
    const mine = all.body.data.find((n: { id: string }) => n.id === node.id);
    expect(Object.keys(mine)).toEqual([...NODE_KEYS, "memory", "disk"]);
    expect(mine).toMatchObject({
      id: node.id,
      isOnline: true,
      memory: 0,
      disk: 0,
      location: { id: locationId },
    });
    const filtered = await call(admin.fetch(`/api/admin/nodes?locationId=${locationId}`));
    expect(filtered.body.data.map((n: { id: string }) => n.id)).toEqual([node.id]);
    const one = await call(admin.fetch(`/api/admin/nodes/${node.id}`));
    expect(one.body).toEqual(mine);
    expect((await call(admin.fetch("/api/admin/nodes/node_nope"))).status).toBe(404);
  });

  it("creates with optional capacity and patches any field, incl. isOnline and capacity", async () => {
    const { locationId } = await createNode(srv);
    const { locationId: otherLocation } = await createNode(srv);
    const created = await call(
      admin.fetch("/api/admin/nodes", json("POST", nodeBody(locationId, { memory: 32768, disk: 512000 }))),
    );
    expect(created.status).toBe(201);
    expect(Object.keys(created.body)).toEqual(NODE_KEYS);
    const id = created.body.id as string;
    expect((await lastAudit(srv, "node.create", id)).details).toMatchObject({ displayName: "EU-West-1" });

    const res = await call(
      admin.fetch(
        `/api/admin/nodes/${id}`,
        json("PATCH", {
          isOnline: true,
          memory: 65536,
          disk: 1_000_000,
          displayName: "EU-2",
          locationId: otherLocation,
        }),
      ),
    );
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      id,
      displayName: "EU-2",
      isOnline: true,
      memory: 65536,
      disk: 1_000_000,
      location: { id: otherLocation },
    });
    expect((await lastAudit(srv, "node.update", id)).details).toEqual({
      changes: {
        isOnline: { from: false, to: true },
        memory: { from: 32768, to: 65536 },
        disk: { from: 512000, to: 1_000_000 },
        displayName: { from: "EU-West-1", to: "EU-2" },
        locationId: { from: locationId, to: otherLocation },
      },
    });
  });

  it("is 400 naming the field for bad patches, and changes nothing", async () => {
    const { node } = await createNode(srv);
    const before = await auditCount(srv, admin.id);
    for (const [body, field] of [
      [{}, "body"],
      [{ port: 0 }, "port"],
      [{ protocol: "ftp" }, "protocol"],
      [{ isOnline: "yes" }, "isOnline"],
      [{ memory: -1 }, "memory"],
      [{ disk: 1.5 }, "disk"],
      [{ host: "bad host!" }, "host"],
      [{ shortId: "x" }, "shortId"],
      [{ locationId: "loc_nope" }, "locationId"],
    ] as const) {
      const res = await call(admin.fetch(`/api/admin/nodes/${node.id}`, json("PATCH", body)));
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body, JSON.stringify(body)).toEqual(bad(field));
    }
    const [row] = await srv.db.select().from(nodes).where(eq(nodes.id, node.id));
    expect(row?.updatedAt).toEqual(node.updatedAt);
    expect(await auditCount(srv, admin.id)).toBe(before);
    expect((await call(admin.fetch("/api/admin/nodes/node_nope", json("PATCH", { port: 1 })))).status).toBe(
      404,
    );
  });

  it("is 409 'Node still has servers' on delete, and 204 once empty (free allocations go too)", async () => {
    const owner = await createUser(srv);
    const server = await createServer(srv, owner);
    const res = await call(admin.fetch(`/api/admin/nodes/${server.nodeId}`, { method: "DELETE" }));
    expect(res.status).toBe(409);
    expect(res.body).toEqual({ error: "Node still has servers" });

    expect((await admin.fetch(`/api/admin/servers/${server.id}`, { method: "DELETE" })).status).toBe(204);
    const del = await admin.fetch(`/api/admin/nodes/${server.nodeId}`, { method: "DELETE" });
    expect(del.status).toBe(204);
    await lastAudit(srv, "node.delete", server.nodeId);
    expect(await srv.db.select().from(nodes).where(eq(nodes.id, server.nodeId))).toEqual([]);
    expect((await call(admin.fetch(`/api/admin/nodes/${server.nodeId}`, { method: "DELETE" }))).status).toBe(
      404,
    );
  });
});
