import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { cors } from "hono/cors";
import { clientIp } from "./audit/record.ts";
import type { AppDeps, AppEnv } from "./http/context.ts";
import { ApiError, errorHandler, retryAfterOnEvery429 } from "./http/errors.ts";
import { requireAdmin } from "./http/guards.ts";
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

/** Builds the HTTP app; no side effects (the entry file listens, tests import this). */
export function createApp(deps: AppDeps) {
  const admin = new Hono()
    .use(requireAdmin(deps))
    .route("/locations", adminLocationRoutes(deps))
    .route("/nodes", adminNodeRoutes(deps))
    .route("/blueprints", adminBlueprintRoutes(deps))
    .route("/servers", adminServerRoutes(deps))
    .route("/users", adminUserRoutes(deps))
    .route("/audit", adminAuditRoutes(deps))
    .route("/overview", adminOverviewRoutes(deps));

  const api = new Hono<AppEnv>()
    .use(retryAfterOnEvery429)
    .use(async (c, next) => {
      c.set("clientIp", clientIp(c, deps.config.trustProxy));
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
    .use(
      bodyLimit({
        maxSize: MAX_BODY_BYTES,
        onError: () => {
          throw new ApiError(413, `Request body over ${MAX_BODY_BYTES / 1024} KiB`);
        },
      }),
    )
    .on(["GET", "POST"], "/auth/*", (c) => deps.auth.handler(c.req.raw))
    .route("/", healthRoutes(deps))
    .route("/", docsRoutes(deps))
    .route("/", wsTokenRoutes(deps))
    .route("/api-keys", apiKeyRoutes(deps))
    .route("/servers", serverRoutes(deps))
    .route("/servers", subuserRoutes(deps))
    .route("/admin", admin);

  const app = new Hono().route("/api", api);
  app.onError(errorHandler(deps.logger));
  app.notFound((c) => c.json({ error: "Not found" }, 404));
  return app;
}

export type App = ReturnType<typeof createApp>;
