import { serverSubusers, user } from "@panel/db";
import { and, eq, sql } from "drizzle-orm";
import { Hono } from "hono";
import { z } from "zod";
import { recordAudit } from "../../audit/record.ts";
import type { AppDeps, AppEnv } from "../../http/context.ts";
import { ApiError, isForeignKeyViolation } from "../../http/errors.ts";
import { requireUser } from "../../http/guards.ts";
import { jsonBody, pathId } from "../../http/validate.ts";
import { assertManages, visibleServer } from "../../servers/access.ts";

export const addSubuserSchema = z.object({ email: z.email().max(254) });

export function subuserRoutes(deps: AppDeps) {
  return new Hono<AppEnv>()
    .use(requireUser(deps))
    .post("/:id/subusers", async (c) => {
      const principal = c.var.principal;
      const server = await visibleServer(deps.db, principal, pathId(c, "id", "server"));
      assertManages(server, principal);
      const { email } = await jsonBody(c, addSubuserSchema);
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
    .delete("/:id/subusers/:userId", async (c) => {
      const principal = c.var.principal;
      const server = await visibleServer(deps.db, principal, pathId(c, "id", "server"));
      const userId = pathId(c, "userId", "user");
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
