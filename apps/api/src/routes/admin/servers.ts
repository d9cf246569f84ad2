import {
  allocations,
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
import { and, desc, eq, ilike, or, type SQL, sql } from "drizzle-orm";
import { Hono } from "hono";
import { z } from "zod";
import type { AppDeps, AppEnv } from "../../http/context.ts";
import { decodeCursor, encodeCursor } from "../../http/cursor.ts";
import { ApiError } from "../../http/errors.ts";
import { jsonBody, queryParams } from "../../http/validate.ts";
import { findServerRows, loadServerRow, toSnapshot } from "../../servers/snapshots.ts";
import { nameSchema } from "./locations.ts";

const id = z.string().min(1).max(128);
const mebibytes = z
  .number()
  .int()
  .min(0)
  .max(16 * 1024 * 1024);

/**
 * One spelling per address ("::" = "0:0:0:0:0:0:0:0", "FE80::1" = "fe80::1"), so the unique
 * (node, ip, port) index really catches a port that is already allocated.
 */
function canonicalIp(ip: string): string {
  if (!ip.includes(":")) return ip;
  try {
    return new URL(`http://[${ip}]/`).hostname.slice(1, -1);
  } catch {
    return ip.toLowerCase();
  }
}

/** An empty string clears an optional text field, like null does. */
const optionalText = z
  .string()
  .trim()
  .max(256)
  .nullable()
  .transform((v) => (v === "" ? null : v));

const allocationInput = z.object({
  ip: z.union([z.ipv4(), z.ipv6()]).transform(canonicalIp),
  port: z.number().int().min(1).max(65535),
  isPrimary: z.boolean().default(false),
});

const createServerSchema = z.object({
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
  allocations: z
    .array(allocationInput)
    .min(1)
    .max(100)
    .refine((list) => list.filter((a) => a.isPrimary).length <= 1, "at most one allocation can be primary")
    .refine(
      (list) => new Set(list.map((a) => `${a.ip}:${a.port}`)).size === list.length,
      "the same ip:port is listed twice",
    ),
});

const updateServerSchema = z
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
  })
  .partial()
  .strict()
  .refine((patch) => Object.keys(patch).length > 0, "no fields to update");

const listQuerySchema = z.object({
  status: z.enum(SERVER_STATUSES).optional(),
  nodeId: id.optional(),
  ownerId: id.optional(),
  search: z.string().trim().max(100).optional(),
  // plain decimal digits only (no "1e1", "0x10" or " 10"), then 1..100
  limit: z
    .string()
    .regex(/^\d{1,6}$/, "must be a whole number")
    .transform(Number)
    .pipe(z.number().int().min(1).max(100))
    .default(50),
  cursor: z.string().max(512).optional(),
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

const escapeLike = (s: string) => s.replace(/[\\%_]/g, (ch) => `\\${ch}`);

export function adminServerRoutes(deps: AppDeps) {
  const { db } = deps;

  async function snapshotOrThrow(serverId: string) {
    const row = await loadServerRow(db, serverId);
    if (!row) throw ApiError.notFound("Server not found");
    return toSnapshot(row);
  }

  return new Hono<AppEnv>()
    .post("/", async (c) => {
      const input = await jsonBody(c, createServerSchema);
      const short = randomShortId(8);
      const serverId = newId("server", short);
      await db.transaction(async (tx) => {
        await assertExists(tx, user, input.ownerId, "ownerId", "User");
        await assertExists(tx, nodes, input.nodeId, "nodeId", "Node");
        await assertExists(tx, blueprints, input.blueprintId, "blueprintId", "Blueprint");
        const { allocations: wanted, ...fields } = input;
        await tx.insert(servers).values({ ...fields, id: serverId, shortId: short, status: "installing" });
        const primaryIndex = Math.max(
          0,
          wanted.findIndex((a) => a.isPrimary),
        );
        // Claims free pre-created allocations too; a port that another server holds is a 409.
        const claimed = await tx
          .insert(allocations)
          .values(
            wanted.map((a, i) => ({
              id: newId("allocation"),
              nodeId: input.nodeId,
              serverId,
              ip: a.ip,
              port: a.port,
              isPrimary: i === primaryIndex,
            })),
          )
          .onConflictDoUpdate({
            target: [allocations.nodeId, allocations.ip, allocations.port],
            set: { serverId, isPrimary: sql`excluded.is_primary` },
            setWhere: sql`${allocations.serverId} is null`,
          })
          .returning({ ip: allocations.ip, port: allocations.port });
        if (claimed.length !== wanted.length) {
          const taken = wanted.find((a) => !claimed.some((k) => k.ip === a.ip && k.port === a.port));
          throw ApiError.conflict(
            `Allocation ${taken?.ip}:${taken?.port} is already in use on this node`,
            "allocations",
          );
        }
      });
      return c.json(await snapshotOrThrow(serverId), 201);
    })
    .patch("/:id", async (c) => {
      const serverId = c.req.param("id");
      const patch = await jsonBody(c, updateServerSchema);
      await db.transaction(async (tx) => {
        if (patch.ownerId) await assertExists(tx, user, patch.ownerId, "ownerId", "User");
        const updated = await tx
          .update(servers)
          .set(patch)
          .where(eq(servers.id, serverId))
          .returning({ id: servers.id });
        if (updated.length === 0) throw ApiError.notFound("Server not found");
        if (patch.ownerId) {
          // The new owner needs no subuser entry of their own.
          await tx
            .delete(serverSubusers)
            .where(and(eq(serverSubusers.serverId, serverId), eq(serverSubusers.userId, patch.ownerId)));
        }
      });
      return c.json(await snapshotOrThrow(serverId));
    })
    .delete("/:id", async (c) => {
      const deleted = await db
        .delete(servers)
        .where(eq(servers.id, c.req.param("id")))
        .returning({ id: servers.id });
      if (deleted.length === 0) throw ApiError.notFound("Server not found");
      return c.body(null, 204);
    })
    .get("/", async (c) => {
      const q = queryParams(c, listQuerySchema);
      const filters: (SQL | undefined)[] = [
        q.status ? eq(servers.status, q.status) : undefined,
        q.nodeId ? eq(servers.nodeId, q.nodeId) : undefined,
        q.ownerId ? eq(servers.ownerId, q.ownerId) : undefined,
      ];
      if (q.search) {
        const pattern = `%${escapeLike(q.search)}%`;
        filters.push(
          or(ilike(servers.name, pattern), ilike(servers.id, pattern), ilike(servers.shortId, pattern)),
        );
      }
      if (q.cursor) {
        const after = decodeCursor(q.cursor);
        filters.push(
          sql`(${servers.createdAt}, ${servers.id}) < (${after.createdAt.toISOString()}::timestamptz, ${after.id})`,
        );
      }
      // Newest first; rows inserted while paging land before the cursor, never inside a page.
      const rows = await findServerRows(db, and(...filters) ?? sql`true`, {
        orderBy: [desc(servers.createdAt), desc(servers.id)],
        limit: q.limit + 1,
      });
      const page = rows.slice(0, q.limit);
      const last = page.at(-1);
      const nextCursor = rows.length > q.limit && last ? encodeCursor(last) : null;
      return c.json({ data: page.map(toSnapshot), nextCursor });
    });
}
