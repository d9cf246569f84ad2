import { locations, newId, nodes } from "@panel/db";
import { asc, count, eq } from "drizzle-orm";
import { Hono } from "hono";
import { z } from "zod";
import { recordAudit } from "../../audit/record.ts";
import type { AppDeps, AppEnv } from "../../http/context.ts";
import { ApiError, isForeignKeyViolation } from "../../http/errors.ts";
import { jsonBody } from "../../http/validate.ts";

export const nameSchema = z.string().trim().min(1).max(100);
export const createLocationSchema = z.object({ name: nameSchema });
export const updateLocationSchema = z.strictObject({ name: nameSchema });

const view = { id: locations.id, name: locations.name };
const NOT_FOUND = "Location not found";

/** `/api/admin/locations`: `{"id","name"}` objects; a location still used by nodes cannot go. */
export function adminLocationRoutes(deps: AppDeps) {
  const { db } = deps;
  return new Hono<AppEnv>()
    .post("/", async (c) => {
      const { name } = await jsonBody(c, createLocationSchema);
      const created = await db.transaction(async (tx) => {
        const [row] = await tx
          .insert(locations)
          .values({ id: newId("location"), name })
          .returning(view);
        if (!row) throw new Error("location insert returned nothing");
        await recordAudit(tx, c, {
          action: "location.create",
          targetType: "location",
          targetId: row.id,
          details: { name },
        });
        return row;
      });
      return c.json(created, 201);
    })
    .get("/", async (c) => {
      const rows = await db.select(view).from(locations).orderBy(asc(locations.name), asc(locations.id));
      return c.json({ data: rows });
    })
    .get("/:id", async (c) => {
      const [row] = await db
        .select(view)
        .from(locations)
        .where(eq(locations.id, c.req.param("id")));
      if (!row) throw ApiError.notFound(NOT_FOUND);
      return c.json(row);
    })
    .patch("/:id", async (c) => {
      const { name } = await jsonBody(c, updateLocationSchema);
      const id = c.req.param("id");
      const updated = await db.transaction(async (tx) => {
        const [before] = await tx.select(view).from(locations).where(eq(locations.id, id)).for("update");
        if (!before) throw ApiError.notFound(NOT_FOUND);
        const [row] = await tx.update(locations).set({ name }).where(eq(locations.id, id)).returning(view);
        await recordAudit(tx, c, {
          action: "location.update",
          targetType: "location",
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
          const [row] = await tx.select(view).from(locations).where(eq(locations.id, id)).for("update");
          if (!row) throw ApiError.notFound(NOT_FOUND);
          const [used] = await tx.select({ n: count() }).from(nodes).where(eq(nodes.locationId, id));
          if (used && used.n > 0) throw ApiError.conflict(`Location still has ${used.n} node(s)`);
          await tx.delete(locations).where(eq(locations.id, id));
          await recordAudit(tx, c, {
            action: "location.delete",
            targetType: "location",
            targetId: id,
            details: { name: row.name },
          });
        })
        .catch((err: unknown) => {
          // a node was added to it concurrently: the FK (ON DELETE RESTRICT) has the last word
          if (isForeignKeyViolation(err)) throw ApiError.conflict("Location still has nodes");
          throw err;
        });
      return c.body(null, 204);
    });
}
