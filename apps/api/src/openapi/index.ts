import type { OpenAPIHono } from "@hono/zod-openapi";
import type { Auth } from "../auth/auth.ts";
import type { AppEnv } from "../http/context.ts";

export type OpenApiDocument = {
  openapi: string;
  info: Record<string, unknown>;
  paths: Record<string, Record<string, Record<string, unknown>>>;
  components: { schemas: Record<string, unknown>; securitySchemes: Record<string, unknown> };
  tags: { name: string; description: string }[];
};

/** Where the API is mounted: route declarations carry paths relative to it. */
const API_PREFIX = "/api";
const AUTH_PREFIX = "/api/auth";
const AUTH_TAG_PREFIX = "Auth";

const TAGS = [
  ["Servers", "The servers a user owns or is a subuser of (admins see every server)."],
  ["API keys", "Keys for scripts: made, listed and revoked with a signed-in session."],
  [
    "Realtime",
    "WebSocket tickets and the socket itself; the messages are documented at [/api/docs/websocket](/api/docs/websocket).",
  ],
  ["Admin: overview", "Counts by status, node load and open sockets."],
  ["Admin: locations", "Where nodes are."],
  ["Admin: nodes", "Machines that run servers, and their ip:port allocations."],
  ["Admin: blueprints", "What a server runs (e.g. Minecraft Java)."],
  ["Admin: servers", "Every server: create, change, move, delete, search."],
  ["Admin: users", "better-auth users: list, ban, unban, revoke sessions, role."],
  ["Admin: audit", "Every admin and owner write."],
  ["Health", "Liveness of the API and its database."],
  ["Docs", "This reference, and the WebSocket protocol beside it."],
] as const;

const DESCRIPTION = [
  "REST API of the game-server panel. JSON in and out; every error of the API's own routes is",
  '`{"error": "<text>", "field"?: "<name>"}` (better-auth\'s, under `/api/auth`, are its own).',
  "",
  "Authenticate with the better-auth session cookie (`POST /api/auth/sign-in/email`) or,",
  "for scripts, an API key in the `x-api-key` header (create one with `POST /api/api-keys`).",
  "",
  "Every route, better-auth's included:",
  "- a state-changing request (not GET/HEAD/OPTIONS) that carries cookies and no `x-api-key` must",
  "  come from an allowed `Origin` (or `Referer`): otherwise 403 `Missing or null Origin` /",
  "  `Origin not allowed` (cross-site request forgery);",
  "- a request body must be `application/json` (415 otherwise) and at most 256 KiB (413);",
  "- text PostgreSQL cannot store (NUL, unpaired surrogates) and JSON nested over 32 levels are a 400.",
  "",
  "Realtime updates use a WebSocket at `/api/ws`: see [the WebSocket protocol](/api/docs/websocket).",
].join("\n");

const SECURITY_SCHEMES = {
  sessionCookie: {
    type: "apiKey",
    in: "cookie",
    name: "better-auth.session_token",
    description:
      "better-auth's session cookie (`__Secure-better-auth.session_token` behind https), set by sign-in. State-changing requests with it need an allowed `Origin`.",
  },
  apiKey: {
    type: "apiKey",
    in: "header",
    name: "x-api-key",
    description: "An API key made with `POST /api/api-keys`; acts with its owner's rights.",
  },
};

type AuthDocument = {
  paths?: Record<string, Record<string, Record<string, unknown>>>;
  components?: { schemas?: Record<string, unknown> };
};

/**
 * better-auth's endpoints, as its `openAPI()` plugin describes them, under `/api/auth`. Its
 * operations name a bearer scheme this API does not enable: they take the session cookie, and
 * most need none.
 */
function authPaths(authDoc: AuthDocument): OpenApiDocument["paths"] {
  const paths: OpenApiDocument["paths"] = {};
  for (const [path, item] of Object.entries(authDoc.paths ?? {})) {
    const operations: Record<string, Record<string, unknown>> = {};
    for (const [method, op] of Object.entries(item)) {
      const tags = ((op.tags as string[] | undefined) ?? ["Default"]).map((t) =>
        t === "Default" ? AUTH_TAG_PREFIX : `${AUTH_TAG_PREFIX}: ${t}`,
      );
      operations[method] = {
        ...op,
        tags: [...new Set(tags)],
        summary: op.summary ?? op.description ?? `${method.toUpperCase()} ${AUTH_PREFIX}${path}`,
        security: [{}, { sessionCookie: [] }],
      };
    }
    paths[`${AUTH_PREFIX}${path}`] = operations;
  }
  return paths;
}

function mergeSchemas(own: Record<string, unknown>, theirs: Record<string, unknown>) {
  for (const name of Object.keys(theirs)) {
    if (Object.hasOwn(own, name)) throw new Error(`OpenAPI: schema ${name} is both ours and better-auth's`);
  }
  return { ...own, ...theirs };
}

/**
 * `/api/openapi.json`: the routes' own declarations (every `defineRoute` mounted on `api`) and
 * better-auth's description of its endpoints.
 */
export async function buildOpenApiDocument(
  api: Pick<OpenAPIHono<AppEnv>, "getOpenAPI31Document">,
  auth: Auth,
): Promise<OpenApiDocument> {
  const own = api.getOpenAPI31Document({
    openapi: "3.1.0",
    info: { title: "Game Panel API", version: "1.0.0", description: DESCRIPTION },
  }) as unknown as OpenApiDocument;
  const authDoc = (await auth.api.generateOpenAPISchema()) as unknown as AuthDocument;
  const paths: OpenApiDocument["paths"] = { ...authPaths(authDoc) };
  for (const [path, item] of Object.entries(own.paths ?? {})) paths[`${API_PREFIX}${path}`] = item;
  const tags = [
    ...new Set(
      Object.values(paths).flatMap((item) =>
        Object.values(item).flatMap((op) => (op.tags as string[]) ?? []),
      ),
    ),
  ];
  const described = new Map<string, string>(TAGS);
  return {
    openapi: own.openapi,
    info: own.info,
    tags: tags.map((name) => ({ name, description: described.get(name) ?? `better-auth: ${name}` })),
    paths: Object.fromEntries(Object.entries(paths).sort(([a], [b]) => a.localeCompare(b))),
    components: {
      securitySchemes: SECURITY_SCHEMES,
      schemas: mergeSchemas(own.components?.schemas ?? {}, authDoc.components?.schemas ?? {}),
    },
  };
}
