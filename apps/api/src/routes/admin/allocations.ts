import { z } from "@hono/zod-openapi";
import { allocations, newId, nodes, servers, type Transaction } from "@panel/db";
import { and, asc, eq, isNotNull, isNull, ne, type SQL, sql } from "drizzle-orm";
import { recordAudit } from "../../audit/record.ts";
import type { AppDeps } from "../../http/context.ts";
import { defineRoute, json, jsonRequest, idParam as pathIdParam, router } from "../../http/define-route.ts";
import { ApiError } from "../../http/errors.ts";
import {
  adminAllocationListSchema,
  adminAllocationPageSchema,
  adminAllocationSchema,
} from "../../openapi/schemas.ts";
import { ipSchema } from "../../servers/allocations.ts";
import { cursorParam, decodeKeyset, encodeKeyset, idParam, limitParam, pageOf } from "./keyset.ts";

/** Most allocations one request may create (a range like "25565-26564" counts each port). */
export const MAX_NEW_ALLOCATIONS = 1000;

const portOrRange = z.union([
  z.number().int().min(1).max(65535),
  z
    .string()
    .regex(/^\d{1,5}-\d{1,5}$/, 'must be a port or a range "start-end"')
    .transform((s) => s.split("-").map(Number) as [number, number])
    .refine(([a, b]) => a >= 1 && b <= 65535 && a <= b, "range must be within 1-65535, start <= end"),
]);

export const createAllocationsSchema = z.strictObject({
  ip: ipSchema,
  /** e.g. `[25565, "27015-27020"]` */
  ports: z
    .array(portOrRange)
    .min(1)
    .max(100)
    .transform((items, ctx) => {
      const ports = new Set<number>();
      for (const item of items) {
        const [from, to] = typeof item === "number" ? [item, item] : item;
        if (to - from + 1 + ports.size > MAX_NEW_ALLOCATIONS) {
          ctx.addIssue({ code: "custom", message: `at most ${MAX_NEW_ALLOCATIONS} ports per request` });
          return z.NEVER;
        }
        for (let p = from; p <= to; p++) ports.add(p);
      }
      return [...ports].sort((a, b) => a - b);
    }),
});

export const updateAllocationSchema = z
  .strictObject({
    /** a server on this node to assign it to, or null to return it to the free pool */
    serverId: idParam.nullable(),
    /** make it its server's primary allocation */
    isPrimary: z.literal(true),
  })
  .partial()
  .refine((patch) => Object.keys(patch).length > 0, "no fields to update");

export const listAllocationsQuerySchema = z.object({
  state: z.enum(["free", "assigned"]).optional(),
  serverId: idParam.optional(),
  limit: limitParam(1000, 100),
  cursor: cursorParam,
});

const view = {
  id: allocations.id,
  nodeId: allocations.nodeId,
  ip: allocations.ip,
  port: allocations.port,
  serverId: allocations.serverId,
  isPrimary: allocations.isPrimary,
};
type AllocationView = {
  id: string;
  nodeId: string;
  ip: string;
  port: number;
  serverId: string | null;
  isPrimary: boolean;
};

const CURSOR_TAG = "alloc";

async function assertNode(db: Transaction | AppDeps["db"], nodeId: string, lock = false) {
  const q = db.select({ id: nodes.id }).from(nodes).where(eq(nodes.id, nodeId));
  const [node] = await (lock ? q.for("share") : q);
  if (!node) throw ApiError.notFound("Node not found");
}

/** Locks the server (serialising changes to its allocations); 400 unless it is on this node. */
async function lockServerOnNode(tx: Transaction, serverId: string, nodeId: string) {
  const [server] = await tx
    .select({ id: servers.id, nodeId: servers.nodeId })
    .from(servers)
    .where(eq(servers.id, serverId))
    .for("update");
  if (!server) throw ApiError.badRequest("Server not found", "serverId");
  if (server.nodeId !== nodeId) throw ApiError.badRequest("Server is on another node", "serverId");
}

/**
 * `/api/admin/nodes/:nodeId/allocations`: a node's ip:port pool. Free allocations (no server)
 * are created here and claimed by servers (on create, move or assign); deleting a server
 * returns its allocations to the pool.
 */
function declarations(deps: AppDeps) {
  const TAGS = ["Admin: nodes"];
  const nodeId = pathIdParam("node", "The node's id (`node_…`).");
  const one = z.object({
    nodeId,
    allocationId: pathIdParam("allocation", "The allocation's id (`alloc_…`)."),
  });
  return {
    list: defineRoute(deps, {
      method: "get",
      path: "/",
      summary: "List a node's allocations",
      description: "By ip, then port; keyset-paginated.",
      tags: TAGS,
      access: "admin",
      request: { params: z.object({ nodeId }), query: listAllocationsQuerySchema },
      responses: { 200: json(adminAllocationPageSchema, "A page of allocations.") },
      errors: { 404: "Node not found." },
    }),
    create: defineRoute(deps, {
      method: "post",
      path: "/",
      summary: "Create free allocations",
      description: `Ports and ranges ("start-end") on one ip; at most ${MAX_NEW_ALLOCATIONS} ports per request.`,
      tags: TAGS,
      access: "admin",
      request: {
        params: z.object({ nodeId }),
        body: jsonRequest(createAllocationsSchema, { ip: "10.0.0.5", ports: [25565, "27015-27020"] }),
      },
      responses: { 201: json(adminAllocationListSchema, "The new allocations, by port.") },
      errors: {
        404: "Node not found.",
        409: "One of the ports already exists on this node (`field: ports`).",
      },
    }),
    update: defineRoute(deps, {
      method: "patch",
      path: "/{allocationId}",
      summary: "Assign, unassign or make primary",
      description:
        "`serverId`: a server on this node to assign a free allocation to, or null to return it to the pool; `isPrimary: true`: make it its server's primary.",
      tags: TAGS,
      access: "admin",
      request: { params: one, body: jsonRequest(updateAllocationSchema, { isPrimary: true }) },
      responses: { 200: json(adminAllocationSchema, "The allocation.") },
      errors: {
        400: "Invalid input; or the server is missing or on another node (`field: serverId`).",
        404: "Node or allocation not found.",
        409: "Assigned to another server; a server's last allocation; or only an assigned allocation can be primary.",
      },
    }),
    remove: defineRoute(deps, {
      method: "delete",
      path: "/{allocationId}",
      summary: "Delete a free allocation",
      tags: TAGS,
      access: "admin",
      request: { params: one },
      responses: { 204: { description: "Deleted." } },
      errors: { 404: "Node or allocation not found.", 409: "The allocation is assigned to a server." },
    }),
  };
}

export function adminAllocationRoutes(deps: AppDeps) {
  const { db } = deps;
  const routes = declarations(deps);
  return router()
    .openapi(routes.list, async (c) => {
      const { nodeId } = c.req.valid("param");
      const q = c.req.valid("query");
      await assertNode(db, nodeId);
      const filters: (SQL | undefined)[] = [
        eq(allocations.nodeId, nodeId),
        q.state === "free" ? isNull(allocations.serverId) : undefined,
        q.state === "assigned" ? isNotNull(allocations.serverId) : undefined,
        q.serverId ? eq(allocations.serverId, q.serverId) : undefined,
      ];
      if (q.cursor) {
        const [ip, port] = decodeKeyset(q.cursor, CURSOR_TAG, ["string", "int"]);
        filters.push(sql`(${allocations.ip}, ${allocations.port}) > (${ip}, ${port})`);
      }
      const rows = await db
        .select(view)
        .from(allocations)
        .where(and(...filters))
        .orderBy(asc(allocations.ip), asc(allocations.port))
        .limit(q.limit + 1);
      const { page, nextCursor } = pageOf(rows, q.limit, (a) => encodeKeyset(CURSOR_TAG, [a.ip, a.port]));
      return c.json({ data: page, nextCursor }, 200);
    })
    .openapi(routes.create, async (c) => {
      const { nodeId } = c.req.valid("param");
      const input = c.req.valid("json");
      const created = await db.transaction(async (tx) => {
        await assertNode(tx, nodeId, true);
        const rows = await tx
          .insert(allocations)
          .values(input.ports.map((port) => ({ id: newId("allocation"), nodeId, ip: input.ip, port })))
          .onConflictDoNothing()
          .returning(view);
        if (rows.length !== input.ports.length) {
          const taken = input.ports.find((p) => !rows.some((r) => r.port === p));
          throw ApiError.conflict(`Allocation ${input.ip}:${taken} already exists on this node`, "ports");
        }
        await recordAudit(tx, c, {
          action: "allocation.create",
          targetType: "node",
          targetId: nodeId,
          details: { ip: input.ip, ports: input.ports, count: rows.length },
        });
        return rows.sort((a, b) => a.port - b.port);
      });
      return c.json({ data: created }, 201);
    })
    .openapi(routes.update, async (c) => {
      const { nodeId, allocationId } = c.req.valid("param");
      const patch = c.req.valid("json");
      const updated = await db.transaction(async (tx) => {
        await assertNode(tx, nodeId, true);
        const [found] = await tx
          .select(view)
          .from(allocations)
          .where(and(eq(allocations.id, allocationId), eq(allocations.nodeId, nodeId)))
          .for("update");
        if (!found) throw ApiError.notFound("Allocation not found");
        let alloc: AllocationView = found;
        let action = "allocation.set_primary";

        if (patch.serverId === null && alloc.serverId !== null) {
          const serverId = alloc.serverId;
          await lockServerOnNode(tx, serverId, nodeId);
          const others = await tx
            .select(view)
            .from(allocations)
            .where(and(eq(allocations.serverId, serverId), ne(allocations.id, alloc.id)))
            .orderBy(asc(allocations.ip), asc(allocations.port));
          if (others.length === 0)
            throw ApiError.conflict("A server needs at least one allocation", "serverId");
          if (patch.isPrimary)
            throw ApiError.badRequest("An unassigned allocation cannot be primary", "isPrimary");
          await tx
            .update(allocations)
            .set({ serverId: null, isPrimary: false })
            .where(eq(allocations.id, alloc.id));
          const next = others[0];
          if (alloc.isPrimary && next && !others.some((o) => o.isPrimary)) {
            await tx.update(allocations).set({ isPrimary: true }).where(eq(allocations.id, next.id));
          }
          alloc = { ...alloc, serverId: null, isPrimary: false };
          action = "allocation.unassign";
          await recordAudit(tx, c, {
            action,
            targetType: "allocation",
            targetId: alloc.id,
            details: { nodeId, ip: alloc.ip, port: alloc.port, serverId },
          });
          return alloc;
        }

        if (typeof patch.serverId === "string" && patch.serverId !== alloc.serverId) {
          if (alloc.serverId !== null) {
            throw ApiError.conflict("Allocation is assigned to another server", "serverId");
          }
          await lockServerOnNode(tx, patch.serverId, nodeId);
          await tx.update(allocations).set({ serverId: patch.serverId }).where(eq(allocations.id, alloc.id));
          alloc = { ...alloc, serverId: patch.serverId };
          action = "allocation.assign";
        }

        if (patch.isPrimary) {
          if (alloc.serverId === null) {
            throw ApiError.conflict("Only an assigned allocation can be primary", "isPrimary");
          }
          if (action !== "allocation.assign") await lockServerOnNode(tx, alloc.serverId, nodeId);
          await tx
            .update(allocations)
            .set({ isPrimary: sql`${allocations.id} = ${alloc.id}` })
            .where(eq(allocations.serverId, alloc.serverId));
          alloc = { ...alloc, isPrimary: true };
        }

        if (alloc.serverId !== found.serverId || alloc.isPrimary !== found.isPrimary) {
          await recordAudit(tx, c, {
            action,
            targetType: "allocation",
            targetId: alloc.id,
            details: {
              nodeId,
              ip: alloc.ip,
              port: alloc.port,
              serverId: alloc.serverId,
              ...(patch.isPrimary ? { isPrimary: true } : {}),
            },
          });
        }
        return alloc;
      });
      return c.json(updated, 200);
    })
    .openapi(routes.remove, async (c) => {
      const { nodeId, allocationId } = c.req.valid("param");
      await db.transaction(async (tx) => {
        await assertNode(tx, nodeId, true);
        const [alloc] = await tx
          .select(view)
          .from(allocations)
          .where(and(eq(allocations.id, allocationId), eq(allocations.nodeId, nodeId)))
          .for("update");
        if (!alloc) throw ApiError.notFound("Allocation not found");
        if (alloc.serverId) throw ApiError.conflict("Allocation is assigned to a server");
        await tx.delete(allocations).where(eq(allocations.id, alloc.id));
        await recordAudit(tx, c, {
          action: "allocation.delete",
          targetType: "allocation",
          targetId: alloc.id,
          details: { nodeId, ip: alloc.ip, port: alloc.port },
        });
      });
      return c.body(null, 204);
    });
}
