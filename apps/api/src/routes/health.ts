import { sql } from "drizzle-orm";
import { Hono } from "hono";
import type { AppDeps } from "../http/context.ts";

export function healthRoutes(deps: AppDeps) {
  return new Hono().get("/health", async (c) => {
    try {
      await deps.db.execute(sql`select 1`);
      return c.json({ status: "ok" });
    } catch (err) {
      deps.logger.warn({ err }, "health check: database unavailable");
      return c.json({ status: "unavailable", error: "Database unavailable" }, 503);
    }
  });
}
