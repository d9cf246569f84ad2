import { blueprints, locations, nodes, user as userTable } from "@panel/db";
import { nodeSchema } from "@panel/protocol";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningServer } from "../../src/server.ts";
import { createUser, type TestUser } from "../support/factories.ts";
import { startTestServer } from "../support/server.ts";
import { anonymous, bogusCookie, call, json, NODE_KEYS } from "./support.ts";

let srv: RunningServer;
let admin: TestUser;
let user: TestUser;
beforeAll(async () => {
  srv = await startTestServer();
  admin = await createUser(srv, { admin: true });
  user = await createUser(srv);
});
afterAll(() => srv.close());

const post = (as: TestUser, path: string, body: unknown) => call(as.fetch(path, json("POST", body)));

async function newLocation(name = "US East") {
  const res = await post(admin, "/api/admin/locations", { name });
  expect(res.status).toBe(201);
  return res.body as { id: string; name: string };
}

const validNode = (locationId: string) => ({
  displayName: "US-East-1",
  fqdn: "node1.example.com",
  host: "10.0.0.5",
  port: 443,
  protocol: "https",
  sftpPort: 2022,
  daemonPort: 8080,
  locationId,
});

describe("admin routes: who may call them", () => {
  const routes = [
    ["/api/admin/locations", { name: "x" }],
    ["/api/admin/blueprints", { name: "x" }],
    ["/api/admin/nodes", validNode("loc_x")],
  ] as const;

  it("are 401 without a session and with a bogus cookie", async () => {
    for (const [path, body] of routes) {
      for (const send of [anonymous, bogusCookie]) {
        const res = await call(send(srv, path, json("POST", body)));
        expect(res.status, path).toBe(401);
        expect(res.body).toEqual({ error: "Unauthorized" });
      }
    }
  });

  it("are 403 for a signed-in non-admin, and write nothing", async () => {
    const name = `forbidden-${Date.now()}`;
    for (const [path] of routes) {
      const res = await post(user, path, path.endsWith("nodes") ? validNode("loc_x") : { name });
      expect(res.status, path).toBe(403);
      expect(res.body).toEqual({ error: expect.any(String) });
    }
    expect(await srv.db.select().from(locations).where(eq(locations.name, name))).toEqual([]);
    expect(await srv.db.select().from(blueprints).where(eq(blueprints.name, name))).toEqual([]);
  });

  it("follow role changes at once: a demoted admin gets 403", async () => {
    const former = await createUser(srv, { admin: true });
    expect((await post(former, "/api/admin/locations", { name: "before" })).status).toBe(201);
    await srv.db.update(userTable).set({ role: "user" }).where(eq(userTable.id, former.id));
    const res = await post(former, "/api/admin/locations", { name: "after" });
    expect(res.status).toBe(403);
  });

  it("are 403 for a non-admin's API key too", async () => {
    const { key } = await srv.auth.api.createApiKey({ body: { userId: user.id, name: "script" } });
    const res = await call(
      fetch(`${srv.url}/api/admin/locations`, {
        ...json("POST", { name: "x" }),
        headers: { "content-type": "application/json", "x-api-key": key },
      }),
    );
    expect(res.status).toBe(403);
  });
});

describe("POST /api/admin/locations", () => {
  it("creates a location: 201 {id,name}", async () => {
    const res = await post(admin, "/api/admin/locations", { name: "  EU West  " });
    expect(res.status).toBe(201);
    expect(Object.keys(res.body)).toEqual(["id", "name"]);
    expect(res.body.id).toMatch(/^loc_[a-z0-9]+$/);
    expect(res.body.name).toBe("EU West");
    const [row] = await srv.db.select().from(locations).where(eq(locations.id, res.body.id));
    expect(row?.name).toBe("EU West");
  });

  it("gives every location its own id", async () => {
    const a = await newLocation("same");
    const b = await newLocation("same");
    expect(a.id).not.toBe(b.id);
  });

  it("is 400 naming name for a missing, empty, blank, non-string or too long name", async () => {
    for (const body of [
      {},
      { name: "" },
      { name: "   " },
      { name: 7 },
      { name: null },
      { name: "x".repeat(101) },
    ]) {
      const res = await post(admin, "/api/admin/locations", body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body).toEqual({ error: expect.any(String), field: "name" });
    }
  });

  it("is 400 for a body that is not JSON", async () => {
    const res = await post(admin, "/api/admin/locations", "{name:");
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ error: expect.any(String), field: "body" });
  });
});

describe("POST /api/admin/blueprints", () => {
  it("creates a blueprint: 201 {id,name}", async () => {
    const res = await post(admin, "/api/admin/blueprints", { name: "Minecraft Java" });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({ id: expect.stringMatching(/^bp_[a-z0-9]+$/), name: "Minecraft Java" });
    expect(Object.keys(res.body)).toEqual(["id", "name"]);
    const [row] = await srv.db.select().from(blueprints).where(eq(blueprints.id, res.body.id));
    expect(row?.name).toBe("Minecraft Java");
  });

  it("is 400 naming name for bad input", async () => {
    for (const body of [{}, { name: "" }, { name: ["a"] }]) {
      const res = await post(admin, "/api/admin/blueprints", body);
      expect(res.status).toBe(400);
      expect(res.body).toEqual({ error: expect.any(String), field: "name" });
    }
    const bad = await post(admin, "/api/admin/blueprints", "not json");
    expect(bad.status).toBe(400);
    expect(bad.body.field).toBe("body");
  });
});

describe("POST /api/admin/nodes", () => {
  it("creates a node: 201 with the node object as nested in a server", async () => {
    const location = await newLocation("US East");
    const res = await post(admin, "/api/admin/nodes", validNode(location.id));
    expect(res.status).toBe(201);
    expect(Object.keys(res.body)).toEqual(NODE_KEYS);
    expect(nodeSchema.parse(res.body)).toEqual(res.body);
    expect(res.body).toEqual({
      id: expect.stringMatching(/^node_[a-z0-9]+$/),
      shortId: expect.any(String),
      displayName: "US-East-1",
      host: "10.0.0.5",
      port: 443,
      protocol: "https",
      sftpPort: 2022,
      isOnline: false,
      fqdn: "node1.example.com",
      daemonPort: 8080,
      location: { id: location.id, name: "US East" },
    });
    expect(res.body.id).toBe(`node_${res.body.shortId}`);
    const [row] = await srv.db.select().from(nodes).where(eq(nodes.id, res.body.id));
    expect(row?.locationId).toBe(location.id);
  });

  it("accepts http", async () => {
    const location = await newLocation();
    const res = await post(admin, "/api/admin/nodes", { ...validNode(location.id), protocol: "http" });
    expect(res.status).toBe(201);
    expect(res.body.protocol).toBe("http");
  });

  it("is 400 naming the field for bad input, and writes nothing", async () => {
    const location = await newLocation();
    const base = validNode(location.id);
    const cases: [Record<string, unknown>, string][] = [
      [{ ...base, port: 0 }, "port"],
      [{ ...base, port: 65536 }, "port"],
      [{ ...base, port: "443" }, "port"],
      [{ ...base, port: 44.3 }, "port"],
      [{ ...base, sftpPort: -1 }, "sftpPort"],
      [{ ...base, daemonPort: 70000 }, "daemonPort"],
      [{ ...base, protocol: "ftp" }, "protocol"],
      [{ ...base, displayName: "" }, "displayName"],
      [{ ...base, fqdn: "bad host name" }, "fqdn"],
      [{ ...base, host: 12 }, "host"],
      [{ ...base, locationId: undefined }, "locationId"],
    ];
    for (const [body, field] of cases) {
      const res = await post(admin, "/api/admin/nodes", body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body).toEqual({ error: expect.any(String), field });
    }
    expect(await srv.db.select().from(nodes).where(eq(nodes.locationId, location.id))).toEqual([]);
  });

  it("is 400 naming locationId for an unknown location, and writes nothing", async () => {
    const res = await post(admin, "/api/admin/nodes", {
      ...validNode("loc_doesnotexist"),
      displayName: "ghost",
    });
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ error: expect.any(String), field: "locationId" });
    expect(await srv.db.select().from(nodes).where(eq(nodes.displayName, "ghost"))).toEqual([]);
  });

  it("is 400 for a body that is not JSON", async () => {
    const res = await post(admin, "/api/admin/nodes", "[1,");
    expect(res.status).toBe(400);
    expect(res.body.field).toBe("body");
  });
});
