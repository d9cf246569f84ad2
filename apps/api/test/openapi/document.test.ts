import { serverSnapshotSchema } from "@panel/protocol";
import { Validator } from "@seriousme/openapi-schema-validator";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { serverSnapshotExample } from "../../src/openapi/examples.ts";
import type { RunningServer } from "../../src/server.ts";
import { request } from "../support/factories.ts";
import { startTestServer } from "../support/server.ts";

type Operation = {
  summary?: string;
  "x-access"?: string;
  requestBody?: { content?: Record<string, { schema?: unknown; example?: unknown }> };
  tags?: string[];
  security?: Record<string, string[]>[];
  responses?: Record<string, { content?: Record<string, { schema?: { $ref?: string } }> }>;
};
type Document = {
  openapi: string;
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, unknown>; securitySchemes: Record<string, unknown> };
};

const METHODS = new Set(["get", "post", "put", "patch", "delete"]);
/** The WebSocket upgrade is handled beside Hono (on the node server's `upgrade` event). */
const NOT_IN_HONO = new Set(["get /api/ws"]);

let srv: RunningServer;
let doc: Document;

beforeAll(async () => {
  srv = await startTestServer();
  const res = await request(srv, "/api/openapi.json");
  expect(res.status).toBe(200);
  doc = (await res.json()) as Document;
});
afterAll(() => srv.close());

/** `METHOD /path` of every route the Hono app registers, in OpenAPI spelling. */
function appRoutes(): string[] {
  const keys = new Set<string>();
  for (const route of srv.app.routes) {
    const method = route.method.toLowerCase();
    if (!METHODS.has(method)) continue; // `use()` middleware is registered as ALL
    if (route.path.includes("*")) {
      // the one wildcard is better-auth's mount, documented endpoint by endpoint
      if (route.path.startsWith("/api/auth/")) continue;
      throw new Error(`unexpected wildcard route ${route.method} ${route.path}`);
    }
    // `:id` and `:id{regex}` -> `{id}`; drop a trailing slash of `.route("/x", sub.get("/"))`
    const path = route.path.replace(/:(\w+)(\{[^}]*\})?/g, "{$1}").replace(/(.)\/$/, "$1");
    keys.add(`${method} ${path}`);
  }
  return [...keys].sort();
}

function documented(): string[] {
  return Object.entries(doc.paths)
    .flatMap(([path, item]) => Object.keys(item).map((method) => `${method} ${path}`))
    .sort();
}

describe("GET /api/openapi.json", () => {
  it("is a valid OpenAPI 3.1 document", async () => {
    expect(doc.openapi).toMatch(/^3\.1\./);
    const result = await new Validator().validate(structuredClone(doc) as never);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
  });

  it("fails validation when broken (the validator really checks)", async () => {
    const broken = structuredClone(doc) as Record<string, unknown>;
    delete broken.info;
    (broken.paths as Record<string, unknown>)["/api/health"] = { get: { responses: "nope" } };
    const result = await new Validator().validate(broken as never);
    expect(result.valid).toBe(false);
  });

  it("documents every route the app registers, with its method", () => {
    const routes = appRoutes();
    expect(routes.length).toBeGreaterThan(10);
    const have = new Set(documented());
    const missing = routes.filter((r) => !have.has(r));
    expect(missing, `routes missing from the OpenAPI document:\n${missing.join("\n")}`).toEqual([]);
  });

  it("documents no route the app does not have (outside better-auth's mount)", () => {
    const routes = new Set(appRoutes());
    const stale = documented().filter(
      (r) => !r.split(" ")[1]?.startsWith("/api/auth/") && !NOT_IN_HONO.has(r) && !routes.has(r),
    );
    expect(stale, `documented but not registered:\n${stale.join("\n")}`).toEqual([]);
  });

  it("documents better-auth's endpoints (from its openAPI() plugin) that SPEC names and the api-key plugin's", () => {
    const have = new Set(documented());
    for (const route of [
      "post /api/auth/sign-in/email",
      "post /api/auth/sign-up/email",
      "post /api/auth/sign-out",
      "get /api/auth/get-session",
      "post /api/auth/admin/create-user",
      "get /api/auth/api-key/list",
      "post /api/auth/api-key/delete",
    ]) {
      expect(have.has(route), route).toBe(true);
    }
    // disabled endpoints are left out, and the plugin's own pages are not served
    expect(have.has("post /api/auth/api-key/create")).toBe(false);
  });

  it("serves better-auth's schema only inside this document", async () => {
    for (const path of ["/api/auth/reference", "/api/auth/open-api/generate-schema"]) {
      expect((await request(srv, path)).status, path).toBe(404);
    }
  });

  it("gives every operation a summary, tags, security, a success and its errors", () => {
    const problems: string[] = [];
    for (const [path, item] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(item)) {
        const where = `${method} ${path}`;
        if (!op.summary) problems.push(`${where}: no summary`);
        if (!op.tags?.length) problems.push(`${where}: no tags`);
        if (!Array.isArray(op.security)) problems.push(`${where}: no security`);
        const statuses = Object.keys(op.responses ?? {});
        // better-auth's own description is taken as it is (some of its redirects list no success)
        const ours = !path.startsWith("/api/auth/");
        if (ours && !statuses.some((s) => /^[12]\d\d$/.test(s)))
          problems.push(`${where}: no success response`);
        const secured = (op.security ?? []).length > 0;
        if (secured && !path.startsWith("/api/auth/")) {
          const unauthorized = op.responses?.["401"]?.content?.["application/json"]?.schema?.$ref;
          if (unauthorized !== "#/components/schemas/Error") problems.push(`${where}: no 401 Error`);
        }
      }
    }
    expect(problems).toEqual([]);
  });

  it("describes the session cookie and the x-api-key header", () => {
    expect(doc.components.securitySchemes).toMatchObject({
      sessionCookie: { type: "apiKey", in: "cookie", name: "better-auth.session_token" },
      apiKey: { type: "apiKey", in: "header", name: "x-api-key" },
    });
    expect(doc.paths["/api/servers/{id}"]?.get?.security).toEqual([{ sessionCookie: [] }, { apiKey: [] }]);
    expect(doc.paths["/api/api-keys"]?.post?.security).toEqual([{ sessionCookie: [] }]);
    expect(doc.paths["/api/health"]?.get?.security).toEqual([]);
  });

  it("references the shared schemas of @panel/protocol", () => {
    expect(Object.keys(doc.components.schemas)).toEqual(
      expect.arrayContaining(["Server", "Node", "Location", "Blueprint", "Allocation", "WsTicket", "Error"]),
    );
    const ok = doc.paths["/api/servers/{id}"]?.get?.responses?.["200"];
    expect(ok?.content?.["application/json"]?.schema).toEqual({ $ref: "#/components/schemas/Server" });
  });

  it("has examples that the real schemas accept", () => {
    expect(serverSnapshotSchema.safeParse(serverSnapshotExample).success).toBe(true);
  });

  it("declares each of the API's own operations' access, matching its security", () => {
    const security: Record<string, unknown> = {
      public: [],
      user: [{ sessionCookie: [] }, { apiKey: [] }],
      session: [{ sessionCookie: [] }],
      admin: [{ sessionCookie: [] }, { apiKey: [] }],
    };
    for (const [path, item] of Object.entries(doc.paths)) {
      if (path.startsWith("/api/auth/") || path === "/api/ws") continue;
      for (const [method, op] of Object.entries(item)) {
        const access = op["x-access"] ?? "";
        expect(Object.keys(security), `${method} ${path}`).toContain(access);
        expect(op.security, `${method} ${path}`).toEqual(security[access]);
        if (access === "admin") expect(op.responses?.["403"], `${method} ${path}`).toBeDefined();
      }
    }
  });
});

describe("GET /api/docs", () => {
  it("answers 200 HTML that loads the document", async () => {
    const res = await request(srv, "/api/docs");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/html/);
    const html = await res.text();
    expect(html.toLowerCase()).toContain("<html");
    expect(html).toContain('src="/api/docs/assets/init.js"');
    const init = await request(srv, "/api/docs/assets/init.js");
    expect(await init.text()).toContain("/api/openapi.json");
  });
});
