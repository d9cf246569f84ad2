import { type IdKind, newId } from "@panel/db";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningServer } from "../../src/server.ts";
import { createUser, request, type TestUser } from "../support/factories.ts";
import { startTestServer } from "../support/server.ts";

/**
 * The access each operation declares in /api/openapi.json (`x-access`, from which its `security`
 * is also made) against what the route really enforces: every operation is called as an
 * anonymous caller, a signed-in user, an admin and an admin's API key, with ids of the right
 * shape that name nothing and an empty JSON object as the body.
 */

type Operation = { "x-access"?: string; security?: unknown[]; requestBody?: unknown };
type Document = { paths: Record<string, Record<string, Operation>> };
type Caller = "anonymous" | "user" | "admin" | "adminKey";

/** Served beside Hono (the upgrade handler) or by better-auth, which describes its own. */
const NOT_DECLARED_HERE = (path: string) => path === "/api/ws" || path.startsWith("/api/auth/");

/** The kind of id a `{param}` takes, from the collection it follows. */
const ID_KIND_AFTER: Record<string, IdKind> = {
  servers: "server",
  nodes: "node",
  locations: "location",
  blueprints: "blueprint",
  users: "user",
  subusers: "user",
  allocations: "allocation",
};

/** `/api/admin/nodes/{nodeId}/allocations/{allocationId}` with ids that are well formed but unknown. */
function concretePath(path: string): string {
  const segments = path.split("/");
  return segments
    .map((segment, i) => {
      if (!/^\{\w+\}$/.test(segment)) return segment;
      const before = segments[i - 1] ?? "";
      if (before === "assets") return "missing.css";
      const kind = ID_KIND_AFTER[before];
      return kind ? newId(kind) : "k0000000000000000nothing"; // API key ids carry no prefix
    })
    .join("/");
}

let srv: RunningServer;
let doc: Document;
let user: TestUser;
let admin: TestUser;
let adminKey: string;

beforeAll(async () => {
  srv = await startTestServer();
  doc = (await (await request(srv, "/api/openapi.json")).json()) as Document;
  [user, admin] = await Promise.all([createUser(srv), createUser(srv, { admin: true })]);
  const created = await admin.fetch("/api/api-keys", {
    method: "POST",
    body: JSON.stringify({ name: "access test" }),
  });
  expect(created.status).toBe(201);
  adminKey = ((await created.json()) as { key: string }).key;
});
afterAll(() => srv.close());

function operations() {
  return Object.entries(doc.paths)
    .filter(([path]) => !NOT_DECLARED_HERE(path))
    .flatMap(([path, item]) => Object.entries(item).map(([method, op]) => ({ path, method, op })));
}

async function statusAs(caller: Caller, method: string, path: string, withBody: boolean): Promise<number> {
  const init: RequestInit = { method: method.toUpperCase() };
  if (withBody) init.body = "{}";
  const headers: Record<string, string> = {};
  if (caller === "user") headers.cookie = user.cookie;
  if (caller === "admin") headers.cookie = admin.cookie;
  if (caller === "adminKey") headers["x-api-key"] = adminKey;
  const res = await request(srv, concretePath(path), init, headers);
  await res.body?.cancel();
  return res.status;
}

/** What the declared access allows each caller: `null` where only "not 401/403" is promised. */
const EXPECTED: Record<string, Record<Caller, number | null>> = {
  public: { anonymous: null, user: null, admin: null, adminKey: null },
  user: { anonymous: 401, user: null, admin: null, adminKey: null },
  session: { anonymous: 401, user: null, admin: null, adminKey: 403 },
  admin: { anonymous: 401, user: 403, admin: null, adminKey: null },
};

describe("declared access vs. enforced access", () => {
  it("covers the API's own routes, each with a declared access", () => {
    const ops = operations();
    expect(ops.length).toBeGreaterThan(30);
    const undeclared = ops.filter(({ op }) => !Object.hasOwn(EXPECTED, op["x-access"] ?? ""));
    expect(undeclared.map(({ method, path }) => `${method} ${path}`)).toEqual([]);
  });

  it("answers each caller as the document says", async () => {
    const mismatches: string[] = [];
    for (const { path, method, op } of operations()) {
      const expected = EXPECTED[op["x-access"] ?? ""];
      if (!expected) continue;
      for (const caller of ["anonymous", "user", "admin", "adminKey"] as const) {
        const status = await statusAs(caller, method, path, op.requestBody !== undefined);
        const want = expected[caller];
        const ok = want === null ? status !== 401 && status !== 403 : status === want;
        if (!ok) {
          mismatches.push(
            `${method} ${path} as ${caller}: ${status}, declared ${op["x-access"]} (${want ?? "not 401/403"})`,
          );
        }
      }
    }
    expect(mismatches).toEqual([]);
  });

  it("would notice a route that enforces less than it declares", async () => {
    // the check itself: an admin route called by a plain user must be a 403, not anything else
    expect(await statusAs("user", "get", "/api/admin/overview", false)).toBe(403);
    expect(await statusAs("anonymous", "get", "/api/servers", false)).toBe(401);
    expect(await statusAs("adminKey", "get", "/api/api-keys", false)).toBe(403);
  });
});
