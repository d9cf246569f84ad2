import { z } from "@hono/zod-openapi";
import {
  blueprints,
  newId,
  nodes,
  randomShortId,
  serverSubusers,
  servers,
  type Transaction,
  user,
} from "@panel/db";
import { SERVER_STATUSES } from "@panel/protocol";
import { and, asc, desc, eq, ilike, inArray, or, type SQL, sql } from "drizzle-orm";
import { changedFields, recordAudit } from "../../audit/record.ts";
import type { AppDeps } from "../../http/context.ts";
import { defineRoute, json, jsonRequest, router } from "../../http/define-route.ts";
import { ApiError } from "../../http/errors.ts";
import { adminServerPageSchema, serverSchema } from "../../openapi/schemas.ts";
import { allocationListSchema, claimAllocations, releaseAllocations } from "../../servers/allocations.ts";
import { findServerRows, loadServerRow, type ServerRow, toSnapshot } from "../../servers/snapshots.ts";
import { serverIdParams } from "../servers/servers.ts";
import { containsPattern, cursorParam, decodeKeyset, encodeKeyset, limitParam, pageOf } from "./keyset.ts";
import { nameSchema } from "./named-catalog.ts";

const id = z.string().min(1).max(128);
const mebibytes = z
  .number()
  .int()
  .min(0)
  .max(16 * 1024 * 1024);

/** An empty string clears an optional text field, like null does. */
const optionalText = z
  .string()
  .trim()
  .max(256)
  .nullable()
  .transform((v) => (v === "" ? null : v));

export const createServerSchema = z.object({
  name: nameSchema,
  ownerId: id,
  nodeId: id,
  blueprintId: id,
  memory: mebibytes,
  disk: mebibytes,
  cpu: z.number().int().min(0).max(100_000),
  swap: z
    .number()
    .int()
    .min(-1)
    .max(16 * 1024 * 1024)
    .default(0),
  backupLimit: z.number().int().min(0).max(1000).default(0),
  allocations: allocationListSchema,
});

/**
 * `nodeId` moves the server to another node; `allocations` (required with a move) replaces its
 * allocations: the old ones go back to the free pool, the new ones must be free on the target.
 */
export const updateServerSchema = z
  .object({
    name: nameSchema,
    status: z.enum(SERVER_STATUSES),
    suspended: z.boolean(),
    memory: mebibytes,
    disk: mebibytes,
    cpu: z.number().int().min(0).max(100_000),
    swap: z
      .number()
      .int()
      .min(-1)
      .max(16 * 1024 * 1024),
    cpuPinning: optionalText,
    oomKillDisable: z.boolean(),
    backupLimit: z.number().int().min(0).max(1000),
    containerId: optionalText,
    ownerId: id,
    nodeId: id,
    allocations: allocationListSchema,
  })
  .partial()
  .strict()
  .refine((patch) => Object.keys(patch).length > 0, "no fields to update");

export const SERVER_SORTS = ["createdAt", "name"] as const;

export const listServersQuerySchema = z.object({
  status: z.enum(SERVER_STATUSES).optional(),
  nodeId: id.optional(),
  ownerId: id.optional(),
  locationId: id.optional(),
  suspended: z
    .enum(["true", "false"])
    .transform((v) => v === "true")
    .optional(),
  search: z.string().trim().max(100).optional(),
  /** `createdAt`: newest first (default); `name`: A→Z. Ties are broken by id. */
  sort: z.enum(SERVER_SORTS).default("createdAt"),
  limit: limitParam(100, 50),
  cursor: cursorParam,
});

async function assertExists(
  tx: Transaction,
  table: typeof user | typeof nodes | typeof blueprints,
  rowId: string,
  field: string,
  what: string,
) {
  const [found] = await tx.select({ id: table.id }).from(table).where(eq(table.id, rowId)).for("share");
  if (!found) throw ApiError.badRequest(`${what} not found`, field);
}

/** Keyset ordering per sort: the cursor carries the sort key and the id, tagged with the sort. */
const ORDERINGS = {
  createdAt: {
    orderBy: [desc(servers.createdAt), desc(servers.id)],
    key: (row: ServerRow) => row.createdAt.toISOString(),
    after: (key: string, after: string) =>
      sql`(${servers.createdAt}, ${servers.id}) < (${key}::timestamptz, ${after})`,
  },
  name: {
    orderBy: [asc(servers.name), asc(servers.id)],
    key: (row: ServerRow) => row.name,
    after: (key: string, after: string) => sql`(${servers.name}, ${servers.id}) > (${key}, ${after})`,
  },
} satisfies Record<(typeof SERVER_SORTS)[number], unknown>;

function declarations(deps: AppDeps) {
  const TAGS = ["Admin: servers"];
  const referenceErrors = "Invalid input; or no such owner, node or blueprint (`field` names it).";
  return {
    create: defineRoute(deps, {
      method: "post",
      path: "/",
      summary: "Create a server",
      description: "Status `installing`. Its allocations must be free (or new) on the node.",
      tags: TAGS,
      access: "admin",
      request: {
        body: jsonRequest(createServerSchema, {
          name: "Survival",
          ownerId: "user_abc123",
          nodeId: "node_abc123",
          blueprintId: "bp_abc123",
          memory: 4096,
          disk: 20480,
          cpu: 200,
          allocations: [{ ip: "10.0.0.5", port: 25565, isPrimary: true }],
        }),
      },
      responses: { 201: json(serverSchema, "The new server.") },
      errors: { 400: referenceErrors, 409: "An allocation is held by another server." },
    }),
    update: defineRoute(deps, {
      method: "patch",
      path: "/{id}",
      summary: "Change or move a server",
      description:
        "Any of its fields; `nodeId` with `allocations` moves it (the old allocations go back to the pool).",
      tags: TAGS,
      access: "admin",
      request: { params: serverIdParams, body: jsonRequest(updateServerSchema, { suspended: true }) },
      responses: { 200: json(serverSchema, "The changed server.") },
      errors: {
        400: referenceErrors,
        404: "Server not found.",
        409: "An allocation is held by another server.",
      },
    }),
    remove: defineRoute(deps, {
      method: "delete",
      path: "/{id}",
      summary: "Delete a server",
      description: "Its allocations go back to the node's free pool.",
      tags: TAGS,
      access: "admin",
      request: { params: serverIdParams },
      responses: { 204: { description: "Deleted." } },
      errors: { 404: "Server not found." },
    }),
    list: defineRoute(deps, {
      method: "get",
      path: "/",
      summary: "Search servers",
      description: "Every server, filtered, sorted and keyset-paginated.",
      tags: TAGS,
      access: "admin",
      request: { query: listServersQuerySchema },
      responses: { 200: json(adminServerPageSchema, "A page of servers.") },
    }),
  };
}

export function adminServerRoutes(deps: AppDeps) {
  const { db } = deps;
  const routes = declarations(deps);

  async function snapshotOrThrow(serverId: string) {
    const row = await loadServerRow(db, serverId);
    if (!row) throw ApiError.notFound("Server not found");
    return toSnapshot(row);
  }

  return router()
    .openapi(routes.create, async (c) => {
      const input = c.req.valid("json");
      const short = randomShortId(8);
      const serverId = newId("server", short);
      await db.transaction(async (tx) => {
        await assertExists(tx, user, input.ownerId, "ownerId", "User");
        await assertExists(tx, nodes, input.nodeId, "nodeId", "Node");
        await assertExists(tx, blueprints, input.blueprintId, "blueprintId", "Blueprint");
        const { allocations: wanted, ...fields } = input;
        await tx.insert(servers).values({ ...fields, id: serverId, shortId: short, status: "installing" });
        // Claims free pre-created allocations too; a port that another server holds is a 409.
        await claimAllocations(tx, serverId, input.nodeId, wanted);
        await recordAudit(tx, c, {
          action: "server.create",
          targetType: "server",
          targetId: serverId,
          details: { ...input },
        });
      });
      return c.json(await snapshotOrThrow(serverId), 201);
    })
    .openapi(routes.update, async (c) => {
      const serverId = c.req.valid("param").id;
      const patch = c.req.valid("json");
      await db.transaction(async (tx) => {
        const [before] = await tx.select().from(servers).where(eq(servers.id, serverId)).for("update");
        if (!before) throw ApiError.notFound("Server not found");
        if (patch.ownerId) await assertExists(tx, user, patch.ownerId, "ownerId", "User");
        if (patch.nodeId) await assertExists(tx, nodes, patch.nodeId, "nodeId", "Node");
        const { allocations: wanted, ...fields } = patch;
        const targetNode = fields.nodeId ?? before.nodeId;
        if (targetNode !== before.nodeId && !wanted) {
          throw ApiError.badRequest(
            "allocations on the new node are required to move a server",
            "allocations",
          );
        }
        const changes: Record<string, unknown> = changedFields(before, fields);
        if (Object.keys(fields).length > 0) {
          await tx.update(servers).set(fields).where(eq(servers.id, serverId));
        }
        if (wanted) {
          // Transactional move: release the old ones, then claim the new (409 if one is taken).
          const released = await releaseAllocations(tx, serverId);
          await claimAllocations(tx, serverId, targetNode, wanted);
          changes.allocations = {
            from: released.map((a) => `${a.ip}:${a.port}`),
            to: wanted.map((a) => `${a.ip}:${a.port}`),
          };
          if (Object.keys(fields).length === 0) {
            // still bump updatedAt: the snapshot changed
            await tx.update(servers).set({ updatedAt: new Date() }).where(eq(servers.id, serverId));
          }
        }
        if (patch.ownerId) {
          // The new owner needs no subuser entry of their own.
          await tx
            .delete(serverSubusers)
            .where(and(eq(serverSubusers.serverId, serverId), eq(serverSubusers.userId, patch.ownerId)));
        }
        await recordAudit(tx, c, {
          action: targetNode !== before.nodeId ? "server.move" : "server.update",
          targetType: "server",
          targetId: serverId,
          details: { changes },
        });
      });
      return c.json(await snapshotOrThrow(serverId), 200);
    })
    .openapi(routes.remove, async (c) => {
      const serverId = c.req.valid("param").id;
      await db.transaction(async (tx) => {
        const [row] = await tx.select().from(servers).where(eq(servers.id, serverId)).for("update");
        if (!row) throw ApiError.notFound("Server not found");
        // Its allocations go back to the node's free pool (the FK would only null serverId).
        const released = await releaseAllocations(tx, serverId);
        await tx.delete(servers).where(eq(servers.id, serverId));
        await recordAudit(tx, c, {
          action: "server.delete",
          targetType: "server",
          targetId: serverId,
          details: {
            name: row.name,
            ownerId: row.ownerId,
            nodeId: row.nodeId,
            releasedAllocations: released.map((a) => `${a.ip}:${a.port}`),
          },
        });
      });
      return c.body(null, 204);
    })
    .openapi(routes.list, async (c) => {
      const q = c.req.valid("query");
      const filters: (SQL | undefined)[] = [
        q.status ? eq(servers.status, q.status) : undefined,
        q.nodeId ? eq(servers.nodeId, q.nodeId) : undefined,
        q.ownerId ? eq(servers.ownerId, q.ownerId) : undefined,
        q.suspended !== undefined ? eq(servers.suspended, q.suspended) : undefined,
        q.locationId
          ? inArray(
              servers.nodeId,
              db.select({ id: nodes.id }).from(nodes).where(eq(nodes.locationId, q.locationId)),
            )
          : undefined,
      ];
      if (q.search) {
        const pattern = containsPattern(q.search);
        filters.push(
          or(ilike(servers.name, pattern), ilike(servers.id, pattern), ilike(servers.shortId, pattern)),
        );
      }
      const ordering = ORDERINGS[q.sort];
      if (q.cursor) {
        const [key, after] = decodeKeyset(q.cursor, q.sort, [
          q.sort === "createdAt" ? "date" : "string",
          "string",
        ]) as [string, string];
        filters.push(ordering.after(key, after));
      }
      // createdAt: rows inserted while paging land before the cursor, never inside a page.
      const rows = await findServerRows(db, and(...filters) ?? sql`true`, {
        orderBy: ordering.orderBy,
        limit: q.limit + 1,
      });
      const { page, nextCursor } = pageOf(rows, q.limit, (last) =>
        encodeKeyset(q.sort, [ordering.key(last), last.id]),
      );
      return c.json({ data: page.map(toSnapshot), nextCursor }, 200);
    });
}
