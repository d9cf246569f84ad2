import { blueprints, servers } from "@panel/db";
import { eq } from "drizzle-orm";
import type { AppDeps } from "../../http/context.ts";
import { blueprintComponent } from "../../openapi/schemas.ts";
import { createNamedSchema, namedCatalogRoutes, updateNamedSchema } from "./named-catalog.ts";

export const createBlueprintSchema = createNamedSchema;
export const updateBlueprintSchema = updateNamedSchema;

/** `/api/admin/blueprints`: `{"id","name"}` objects; a blueprint still used by servers cannot go. */
export function adminBlueprintRoutes(deps: AppDeps) {
  return namedCatalogRoutes(deps, {
    table: blueprints,
    kind: "blueprint",
    label: "Blueprint",
    schema: blueprintComponent,
    tag: "Admin: blueprints",
    inUse: "The blueprint is used by servers.",
    idDescription: "The blueprint's id (`bp_…`).",
    usedBy: {
      table: servers,
      where: (id) => eq(servers.blueprintId, id),
      describe: (n) => `Blueprint is used by ${n} server(s)`,
    },
  });
}
