import { z } from "@hono/zod-openapi";
import { locations, newId, nodes, randomShortId, servers, type Transaction } from "@panel/db";
import type { NodeView } from "@panel/protocol";
import { asc, count, eq, type SQL } from "drizzle-orm";
import { changedFields, recordAudit } from "../../audit/record.ts";
import type { AppDeps } from "../../http/context.ts";
import { defineRoute, json, jsonRequest, idParam as pathIdParam, router } from "../../http/define-route.ts";
import { ApiError, isForeignKeyViolation } from "../../http/errors.ts";
import { adminNodeListSchema, adminNodeSchema, nodeComponent } from "../../openapi/schemas.ts";
import { adminAllocationRoutes } from "./allocations.ts";
import { idParam } from "./keyset.ts";

const port = z.number().int().min(1).max(65535);
const hostname = z
  .string()
  .trim()
  .min(1)
  .max(253)
  .regex(/^[A-Za-z0-9.\-:[\]]+$/, "must be a hostname or IP address");
/** node capacity in MiB (0 = not set) */
const capacity = z
  .number()
  .int()
  .min(0)
  .max(2 ** 31 - 1);

const nodeFields = {
  displayName: z.string().trim().min(1).max(100),
  fqdn: hostname,
  host: hostname,
  port,
  protocol: z.enum(["http", "https"]),
  sftpPort: port,
  daemonPort: port,
  locationId: idParam,
};

export const createNodeSchema = z.object({
  ...nodeFields,
  isOnline: z.boolean().optional(),
  memory: capacity.optional(),
  disk: capacity.optional(),
});

export const updateNodeSchema = z
  .strictObject({ ...nodeFields, isOnline: z.boolean(), memory: capacity, disk: capacity })
  .partial()
  .refine((patch) => Object.keys(patch).length > 0, "no fields to update");

export const listNodesQuerySchema = z.object({ locationId: idParam.optional() });

/** The admin's node object: the node as nested in `<server>.node`, plus its capacity. */
export type AdminNodeView = NodeView & { memory: number; disk: number };

const NOT_FOUND = "Node not found";

async function loadNodes(db: Transaction | AppDeps["db"], where?: SQL): Promise<AdminNodeView[]> {
  const rows = await db
    .select({ node: nodes, location: { id: locations.id, name: locations.name } })
    .from(nodes)
    .innerJoin(locations, eq(locations.id, nodes.locationId))
    .where(where)
    .orderBy(asc(nodes.displayName), asc(nodes.id));
  return rows.map(({ node, location }) => ({
    ...nodeView(node, location),
    memory: node.memory,
    disk: node.disk,
  }));
}

function nodeView(node: typeof nodes.$inferSelect, location: { id: string; name: string }): NodeView {
  return {
    id: node.id,
    shortId: node.shortId,
    displayName: node.displayName,
    host: node.host,
    port: node.port,
    protocol: node.protocol,
    sftpPort: node.sftpPort,
    isOnline: node.isOnline,
    fqdn: node.fqdn,
    daemonPort: node.daemonPort,
    location,
  };
}

async function assertLocation(tx: Transaction, locationId: string) {
  const [location] = await tx
    .select({ id: locations.id, name: locations.name })
    .from(locations)
    .where(eq(locations.id, locationId))
    .for("share");
  if (!location) throw ApiError.badRequest("Location not found", "locationId");
  return location;
}

export const NODE_ID = "The node's id (`node_…`).";
const TAGS = ["Admin: nodes"];
const nodeExample = {
  displayName: "EU 1",
  fqdn: "node1.example.com",
  host: "10.0.0.5",
  port: 8080,
  protocol: "https",
  sftpPort: 2022,
  daemonPort: 8080,
  locationId: "loc_abc123",
};

function declarations(deps: AppDeps) {
  const params = z.object({ id: pathIdParam("node", NODE_ID) });
  return {
    create: defineRoute(deps, {
      method: "post",
      path: "/",
      summary: "Create a node",
      tags: TAGS,
      access: "admin",
      request: { body: jsonRequest(createNodeSchema, nodeExample) },
      responses: { 201: json(nodeComponent, "The new node (as nested in a server).") },
      errors: { 400: "Invalid input; or no such location (`field: locationId`)." },
    }),
    list: defineRoute(deps, {
      method: "get",
      path: "/",
      summary: "List nodes",
      tags: TAGS,
      access: "admin",
      request: { query: listNodesQuerySchema },
      responses: { 200: json(adminNodeListSchema, "The nodes, by display name.") },
    }),
    get: defineRoute(deps, {
      method: "get",
      path: "/{id}",
      summary: "Get a node",
      tags: TAGS,
      access: "admin",
      request: { params },
      responses: { 200: json(adminNodeSchema, "The node.") },
      errors: { 404: "Node not found." },
    }),
    update: defineRoute(deps, {
      method: "patch",
      path: "/{id}",
      summary: "Change a node",
      tags: TAGS,
      access: "admin",
      request: {
        params,
        body: jsonRequest(updateNodeSchema, { displayName: "EU 1 (old)", isOnline: false }),
      },
      responses: { 200: json(adminNodeSchema, "The changed node.") },
      errors: { 400: "Invalid input; or no such location (`field: locationId`).", 404: "Node not found." },
    }),
    remove: defineRoute(deps, {
      method: "delete",
      path: "/{id}",
      summary: "Delete a node",
      description: "Its free allocations go with it.",
      tags: TAGS,
      access: "admin",
      request: { params },
      responses: { 204: { description: "Deleted." } },
      errors: { 404: "Node not found.", 409: "The node still has servers." },
    }),
  };
}

/** `/api/admin/nodes` (and their allocations under `/:nodeId/allocations`). */
export function adminNodeRoutes(deps: AppDeps) {
  const { db } = deps;
  const routes = declarations(deps);
  return router()
    .openapi(routes.create, async (c) => {
      const input = c.req.valid("json");
      const view = await db.transaction(async (tx) => {
        const location = await assertLocation(tx, input.locationId);
        const short = randomShortId(8);
        const [node] = await tx
          .insert(nodes)
          .values({ ...input, id: newId("node", short), shortId: short })
          .returning();
        if (!node) throw new Error("node insert returned nothing");
        await recordAudit(tx, c, {
          action: "node.create",
          targetType: "node",
          targetId: node.id,
          details: input,
        });
        return nodeView(node, location);
      });
      return c.json(view, 201);
    })
    .openapi(routes.list, async (c) => {
      const q = c.req.valid("query");
      const data = await loadNodes(db, q.locationId ? eq(nodes.locationId, q.locationId) : undefined);
      return c.json({ data }, 200);
    })
    .openapi(routes.get, async (c) => {
      const [node] = await loadNodes(db, eq(nodes.id, c.req.valid("param").id));
      if (!node) throw ApiError.notFound(NOT_FOUND);
      return c.json(node, 200);
    })
    .openapi(routes.update, async (c) => {
      const { id } = c.req.valid("param");
      const patch = c.req.valid("json");
      const view = await db.transaction(async (tx) => {
        const [before] = await tx.select().from(nodes).where(eq(nodes.id, id)).for("update");
        if (!before) throw ApiError.notFound(NOT_FOUND);
        if (patch.locationId) await assertLocation(tx, patch.locationId);
        await tx.update(nodes).set(patch).where(eq(nodes.id, id));
        await recordAudit(tx, c, {
          action: "node.update",
          targetType: "node",
          targetId: id,
          details: { changes: changedFields(before, patch) },
        });
        const [node] = await loadNodes(tx, eq(nodes.id, id));
        if (!node) throw ApiError.notFound(NOT_FOUND);
        return node;
      });
      return c.json(view, 200);
    })
    .openapi(routes.remove, async (c) => {
      const { id } = c.req.valid("param");
      await db
        .transaction(async (tx) => {
          const [node] = await tx.select().from(nodes).where(eq(nodes.id, id)).for("update");
          if (!node) throw ApiError.notFound(NOT_FOUND);
          const [used] = await tx.select({ n: count() }).from(servers).where(eq(servers.nodeId, id));
          if (used && used.n > 0) throw ApiError.conflict("Node still has servers");
          // its (free) allocations go with it (ON DELETE CASCADE)
          await tx.delete(nodes).where(eq(nodes.id, id));
          await recordAudit(tx, c, {
            action: "node.delete",
            targetType: "node",
            targetId: id,
            details: { displayName: node.displayName, fqdn: node.fqdn },
          });
        })
        .catch((err: unknown) => {
          if (isForeignKeyViolation(err)) throw ApiError.conflict("Node still has servers");
          throw err;
        });
      return c.body(null, 204);
    })
    .route("/:nodeId/allocations", adminAllocationRoutes(deps));
}
