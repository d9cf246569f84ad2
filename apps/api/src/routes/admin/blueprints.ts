import { blueprints, newId, servers } from "@panel/db";
import { asc, count, eq } from "drizzle-orm";
import { Hono } from "hono";
import { z } from "zod";
import { recordAudit } from "../../audit/record.ts";
import type { AppDeps, AppEnv } from "../../http/context.ts";
import { ApiError, isForeignKeyViolation } from "../../http/errors.ts";
import { jsonBody } from "../../http/validate.ts";
import { nameSchema } from "./locations.ts";

export const createBlueprintSchema = z.object({ name: nameSchema });
export const updateBlueprintSchema = z.strictObject({ name: nameSchema });

const view = { id: blueprints.id, name: blueprints.name };
const NOT_FOUND = "Blueprint not found";

/** `/api/admin/blueprints`: `{"id","name"}` objects; a blueprint still used by servers cannot go. */
export function adminBlueprintRoutes(deps: AppDeps) {
  const { db } = deps;
  return new Hono<AppEnv>()
    .post("/", async (c) => {
      const { name } = await jsonBody(c, createBlueprintSchema);
      const created = await db.transaction(async (tx) => {
        const [row] = await tx
          .insert(blueprints)
          .values({ id: newId("blueprint"), name })
          .returning(view);
        if (!row) throw new Error("blueprint insert returned nothing");
        await recordAudit(tx, c, {
          action: "blueprint.create",
          targetType: "blueprint",
          targetId: row.id,
          details: { name },
        });
        return row;
      });
      return c.json(created, 201);
    })
    .get("/", async (c) => {
      const rows = await db.select(view).from(blueprints).orderBy(asc(blueprints.name), asc(blueprints.id));
      return c.json({ data: rows });
    })
    .get("/:id", async (c) => {
      const [row] = await db
        .select(view)
        .from(blueprints)
        .where(eq(blueprints.id, c.req.param("id")));
      if (!row) throw ApiError.notFound(NOT_FOUND);
      return c.json(row);
    })
    .patch("/:id", async (c) => {
      const { name } = await jsonBody(c, updateBlueprintSchema);
      const id = c.req.param("id");
      const updated = await db.transaction(async (tx) => {
        const [before] = await tx.select(view).from(blueprints).where(eq(blueprints.id, id)).for("update");
        if (!before) throw ApiError.notFound(NOT_FOUND);
        const [row] = await tx.update(blueprints).set({ name }).where(eq(blueprints.id, id)).returning(view);
        await recordAudit(tx, c, {
          action: "blueprint.update",
          targetType: "blueprint",
          targetId: id,
          details: { changes: { name: { from: before.name, to: name } } },
        });
        return row;
      });
      return c.json(updated);
    })
    .delete("/:id", async (c) => {
      const id = c.req.param("id");
      await db
        .transaction(async (tx) => {
          const [row] = await tx.select(view).from(blueprints).where(eq(blueprints.id, id)).for("update");
          if (!row) throw ApiError.notFound(NOT_FOUND);
          const [used] = await tx.select({ n: count() }).from(servers).where(eq(servers.blueprintId, id));
          if (used && used.n > 0) throw ApiError.conflict(`Blueprint is used by ${used.n} server(s)`);
          await tx.delete(blueprints).where(eq(blueprints.id, id));
          await recordAudit(tx, c, {
            action: "blueprint.delete",
            targetType: "blueprint",
            targetId: id,
            details: { name: row.name },
          });
        })
        .catch((err: unknown) => {
          if (isForeignKeyViolation(err)) throw ApiError.conflict("Blueprint is used by servers");
          throw err;
        });
      return c.body(null, 204);
    });
}
