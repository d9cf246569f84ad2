import { z } from "@hono/zod-openapi";
import { type blueprints, type IdKind, type locations, newId } from "@panel/db";
import { asc, count, eq, type SQL } from "drizzle-orm";
import type { PgTable } from "drizzle-orm/pg-core";
import { recordAudit } from "../../audit/record.ts";
import type { AppDeps } from "../../http/context.ts";
import { defineRoute, idParam, json, jsonRequest, listOf, router } from "../../http/define-route.ts";
import { ApiError, isForeignKeyViolation } from "../../http/errors.ts";

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
  /** The entry as the document names it (a `{"id","name"}` component). */
  schema: z.ZodType<{ id: string; name: string }>;
  /** Its tag in the document, and what the 409 of a delete means. */
  tag: string;
  inUse: string;
  /** e.g. `loc_…` */
  idDescription: string;
};

/** The five routes' declarations for one catalog. */
function declarations(deps: AppDeps, catalog: NamedCatalog) {
  const noun = catalog.label.toLowerCase();
  const common = { tags: [catalog.tag], access: "admin" as const };
  const params = z.object({ id: idParam(catalog.kind, catalog.idDescription) });
  const notFound = `${catalog.label} not found.`;
  return {
    create: defineRoute(deps, {
      ...common,
      method: "post",
      path: "/",
      summary: `Create a ${noun}`,
      request: { body: jsonRequest(createNamedSchema, { name: "Example" }) },
      responses: { 201: json(catalog.schema, `The new ${noun}.`) },
    }),
    list: defineRoute(deps, {
      ...common,
      method: "get",
      path: "/",
      summary: `List ${noun}s`,
      description: "By name.",
      responses: { 200: json(listOf(catalog.schema), `Every ${noun}.`) },
    }),
    get: defineRoute(deps, {
      ...common,
      method: "get",
      path: "/{id}",
      summary: `Get a ${noun}`,
      request: { params },
      responses: { 200: json(catalog.schema, `The ${noun}.`) },
      errors: { 404: notFound },
    }),
    rename: defineRoute(deps, {
      ...common,
      method: "patch",
      path: "/{id}",
      summary: `Rename a ${noun}`,
      request: { params, body: jsonRequest(updateNamedSchema, { name: "Renamed" }) },
      responses: { 200: json(catalog.schema, `The renamed ${noun}.`) },
      errors: { 404: notFound },
    }),
    remove: defineRoute(deps, {
      ...common,
      method: "delete",
      path: "/{id}",
      summary: `Delete a ${noun}`,
      request: { params },
      responses: { 204: { description: "Deleted." } },
      errors: { 404: notFound, 409: catalog.inUse },
    }),
  };
}

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

  const routes = declarations(deps, catalog);
  return router()
    .openapi(routes.create, async (c) => {
      const { name } = c.req.valid("json");
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
    .openapi(routes.list, async (c) => {
      const rows = await db.select(view).from(table).orderBy(asc(table.name), asc(table.id));
      return c.json({ data: rows }, 200);
    })
    .openapi(routes.get, async (c) => {
      const [row] = await db
        .select(view)
        .from(table)
        .where(eq(table.id, c.req.valid("param").id));
      if (!row) throw notFound();
      return c.json(row, 200);
    })
    .openapi(routes.rename, async (c) => {
      const { name } = c.req.valid("json");
      const { id } = c.req.valid("param");
      const updated = await db.transaction(async (tx) => {
        const [before] = await tx.select(view).from(table).where(eq(table.id, id)).for("update");
        if (!before) throw notFound();
        const [row] = await tx.update(table).set({ name }).where(eq(table.id, id)).returning(view);
        await recordAudit(tx, c, {
          ...audit("update", id),
          details: { changes: { name: { from: before.name, to: name } } },
        });
        if (!row) throw notFound();
        return row;
      });
      return c.json(updated, 200);
    })
    .openapi(routes.remove, async (c) => {
      const { id } = c.req.valid("param");
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
