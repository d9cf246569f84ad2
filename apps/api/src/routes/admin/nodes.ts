import { locations, newId, nodes, randomShortId, servers, type Transaction } from "@panel/db";
import type { NodeView } from "@panel/protocol";
import { asc, count, eq, type SQL } from "drizzle-orm";
import { Hono } from "hono";
import { z } from "zod";
import { changedFields, recordAudit } from "../../audit/record.ts";
import type { AppDeps, AppEnv } from "../../http/context.ts";
import { ApiError, isForeignKeyViolation } from "../../http/errors.ts";
import { jsonBody, pathId, queryParams } from "../../http/validate.ts";
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

/** `/api/admin/nodes` (and their allocations under `/:nodeId/allocations`). */
export function adminNodeRoutes(deps: AppDeps) {
  const { db } = deps;
  return new Hono<AppEnv>()
    .post("/", async (c) => {
      const input = await jsonBody(c, createNodeSchema);
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
    .get("/", async (c) => {
      const q = queryParams(c, listNodesQuerySchema);
      return c.json({
        data: await loadNodes(db, q.locationId ? eq(nodes.locationId, q.locationId) : undefined),
      });
    })
    .get("/:id", async (c) => {
      const [node] = await loadNodes(db, eq(nodes.id, pathId(c, "id", "node")));
      if (!node) throw ApiError.notFound(NOT_FOUND);
      return c.json(node);
    })
    .patch("/:id", async (c) => {
      const id = pathId(c, "id", "node");
      const patch = await jsonBody(c, updateNodeSchema);
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
        return node;
      });
      return c.json(view);
    })
    .delete("/:id", async (c) => {
      const id = pathId(c, "id", "node");
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
