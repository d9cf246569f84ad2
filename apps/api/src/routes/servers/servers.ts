import { Hono } from "hono";
import type { AppDeps, AppEnv } from "../../http/context.ts";
import { requireUser } from "../../http/guards.ts";
import { pathId } from "../../http/validate.ts";
import { visibleServer } from "../../servers/access.ts";
import { loadServersVisibleTo, toSnapshot } from "../../servers/snapshots.ts";

export function serverRoutes(deps: AppDeps) {
  return new Hono<AppEnv>()
    .use(requireUser(deps))
    .get("/", async (c) => {
      const rows = await loadServersVisibleTo(deps.db, c.var.principal.userId);
      return c.json({ data: rows.map(toSnapshot) });
    })
    .get("/:id", async (c) => {
      const row = await visibleServer(deps.db, c.var.principal, pathId(c, "id", "server"));
      return c.json(toSnapshot(row));
    });
}
