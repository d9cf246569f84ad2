import { randomUUID } from "node:crypto";
import { type ServerSnapshot, serverSnapshotSchema } from "@panel/protocol";
import { expect } from "vitest";
import type { RunningServer } from "../../src/server.ts";
import { createNode, request, type TestUser } from "../support/factories.ts";

/** The server object's keys (docs/protocol.md#the-server-object), in the documented order. */
export const SERVER_KEYS = [
  "id",
  "shortId",
  "name",
  "status",
  "suspended",
  "containerId",
  "memory",
  "disk",
  "cpu",
  "cpuPinning",
  "swap",
  "oomKillDisable",
  "backupLimit",
  "nodeId",
  "blueprintId",
  "ownerId",
  "createdAt",
  "updatedAt",
  "node",
  "allocations",
  "blueprint",
];

export const NODE_KEYS = [
  "id",
  "shortId",
  "displayName",
  "host",
  "port",
  "protocol",
  "sftpPort",
  "isOnline",
  "fqdn",
  "daemonPort",
  "location",
];

/** Status + parsed JSON body in one go (null for an empty body). */
export async function call(
  res: Response | Promise<Response>,
  // biome-ignore lint/suspicious/noExplicitAny: test bodies are inspected dynamically
): Promise<{ status: number; body: any; headers: Headers }> {
  const r = await res;
  const text = await r.text();
  let body: unknown = null;
  if (text) {
    try {
      body = JSON.parse(text);
    } catch {
      body = text;
    }
  }
  return { status: r.status, body, headers: r.headers };
}

/** Asserts the exact server-object shape (docs/protocol.md#the-server-object): schema-valid, no extra keys, keys in documented order. */
export function expectServerShape(value: unknown): ServerSnapshot {
  const parsed = serverSnapshotSchema.parse(value);
  // parse strips unknown keys, so equality proves there are none
  expect(value).toEqual(parsed);
  const v = value as Record<string, unknown>;
  expect(Object.keys(v)).toEqual(SERVER_KEYS);
  expect(Object.keys(v.node as object)).toEqual(NODE_KEYS);
  expect(Object.keys((v.node as { location: object }).location)).toEqual(["id", "name"]);
  expect(Object.keys(v.blueprint as object)).toEqual(["id", "name"]);
  for (const a of v.allocations as object[])
    expect(Object.keys(a)).toEqual(["id", "ip", "port", "isPrimary"]);
  expect(parsed.id).toMatch(/^srv_[a-z0-9]+$/);
  expect(parsed.shortId).toBe(parsed.id.slice("srv_".length));
  expect(parsed.nodeId).toBe(parsed.node.id);
  expect(parsed.blueprintId).toBe(parsed.blueprint.id);
  expect(new Date(parsed.createdAt).toISOString()).toBe(parsed.createdAt);
  expect(new Date(parsed.updatedAt).toISOString()).toBe(parsed.updatedAt);
  return parsed;
}

export const json = (method: string, body: unknown): RequestInit => ({
  method,
  body: typeof body === "string" ? body : JSON.stringify(body),
  headers: { "content-type": "application/json" },
});

export const BOGUS_COOKIE = `better-auth.session_token=${randomUUID()}.${randomUUID()}`;

/** Without any credentials. */
export const anonymous = (srv: RunningServer, path: string, init: RequestInit = {}) =>
  request(srv, path, init);

/** With a session cookie that better-auth never issued. */
export const bogusCookie = (srv: RunningServer, path: string, init: RequestInit = {}) =>
  request(srv, path, init, { cookie: BOGUS_COOKIE });

let portCounter = 30000 + Math.floor(Math.random() * 20000);
export const freshPort = () => portCounter++;

export type ServerInput = {
  name: string;
  ownerId: string;
  nodeId: string;
  blueprintId: string;
  memory: number;
  disk: number;
  cpu: number;
  swap?: number;
  backupLimit?: number;
  allocations: { ip: string; port: number; isPrimary?: boolean }[];
};

/** A valid `POST /api/admin/servers` body on a fresh node (override anything). */
export async function serverInput(
  srv: RunningServer,
  ownerId: string,
  overrides: Partial<ServerInput> = {},
): Promise<ServerInput> {
  const { node, blueprintId } = await createNode(srv);
  return {
    name: `srv-${randomUUID().slice(0, 8)}`,
    ownerId,
    nodeId: node.id,
    blueprintId,
    memory: 1024,
    disk: 5120,
    cpu: 150,
    allocations: [{ ip: "0.0.0.0", port: freshPort(), isPrimary: true }],
    ...overrides,
  };
}

/** Creates a server through the admin API; fails the test unless it is a 201. */
export async function adminCreateServer(
  srv: RunningServer,
  admin: TestUser,
  ownerId: string,
  overrides: Partial<ServerInput> = {},
): Promise<ServerSnapshot> {
  const input = await serverInput(srv, ownerId, overrides);
  const res = await call(admin.fetch("/api/admin/servers", json("POST", input)));
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return expectServerShape(res.body);
}
