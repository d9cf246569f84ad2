import { WS_ERRORS } from "@panel/protocol";
import pino from "pino";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { Logger } from "../../src/logger.ts";
import type { RunningServer } from "../../src/server.ts";
import {
  createServer,
  createUser,
  request,
  type TestUser,
  ticketFor,
  uniqueEmail,
} from "../support/factories.ts";
import { startTestServer } from "../support/server.ts";
import { connectAuthed, type TestSocket } from "../support/ws-client.ts";

/** Every log line the server writes, parsed; pino's level 50 is `error`. */
const logLines: { level: number; msg?: string }[] = [];
const captureLogger: Logger = pino(
  { level: "info", base: undefined },
  { write: (line: string) => void logLines.push(JSON.parse(line)) },
);
const errorLines = () => logLines.filter((l) => l.level >= 50);

/** Every SQL statement, so a test can show that a refused input never reached the database. */
const queries: string[] = [];

let srv: RunningServer;
let admin: TestUser;
let owner: TestUser;
let server: Awaited<ReturnType<typeof createServer>>;
let locationId: string;

beforeAll(async () => {
  srv = await startTestServer({
    logger: captureLogger,
    queryLogger: { logQuery: (query) => void queries.push(query) },
  });
  admin = await createUser(srv, { admin: true });
  owner = await createUser(srv);
  server = await createServer(srv, owner);
  const created = await admin.fetch("/api/admin/locations", {
    method: "POST",
    body: JSON.stringify({ name: "Hygiene" }),
  });
  locationId = ((await created.json()) as { id: string }).id;
});
afterAll(() => srv.close());
afterEach(() => {
  expect(errorLines()).toEqual([]);
  logLines.length = 0;
});

const NUL = "\u0000";
const LONE_HIGH = "\ud800";
const LONE_LOW = "\udc00";
/** 100k levels: 200 KB, under the 256 KiB body limit. */
const DEEP_ARRAY = `${"[".repeat(100_000)}${"]".repeat(100_000)}`;
const deepIn = (key: string) => `{"${key}":${DEEP_ARRAY}}`;
const cursorOf = (parts: unknown[]) => Buffer.from(JSON.stringify(parts)).toString("base64url");

type Case = {
  as: () => TestUser | undefined;
  method?: string;
  path: () => string;
  /** a value is sent as JSON; a string as is */
  body?: unknown;
  field: string;
};

async function send(c: Case) {
  const init: RequestInit = { method: c.method ?? (c.body === undefined ? "GET" : "POST") };
  const headers: Record<string, string> = {};
  if (c.body !== undefined) {
    init.body = typeof c.body === "string" ? c.body : JSON.stringify(c.body);
    headers["content-type"] = "application/json";
  }
  const user = c.as();
  if (user) headers.cookie = user.cookie;
  return request(srv, c.path(), init, headers);
}

/** 400 `{"error", "field"}` naming the field, and not one error-level log line. */
async function expectRefused(label: string, c: Case) {
  const res = await send(c);
  const text = await res.text();
  expect(res.status, `${label}: ${text}`).toBe(400);
  expect(res.headers.get("content-type"), label).toMatch(/^application\/json/);
  const body = JSON.parse(text);
  expect(body, label).toEqual({ error: expect.any(String), field: c.field });
  expect(errorLines(), label).toEqual([]);
}

async function expectAllRefused(cases: Record<string, Case>) {
  for (const [label, c] of Object.entries(cases)) await expectRefused(label, c);
}

const asAdmin = () => admin;
const asOwner = () => owner;
const anonymous = () => undefined;

describe("hostile strings over HTTP are a 400 naming the field", () => {
  it("/api/auth/* (better-auth)", async () => {
    await expectAllRefused({
      "sign-in NUL email": {
        as: anonymous,
        path: () => "/api/auth/sign-in/email",
        body: { email: `a${NUL}@test.local`, password: "password-1" },
        field: "email",
      },
      "sign-up lone surrogate name": {
        as: anonymous,
        path: () => "/api/auth/sign-up/email",
        body: { name: `x${LONE_HIGH}`, email: uniqueEmail(), password: "password-1" },
        field: "name",
      },
      "update-user NUL name": {
        as: asOwner,
        path: () => "/api/auth/update-user",
        body: { name: `x${NUL}` },
        field: "name",
      },
      "update-user lone low surrogate": {
        as: asOwner,
        path: () => "/api/auth/update-user",
        body: { image: LONE_LOW },
        field: "image",
      },
      "update-user 100k-deep body": {
        as: asOwner,
        path: () => "/api/auth/update-user",
        body: deepIn("name"),
        field: "body",
      },
      "get-session NUL query": {
        as: asOwner,
        path: () => "/api/auth/get-session?disableCookieCache=%00",
        field: "disableCookieCache",
      },
      "NUL in the path": { as: anonymous, path: () => "/api/auth/%00", field: "path" },
    });
    // better-auth still reads bodies the check has read first
    const ok = await owner.fetch("/api/auth/update-user", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ name: "Clean Name" }),
    });
    expect(ok.status).toBe(200);
    const session = (await (await owner.fetch("/api/auth/get-session")).json()) as { user: { name: string } };
    expect(session.user.name).toBe("Clean Name");
  });

  it("/api/servers/* and /api/servers/:id/subusers*", async () => {
    await expectAllRefused({
      "NUL id": { as: asOwner, path: () => "/api/servers/srv_%00", field: "path" },
      "encoded lone surrogate id": { as: asOwner, path: () => "/api/servers/srv_%ED%A0%80", field: "path" },
      "truncated escape": { as: asOwner, path: () => "/api/servers/srv_%E0%A4%A", field: "path" },
      "id of the wrong shape": { as: asOwner, path: () => "/api/servers/not-a-server", field: "id" },
      "NUL query": { as: asOwner, path: () => "/api/servers?page=%00", field: "page" },
      "malformed query": { as: asOwner, path: () => "/api/servers?q=%ZZ", field: "q" },
      "subuser NUL email": {
        as: asOwner,
        path: () => `/api/servers/${server.id}/subusers`,
        body: { email: `a${NUL}@test.local` },
        field: "email",
      },
      "subuser lone surrogate key": {
        as: asOwner,
        path: () => `/api/servers/${server.id}/subusers`,
        body: { email: "a@test.local", [LONE_HIGH]: 1 },
        field: "\ufffd",
      },
      "subuser deep body": {
        as: asOwner,
        path: () => `/api/servers/${server.id}/subusers`,
        body: deepIn("email"),
        field: "body",
      },
      "subuser server id of the wrong shape": {
        as: asOwner,
        path: () => "/api/servers/srv.x/subusers",
        body: { email: "a@test.local" },
        field: "id",
      },
      "subuser NUL user id": {
        as: asOwner,
        method: "DELETE",
        path: () => `/api/servers/${server.id}/subusers/user_%00`,
        field: "path",
      },
      "subuser user id of the wrong shape": {
        as: asOwner,
        method: "DELETE",
        path: () => `/api/servers/${server.id}/subusers/srv_${server.shortId}`,
        field: "userId",
      },
    });
  });

  it("/api/api-keys* and /api/ws/token", async () => {
    await expectAllRefused({
      "NUL key name": { as: asOwner, path: () => "/api/api-keys", body: { name: `k${NUL}` }, field: "name" },
      "lone surrogate key name": {
        as: asOwner,
        path: () => "/api/api-keys",
        body: { name: `k${LONE_HIGH}` },
        field: "name",
      },
      "deep body": { as: asOwner, path: () => "/api/api-keys", body: deepIn("name"), field: "body" },
      "NUL key id": { as: asOwner, method: "DELETE", path: () => "/api/api-keys/%00", field: "path" },
      "key id of the wrong shape": {
        as: asOwner,
        method: "DELETE",
        path: () => "/api/api-keys/a.b",
        field: "id",
      },
      "ws token NUL query": { as: asOwner, path: () => "/api/ws/token?x=%00", field: "x" },
    });
  });

  it("/api/admin/locations, nodes, blueprints", async () => {
    await expectAllRefused({
      "location lone surrogate name (audited write)": {
        as: asAdmin,
        path: () => "/api/admin/locations",
        body: { name: `Hostile ${LONE_HIGH}` },
        field: "name",
      },
      "location NUL rename": {
        as: asAdmin,
        method: "PATCH",
        path: () => `/api/admin/locations/${locationId}`,
        body: { name: `a${NUL}` },
        field: "name",
      },
      "location NUL id": { as: asAdmin, path: () => "/api/admin/locations/loc_%00", field: "path" },
      "location id of the wrong shape": {
        as: asAdmin,
        method: "DELETE",
        path: () => `/api/admin/locations/${server.id}`,
        field: "id",
      },
      "node NUL display name": {
        as: asAdmin,
        path: () => "/api/admin/nodes",
        body: {
          displayName: `n${NUL}`,
          fqdn: "n.test",
          host: "n.test",
          port: 443,
          protocol: "https",
          sftpPort: 2022,
          daemonPort: 8080,
          locationId,
        },
        field: "displayName",
      },
      "node list NUL locationId": {
        as: asAdmin,
        path: () => "/api/admin/nodes?locationId=loc_%00",
        field: "locationId",
      },
      "node id of the wrong shape": { as: asAdmin, path: () => "/api/admin/nodes/x y", field: "id" },
      "blueprint lone low surrogate": {
        as: asAdmin,
        path: () => "/api/admin/blueprints",
        body: { name: `${LONE_LOW}bp` },
        field: "name",
      },
      "blueprint deep body": {
        as: asAdmin,
        path: () => "/api/admin/blueprints",
        body: deepIn("name"),
        field: "body",
      },
    });
    const names = (await (await admin.fetch("/api/admin/locations")).json()) as { data: { name: string }[] };
    expect(names.data.map((l) => l.name)).toContain("Hygiene");
    expect(names.data.filter((l) => l.name.startsWith("Hostile"))).toEqual([]);
  });

  it("/api/admin/servers, incl. list query params and cursor", async () => {
    const create = {
      name: "hostile",
      ownerId: owner.id,
      nodeId: server.nodeId,
      blueprintId: server.blueprintId,
      memory: 1024,
      disk: 1024,
      cpu: 100,
      allocations: [{ ip: "0.0.0.0", port: 30001, isPrimary: true }],
    };
    await expectAllRefused({
      "create with a lone surrogate name (audited)": {
        as: asAdmin,
        path: () => "/api/admin/servers",
        body: { ...create, name: `x${LONE_HIGH}` },
        field: "name",
      },
      "create with a NUL deep in the allocations": {
        as: asAdmin,
        path: () => "/api/admin/servers",
        body: { ...create, allocations: [{ ip: "0.0.0.0", port: 30001, [`x${NUL}`]: true }] },
        field: "allocations.0.x\ufffd",
      },
      "patch NUL cpuPinning": {
        as: asAdmin,
        method: "PATCH",
        path: () => `/api/admin/servers/${server.id}`,
        body: { cpuPinning: `0-1${NUL}` },
        field: "cpuPinning",
      },
      "patch id of the wrong shape": {
        as: asAdmin,
        method: "PATCH",
        path: () => `/api/admin/servers/${server.nodeId}`,
        body: { name: "x" },
        field: "id",
      },
      "delete NUL id": { as: asAdmin, method: "DELETE", path: () => "/api/admin/servers/%00", field: "path" },
      "list NUL search": { as: asAdmin, path: () => "/api/admin/servers?search=%00", field: "search" },
      "list NUL ownerId": {
        as: asAdmin,
        path: () => "/api/admin/servers?ownerId=user_%00",
        field: "ownerId",
      },
      "list NUL in the cursor": {
        as: asAdmin,
        path: () =>
          `/api/admin/servers?cursor=${cursorOf(["createdAt", "2026-01-01T00:00:00.000Z", `srv_${NUL}`])}`,
        field: "cursor",
      },
      "list cursor date beyond timestamptz": {
        as: asAdmin,
        path: () =>
          `/api/admin/servers?cursor=${cursorOf(["createdAt", "+275760-09-13T00:00:00.000Z", "srv_a"])}`,
        field: "cursor",
      },
    });
    const page = (await (await admin.fetch("/api/admin/servers?search=hostile")).json()) as {
      data: unknown[];
    };
    expect(page.data).toEqual([]);
  });

  it("/api/admin/users, audit, allocations, overview", async () => {
    await expectAllRefused({
      "user NUL id": { as: asAdmin, path: () => "/api/admin/users/user_%00", field: "path" },
      "user id of the wrong shape": { as: asAdmin, path: () => `/api/admin/users/${server.id}`, field: "id" },
      "ban with a lone surrogate reason (audited)": {
        as: asAdmin,
        path: () => `/api/admin/users/${owner.id}/ban`,
        body: { reason: `spam ${LONE_HIGH}` },
        field: "reason",
      },
      "users NUL search": { as: asAdmin, path: () => "/api/admin/users?search=%00", field: "search" },
      "users NUL in the cursor": {
        as: asAdmin,
        path: () =>
          `/api/admin/users?cursor=${cursorOf(["users", "2026-01-01T00:00:00.000Z", `user_${NUL}`])}`,
        field: "cursor",
      },
      "audit NUL action": { as: asAdmin, path: () => "/api/admin/audit?action=server.%00", field: "action" },
      "audit NUL targetId": { as: asAdmin, path: () => "/api/admin/audit?targetId=%00", field: "targetId" },
      "audit cursor date beyond timestamptz": {
        as: asAdmin,
        path: () => `/api/admin/audit?cursor=${cursorOf(["audit", "+275760-09-13T00:00:00.000Z", 1])}`,
        field: "cursor",
      },
      "allocations NUL serverId filter": {
        as: asAdmin,
        path: () => `/api/admin/nodes/${server.nodeId}/allocations?serverId=srv_%00`,
        field: "serverId",
      },
      "allocations node id of the wrong shape": {
        as: asAdmin,
        path: () => "/api/admin/nodes/nope/allocations",
        field: "nodeId",
      },
      "allocation NUL id": {
        as: asAdmin,
        method: "PATCH",
        path: () => `/api/admin/nodes/${server.nodeId}/allocations/alloc_%00`,
        body: { isPrimary: true },
        field: "path",
      },
      "allocation id of the wrong shape": {
        as: asAdmin,
        method: "DELETE",
        path: () => `/api/admin/nodes/${server.nodeId}/allocations/${server.id}`,
        field: "allocationId",
      },
      "allocations NUL ip": {
        as: asAdmin,
        path: () => `/api/admin/nodes/${server.nodeId}/allocations`,
        body: { ip: `0.0.0.0${NUL}`, ports: [30002] },
        field: "ip",
      },
      "overview NUL query": { as: asAdmin, path: () => "/api/admin/overview?x=%00", field: "x" },
    });
    const target = (await (await admin.fetch(`/api/admin/users/${owner.id}`)).json()) as { banned: boolean };
    expect(target.banned).toBe(false);
  });
});

describe("hostile strings over /api/ws", () => {
  const socketFor = async (user: TestUser) => connectAuthed(srv, await ticketFor(srv, user));

  async function expectReply(ws: TestSocket, raw: string, reply: unknown) {
    ws.send(raw);
    expect(await ws.next()).toEqual(reply);
  }

  it("a NUL, a lone surrogate or deep nesting in a message is an Invalid message", async () => {
    const ws = await socketFor(owner);
    const invalid = { type: "error", error: WS_ERRORS.invalidMessage };
    await expectReply(ws, JSON.stringify({ type: "subscribe", serverId: `srv_${NUL}` }), invalid);
    await expectReply(ws, JSON.stringify({ type: "subscribe", serverId: `srv_${LONE_HIGH}` }), invalid);
    await expectReply(ws, JSON.stringify({ type: "auth", token: `t${NUL}` }), invalid);
    const deep = `${"[".repeat(30_000)}${"]".repeat(30_000)}`;
    await expectReply(ws, `{"type":"subscribe","serverId":"${server.id}","x":${deep}}`, invalid);
    ws.close();
  });

  it("a serverId of the wrong shape is Server not found, without a query", async () => {
    const ws = await socketFor(owner);
    const before = queries.length;
    for (const serverId of ["srv_a b", "../servers", `node_${server.shortId}`, "srv_"]) {
      const notFound = { type: "error", error: WS_ERRORS.serverNotFound, serverId };
      await expectReply(ws, JSON.stringify({ type: "subscribe", serverId }), notFound);
      // unsubscribe stays idempotent (SPEC §3): an id that was never subscribed is "unsubscribed"
      await expectReply(ws, JSON.stringify({ type: "unsubscribe", serverId }), {
        type: "unsubscribed",
        serverId,
      });
    }
    expect(queries.slice(before)).toEqual([]);
    ws.close();
  });

  it("one client's bad id never fails another's subscribe in the same batch", async () => {
    const [attacker, victim] = await Promise.all([socketFor(admin), socketFor(owner)]);
    for (let round = 0; round < 5; round++) {
      // sent in one turn, so they reach the server (and its batched query) together
      attacker.send({ type: "subscribe", serverId: `srv_${NUL}` });
      victim.send({ type: "subscribe", serverId: server.id });
      attacker.send({ type: "subscribe", serverId: `srv_${NUL}x` });
      expect(await victim.next()).toEqual({ type: "subscribed", serverId: server.id });
      expect((await victim.next()).type).toBe("server:sync");
      victim.send({ type: "unsubscribe", serverId: server.id });
      expect(await victim.next()).toEqual({ type: "unsubscribed", serverId: server.id });
      for (let i = 0; i < 2; i++) {
        expect(await attacker.next()).toEqual({ type: "error", error: WS_ERRORS.invalidMessage });
      }
    }
    attacker.close();
    victim.close();
  });
});
