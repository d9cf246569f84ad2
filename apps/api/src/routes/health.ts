import { z } from "@hono/zod-openapi";
import { sql } from "drizzle-orm";
import type { AppDeps } from "../http/context.ts";
import { defineRoute, json, router } from "../http/define-route.ts";

const healthOk = z.object({ status: z.literal("ok") });
const healthUnavailable = z.object({ status: z.literal("unavailable"), error: z.string() });

export function healthRoutes(deps: AppDeps) {
  const health = defineRoute(deps, {
    method: "get",
    path: "/health",
    summary: "Health check",
    description: "200 while the database answers, 503 otherwise. Anyone may call it.",
    tags: ["Health"],
    access: "public",
    responses: {
      200: json(healthOk, "The API and its database are up."),
      503: json(healthUnavailable, "The database does not answer."),
    },
  });
  return router().openapi(health, async (c) => {
    try {
      await deps.db.execute(sql`select 1`);
      return c.json({ status: "ok" as const }, 200);
    } catch (err) {
      deps.logger.warn({ err }, "health check: database unavailable");
      return c.json({ status: "unavailable" as const, error: "Database unavailable" }, 503);
    }
  });
}
