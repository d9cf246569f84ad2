import { z } from "@hono/zod-openapi";
import type { AppDeps } from "../../http/context.ts";
import { defineRoute, idParam, json, router } from "../../http/define-route.ts";
import { serverListSchema, serverSchema } from "../../openapi/schemas.ts";
import { visibleServer } from "../../servers/access.ts";
import { loadServersVisibleTo, toSnapshot } from "../../servers/snapshots.ts";

export const SERVER_ID = "The server's id (`srv_…`).";
export const serverIdParams = z.object({ id: idParam("server", SERVER_ID) });

export function serverRoutes(deps: AppDeps) {
  const list = defineRoute(deps, {
    method: "get",
    path: "/",
    summary: "List my servers",
    description: "The servers the caller owns or is a subuser of.",
    tags: ["Servers"],
    access: "user",
    responses: { 200: json(serverListSchema, "The caller's servers.") },
  });
  const get = defineRoute(deps, {
    method: "get",
    path: "/{id}",
    summary: "Get a server",
    description:
      "The same object as `server:sync`'s `data`. Its owner, its subusers and admins may read it; anyone else gets 404.",
    tags: ["Servers"],
    access: "user",
    request: { params: serverIdParams },
    responses: { 200: json(serverSchema, "The server.") },
    errors: { 404: "Server not found (or not visible to the caller)." },
  });
  return router()
    .openapi(list, async (c) => {
      const rows = await loadServersVisibleTo(deps.db, c.var.principal.userId);
      return c.json({ data: rows.map(toSnapshot) }, 200);
    })
    .openapi(get, async (c) => {
      const row = await visibleServer(deps.db, c.var.principal, c.req.valid("param").id);
      return c.json(toSnapshot(row), 200);
    });
}
