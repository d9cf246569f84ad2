import { type blueprints, type IdKind, type locations, newId } from "@panel/db";
import { asc, count, eq, type SQL } from "drizzle-orm";
import type { PgTable } from "drizzle-orm/pg-core";
import { Hono } from "hono";
import { z } from "zod";
import { recordAudit } from "../../audit/record.ts";
import type { AppDeps, AppEnv } from "../../http/context.ts";
import { ApiError, isForeignKeyViolation } from "../../http/errors.ts";
import { jsonBody, pathId } from "../../http/validate.ts";

export const nameSchema = z.string().trim().min(1).max(100);
export const createNamedSchema = z.object({ name: nameSchema });
export const updateNamedSchema = z.strictObject({ name: nameSchema });

/** A catalog entry that is just `{"id","name"}` (locations, blueprints). */
export type NamedCatalog = {
  table: typeof locations | typeof blueprints;
  kind: Extract<IdKind, "location" | "blueprint">;
  /** "Location", for messages */
  label: string;
  /** Rows that still use an entry, which then cannot be deleted (409). */
  usedBy: { table: PgTable; where: (id: string) => SQL; describe: (n: number) => string };
};

/** GET list / GET one / POST / PATCH (rename) / DELETE, each write audited in its transaction. */
export function namedCatalogRoutes(deps: AppDeps, catalog: NamedCatalog) {
  const { db } = deps;
  // one table or the other: the operations are the same on both
  const table = catalog.table as typeof locations;
  const view = { id: table.id, name: table.name };
  const notFound = () => ApiError.notFound(`${catalog.label} not found`);
  const audit = (verb: string, id: string) => ({
    action: `${catalog.kind}.${verb}`,
    targetType: catalog.kind,
    targetId: id,
  });

  return new Hono<AppEnv>()
    .post("/", async (c) => {
      const { name } = await jsonBody(c, createNamedSchema);
      const created = await db.transaction(async (tx) => {
        const [row] = await tx
          .insert(table)
          .values({ id: newId(catalog.kind), name })
          .returning(view);
        if (!row) throw new Error(`${catalog.kind} insert returned nothing`);
        await recordAudit(tx, c, { ...audit("create", row.id), details: { name } });
        return row;
      });
      return c.json(created, 201);
    })
    .get("/", async (c) => {
      const rows = await db.select(view).from(table).orderBy(asc(table.name), asc(table.id));
      return c.json({ data: rows });
    })
    .get("/:id", async (c) => {
      const [row] = await db
        .select(view)
        .from(table)
        .where(eq(table.id, pathId(c, "id", catalog.kind)));
      if (!row) throw notFound();
      return c.json(row);
    })
    .patch("/:id", async (c) => {
      const { name } = await jsonBody(c, updateNamedSchema);
      const id = pathId(c, "id", catalog.kind);
      const updated = await db.transaction(async (tx) => {
        const [before] = await tx.select(view).from(table).where(eq(table.id, id)).for("update");
        if (!before) throw notFound();
        const [row] = await tx.update(table).set({ name }).where(eq(table.id, id)).returning(view);
        await recordAudit(tx, c, {
          ...audit("update", id),
          details: { changes: { name: { from: before.name, to: name } } },
        });
        return row;
      });
      return c.json(updated);
    })
    .delete("/:id", async (c) => {
      const id = pathId(c, "id", catalog.kind);
      await db
        .transaction(async (tx) => {
          const [row] = await tx.select(view).from(table).where(eq(table.id, id)).for("update");
          if (!row) throw notFound();
          const [used] = await tx
            .select({ n: count() })
            .from(catalog.usedBy.table)
            .where(catalog.usedBy.where(id));
          if (used && used.n > 0) throw ApiError.conflict(catalog.usedBy.describe(used.n));
          await tx.delete(table).where(eq(table.id, id));
          await recordAudit(tx, c, { ...audit("delete", id), details: { name: row.name } });
        })
        .catch((err: unknown) => {
          // a dependent row was added concurrently: the FK (ON DELETE RESTRICT) has the last word
          if (isForeignKeyViolation(err)) throw ApiError.conflict(catalog.usedBy.describe(1));
          throw err;
        });
      return c.body(null, 204);
    });
}
