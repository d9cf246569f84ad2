import { z } from "@hono/zod-openapi";
import { serverSubusers, user } from "@panel/db";
import { and, eq, sql } from "drizzle-orm";
import { recordAudit } from "../../audit/record.ts";
import type { AppDeps } from "../../http/context.ts";
import { defineRoute, idParam, json, jsonRequest, router } from "../../http/define-route.ts";
import { ApiError, isForeignKeyViolation } from "../../http/errors.ts";
import { subuserSchema } from "../../openapi/schemas.ts";
import { assertManages, visibleServer } from "../../servers/access.ts";
import { SERVER_ID } from "./servers.ts";

export const addSubuserSchema = z.object({ email: z.email().max(254) });

export function subuserRoutes(deps: AppDeps) {
  const add = defineRoute(deps, {
    method: "post",
    path: "/{id}/subusers",
    summary: "Add a subuser",
    description: "Gives the user with that email access to the server. Owner or admin only.",
    tags: ["Servers"],
    access: "user",
    request: {
      params: z.object({ id: idParam("server", SERVER_ID) }),
      body: jsonRequest(addSubuserSchema, { email: "friend@example.com" }),
    },
    responses: { 201: json(subuserSchema, "The new subuser.") },
    errors: {
      400: "Invalid input; or the email is the owner's (`field: email`).",
      403: "The caller may see the server but not manage it; or the API key is read-only.",
      404: "Server not found, or no user with that email (`field: email`).",
      409: "The user is already a subuser of this server.",
    },
  });
  const remove = defineRoute(deps, {
    method: "delete",
    path: "/{id}/subusers/{userId}",
    summary: "Remove a subuser",
    description:
      "Owner or admin; a subuser may always remove themself. Their open subscriptions get `unsubscribed` with `reason: access_revoked`.",
    tags: ["Servers"],
    access: "user",
    request: {
      params: z.object({
        id: idParam("server", SERVER_ID),
        userId: idParam("user", "The subuser's user id."),
      }),
    },
    responses: { 204: { description: "Removed." } },
    errors: {
      403: "The caller may not manage the server; or the API key is read-only.",
      404: "Server or subuser not found.",
    },
  });
  return router()
    .openapi(add, async (c) => {
      const principal = c.var.principal;
      const server = await visibleServer(deps.db, principal, c.req.valid("param").id);
      assertManages(server, principal);
      const { email } = c.req.valid("json");
      const [target] = await deps.db
        .select({ id: user.id, email: user.email })
        .from(user)
        .where(eq(sql`lower(${user.email})`, email.toLowerCase()))
        .limit(1);
      if (!target) throw new ApiError(404, "No user with that email", "email");
      if (target.id === server.ownerId) throw ApiError.badRequest("The owner cannot be a subuser", "email");
      await deps.db
        .transaction(async (tx) => {
          const inserted = await tx
            .insert(serverSubusers)
            .values({ serverId: server.id, userId: target.id })
            .onConflictDoNothing()
            .returning();
          if (inserted.length === 0)
            throw ApiError.conflict("User is already a subuser of this server", "email");
          await recordAudit(tx, c, {
            action: "subuser.add",
            targetType: "server",
            targetId: server.id,
            details: { userId: target.id, email: target.email },
          });
        })
        .catch((err: unknown) => {
          // the server (or the user) was deleted since we looked: not a 500
          if (isForeignKeyViolation(err)) throw ApiError.notFound("Server not found");
          throw err;
        });
      return c.json({ userId: target.id, email: target.email }, 201);
    })
    .openapi(remove, async (c) => {
      const principal = c.var.principal;
      const { id, userId } = c.req.valid("param");
      const server = await visibleServer(deps.db, principal, id);
      // A subuser may always leave; anyone else needs owner rights.
      if (userId !== principal.userId) assertManages(server, principal);
      await deps.db.transaction(async (tx) => {
        const removed = await tx
          .delete(serverSubusers)
          .where(and(eq(serverSubusers.serverId, server.id), eq(serverSubusers.userId, userId)))
          .returning();
        if (removed.length === 0) throw ApiError.notFound("Subuser not found");
        await recordAudit(tx, c, {
          action: userId === principal.userId ? "subuser.leave" : "subuser.remove",
          targetType: "server",
          targetId: server.id,
          details: { userId },
        });
      });
      return c.body(null, 204);
    });
}
