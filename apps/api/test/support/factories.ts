import { randomUUID } from "node:crypto";
import {
  allocations,
  blueprints,
  locations,
  newId,
  nodes,
  randomShortId,
  serverSubusers,
  servers,
} from "@panel/db";
import type { ServerStatus } from "@panel/protocol";
import type { RunningServer } from "../../src/server.ts";
import { TEST_ORIGIN } from "./server.ts";

export const uniqueEmail = (label = "user") => `${label}-${randomUUID().slice(0, 12)}@test.local`;

export type TestUser = {
  id: string;
  email: string;
  password: string;
  /** `better-auth.session_token=…` as the browser would send it */
  cookie: string;
  /** fetch against the server with this user's session cookie */
  fetch: (path: string, init?: RequestInit) => Promise<Response>;
};

function sessionCookie(res: Response): string {
  const cookies = res.headers.getSetCookie();
  const session = cookies.find((c) => c.startsWith("better-auth.session_token="));
  if (!session) throw new Error(`no session cookie in ${JSON.stringify(cookies)}`);
  return session.split(";")[0] ?? "";
}

export function request(
  srv: RunningServer,
  path: string,
  init: RequestInit = {},
  headers: Record<string, string> = {},
) {
  const h = new Headers(init.headers);
  for (const [k, v] of Object.entries(headers)) h.set(k, v);
  if (init.body && !h.has("content-type")) h.set("content-type", "application/json");
  // A browser sends its page's origin with every cookie request that changes something.
  if (h.has("cookie") && !h.has("origin")) h.set("origin", TEST_ORIGIN);
  return fetch(`${srv.url}${path}`, { ...init, headers: h });
}

export async function signIn(srv: RunningServer, email: string, password: string): Promise<string> {
  const res = await request(srv, "/api/auth/sign-in/email", {
    method: "POST",
    body: JSON.stringify({ email, password }),
  });
  if (res.status !== 200) throw new Error(`sign-in failed: ${res.status} ${await res.text()}`);
  return sessionCookie(res);
}

/** A real better-auth account, signed in over HTTP (admins are created through the admin plugin). */
export async function createUser(
  srv: RunningServer,
  opts: { admin?: boolean; label?: string } = {},
): Promise<TestUser> {
  const email = uniqueEmail(opts.label ?? (opts.admin ? "admin" : "user"));
  const password = `pw-${randomUUID()}`;
  const created = await srv.auth.api.createUser({
    body: { email, password, name: opts.label ?? "Test User", role: opts.admin ? "admin" : "user" },
  });
  const cookie = await signIn(srv, email, password);
  return {
    id: created.user.id,
    email,
    password,
    cookie,
    fetch: (path, init) => request(srv, path, init, { cookie }),
  };
}

export async function createNode(srv: RunningServer) {
  const locationId = newId("location");
  await srv.db.insert(locations).values({ id: locationId, name: `Location ${randomShortId(4)}` });
  const short = randomShortId(8);
  const [node] = await srv.db
    .insert(nodes)
    .values({
      id: newId("node", short),
      shortId: short,
      displayName: `Node ${short}`,
      fqdn: `${short}.nodes.test`,
      host: `${short}.nodes.test`,
      port: 443,
      protocol: "https",
      sftpPort: 2022,
      daemonPort: 8080,
      isOnline: true,
      locationId,
    })
    .returning();
  const blueprintId = newId("blueprint");
  await srv.db.insert(blueprints).values({ id: blueprintId, name: "Minecraft Java" });
  if (!node) throw new Error("node not created");
  return { node, locationId, blueprintId };
}

let nextPort = 20000 + Math.floor(Math.random() * 20000);

/** A server (with its own node, location, blueprint and one primary allocation). */
export async function createServer(
  srv: RunningServer,
  owner: { id: string },
  opts: { status?: ServerStatus; name?: string; subusers?: { id: string }[] } = {},
) {
  const { node, blueprintId } = await createNode(srv);
  const short = randomShortId(8);
  const id = newId("server", short);
  await srv.db.insert(servers).values({
    id,
    shortId: short,
    name: opts.name ?? `server-${short}`,
    status: opts.status ?? "running",
    memory: 2048,
    disk: 10240,
    cpu: 100,
    nodeId: node.id,
    blueprintId,
    ownerId: owner.id,
  });
  await srv.db.insert(allocations).values({
    id: newId("allocation"),
    nodeId: node.id,
    serverId: id,
    ip: "0.0.0.0",
    port: nextPort++,
    isPrimary: true,
  });
  for (const sub of opts.subusers ?? []) {
    await srv.db.insert(serverSubusers).values({ serverId: id, userId: sub.id });
  }
  return { id, shortId: short, nodeId: node.id, blueprintId };
}

/** A fresh single-use WebSocket ticket for this user's session. */
export async function ticketFor(srv: RunningServer, user: Pick<TestUser, "cookie">): Promise<string> {
  const res = await request(srv, "/api/ws/token", {}, { cookie: user.cookie });
  if (res.status !== 200) throw new Error(`ticket failed: ${res.status}`);
  return ((await res.json()) as { token: string }).token;
}
