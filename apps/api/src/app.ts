import { getConnInfo } from "@hono/node-server/conninfo";
import { $, OpenAPIHono } from "@hono/zod-openapi";
import type { Context } from "hono";
import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { cors } from "hono/cors";
import { CLIENT_ADDRESS_HEADER } from "./auth/auth.ts";
import { SignInThrottle } from "./auth/sign-in-throttle.ts";
import { clientAddress } from "./http/client-address.ts";
import type { AppDeps, AppEnv } from "./http/context.ts";
import { validationHook } from "./http/define-route.ts";
import { ApiError, errorHandler, retryAfterOnEvery429 } from "./http/errors.ts";
import { requireAdmin } from "./http/guards.ts";
import { inputHygiene } from "./http/hygiene.ts";
import { csrfGuard, jsonBodiesOnly, securityHeaders } from "./http/security.ts";
import { buildOpenApiDocument } from "./openapi/index.ts";
import { adminAuditRoutes } from "./routes/admin/audit.ts";
import { adminBlueprintRoutes } from "./routes/admin/blueprints.ts";
import { adminLocationRoutes } from "./routes/admin/locations.ts";
import { adminNodeRoutes } from "./routes/admin/nodes.ts";
import { adminOverviewRoutes } from "./routes/admin/overview.ts";
import { adminServerRoutes } from "./routes/admin/servers.ts";
import { adminUserRoutes } from "./routes/admin/users.ts";
import { apiKeyRoutes } from "./routes/api-keys.ts";
import { docsRoutes } from "./routes/docs.ts";
import { healthRoutes } from "./routes/health.ts";
import { serverRoutes } from "./routes/servers/servers.ts";
import { subuserRoutes } from "./routes/servers/subusers.ts";
import { wsTokenRoutes } from "./routes/ws-token.ts";

const MAX_BODY_BYTES = 256 * 1024;
/** Requests without a body: asking one for its body builds a full fetch Request, a large part of a small GET's cost. */
const BODYLESS_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

/** Headers a client could use to claim another address; better-auth must see only ours. */
const ADDRESS_HEADERS = ["x-forwarded-for", "x-real-ip", "forwarded", CLIENT_ADDRESS_HEADER];

function peerAddress(c: Context): string | undefined {
  try {
    return getConnInfo(c).remote.address;
  } catch {
    return undefined; // not served by @hono/node-server (`app.request()` in a unit test)
  }
}

/** The request better-auth sees: same method, URL and body, with the one client address. */
async function authRequest(c: Context<AppEnv>): Promise<Request> {
  const headers = new Headers(c.req.raw.headers);
  for (const name of ADDRESS_HEADERS) headers.delete(name);
  const address = c.var.clientIp;
  if (address) headers.set(CLIENT_ADDRESS_HEADER, address);
  const body = c.req.method === "GET" || c.req.method === "HEAD" ? undefined : await c.req.arrayBuffer();
  return new Request(c.req.url, { method: c.req.method, headers, body });
}

const SIGN_IN_PATH = "/api/auth/sign-in/email";

async function emailOf(c: Context): Promise<string | null> {
  try {
    const body: unknown = await c.req.json();
    const email = (body as { email?: unknown } | null)?.email;
    return typeof email === "string" ? email : null;
  } catch {
    return null; // better-auth answers a malformed body itself
  }
}

/** Builds the HTTP app; no side effects (the entry file listens, tests import this). */
export function createApp(deps: AppDeps) {
  const signIns = new SignInThrottle(deps.db, deps.config.auth.signInFailures);

  /** better-auth's routes; password sign-ins are throttled per account and address first. */
  const authHandler = async (c: Context<AppEnv>) => {
    const email = c.req.path === SIGN_IN_PATH && c.req.method === "POST" ? await emailOf(c) : null;
    if (email === null) return deps.auth.handler(await authRequest(c));
    const address = c.var.clientIp;
    const wait = await signIns.begin(email, address);
    if (wait > 0) throw ApiError.tooManyRequests("Too many failed sign-ins; try again later", wait);
    let res: Response;
    try {
      res = await deps.auth.handler(await authRequest(c));
    } catch (err) {
      await signIns.release(email, address);
      throw err;
    }
    if (res.status === 401) await signIns.recordFailure(email);
    else if (res.ok) await signIns.recordSuccess(email, address);
    else await signIns.release(email, address);
    return res;
  };

  // OpenAPIHono throughout: mounting one merges its routes' declarations into /api/openapi.json
  const admin = $(new OpenAPIHono<AppEnv>({ defaultHook: validationHook }).use(requireAdmin(deps)))
    .route("/locations", adminLocationRoutes(deps))
    .route("/nodes", adminNodeRoutes(deps))
    .route("/blueprints", adminBlueprintRoutes(deps))
    .route("/servers", adminServerRoutes(deps))
    .route("/users", adminUserRoutes(deps))
    .route("/audit", adminAuditRoutes(deps))
    .route("/overview", adminOverviewRoutes(deps));

  const limitBody = bodyLimit({
    maxSize: MAX_BODY_BYTES,
    onError: () => {
      throw new ApiError(413, `Request body over ${MAX_BODY_BYTES / 1024} KiB`);
    },
  });
  const api = new OpenAPIHono<AppEnv>({ defaultHook: validationHook })
    .use(retryAfterOnEvery429)
    .use(async (c, next) => {
      c.set(
        "clientIp",
        clientAddress(peerAddress(c), c.req.header("x-forwarded-for"), deps.config.trustProxy),
      );
      await next();
    })
    .use(
      cors({
        origin: deps.config.allowedOrigins,
        credentials: true,
        allowHeaders: ["content-type", "x-api-key"],
        allowMethods: ["GET", "POST", "PATCH", "DELETE", "OPTIONS"],
      }),
    )
    .use((c, next) => (BODYLESS_METHODS.has(c.req.method) ? next() : limitBody(c, next)))
    .use(csrfGuard(deps.config.allowedOrigins))
    .use(jsonBodiesOnly)
    .use(inputHygiene())
    .on(["GET", "POST"], "/auth/*", authHandler)
    .route("/", healthRoutes(deps))
    .route("/", wsTokenRoutes(deps))
    .route("/api-keys", apiKeyRoutes(deps))
    .route("/servers", serverRoutes(deps))
    .route("/servers", subuserRoutes(deps))
    .route("/admin", admin);
  // after the rest: the document it serves is built from every route mounted on `api`
  $(api).route(
    "/",
    docsRoutes(deps, () => buildOpenApiDocument($(api), deps.auth)),
  );

  const app = new Hono().use(securityHeaders(deps.config.publicUrl)).route("/api", api);
  app.onError(errorHandler(deps.logger));
  app.notFound((c) => c.json({ error: "Not found" }, 404));
  return app;
}

export type App = ReturnType<typeof createApp>;
