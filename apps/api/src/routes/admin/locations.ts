import { locations, nodes } from "@panel/db";
import { eq } from "drizzle-orm";
import type { AppDeps } from "../../http/context.ts";
import { locationComponent } from "../../openapi/schemas.ts";
import { createNamedSchema, namedCatalogRoutes, updateNamedSchema } from "./named-catalog.ts";

export const createLocationSchema = createNamedSchema;
export const updateLocationSchema = updateNamedSchema;

/** `/api/admin/locations`: `{"id","name"}` objects; a location still used by nodes cannot go. */
export function adminLocationRoutes(deps: AppDeps) {
  return namedCatalogRoutes(deps, {
    table: locations,
    kind: "location",
    label: "Location",
    schema: locationComponent,
    tag: "Admin: locations",
    inUse: "The location still has nodes.",
    idDescription: "The location's id (`loc_…`).",
    usedBy: {
      table: nodes,
      where: (id) => eq(nodes.locationId, id),
      describe: (n) => `Location still has ${n} node(s)`,
    },
  });
}
