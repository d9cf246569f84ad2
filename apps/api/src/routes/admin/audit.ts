import { z } from "@hono/zod-openapi";
import { auditLog } from "@panel/db";
import { and, desc, eq, gte, lt, type SQL, sql } from "drizzle-orm";
import type { AppDeps } from "../../http/context.ts";
import { defineRoute, json, router } from "../../http/define-route.ts";
import { auditPageSchema } from "../../openapi/schemas.ts";
import { cursorParam, decodeKeyset, encodeKeyset, idParam, limitParam, pageOf } from "./keyset.ts";

export const listAuditQuerySchema = z.object({
  actorId: idParam.optional(),
  /** exact action, e.g. `server.update` */
  action: z.string().max(64).optional(),
  targetType: z.string().max(64).optional(),
  targetId: idParam.optional(),
  /** ISO-8601; `since` inclusive, `until` exclusive */
  since: z.iso.datetime({ offset: true }).optional(),
  until: z.iso.datetime({ offset: true }).optional(),
  limit: limitParam(100, 50),
  cursor: cursorParam,
});

const CURSOR_TAG = "audit";

/** `GET /api/admin/audit`: the audit log, newest first, keyset-paginated. */
export function adminAuditRoutes(deps: AppDeps) {
  const list = defineRoute(deps, {
    method: "get",
    path: "/",
    summary: "Audit log",
    description: "Newest first, keyset-paginated; filters combine.",
    tags: ["Admin: audit"],
    access: "admin",
    request: { query: listAuditQuerySchema },
    responses: { 200: json(auditPageSchema, "A page of entries.") },
  });
  return router().openapi(list, async (c) => {
    const q = c.req.valid("query");
    const filters: (SQL | undefined)[] = [
      q.actorId ? eq(auditLog.actorId, q.actorId) : undefined,
      q.action ? eq(auditLog.action, q.action) : undefined,
      q.targetType ? eq(auditLog.targetType, q.targetType) : undefined,
      q.targetId ? eq(auditLog.targetId, q.targetId) : undefined,
      q.since ? gte(auditLog.createdAt, new Date(q.since)) : undefined,
      q.until ? lt(auditLog.createdAt, new Date(q.until)) : undefined,
    ];
    if (q.cursor) {
      const [createdAt, id] = decodeKeyset(q.cursor, CURSOR_TAG, ["date", "int"]);
      filters.push(sql`(${auditLog.createdAt}, ${auditLog.id}) < (${createdAt}::timestamptz, ${id}::bigint)`);
    }
    const rows = await deps.db
      .select()
      .from(auditLog)
      .where(and(...filters))
      .orderBy(desc(auditLog.createdAt), desc(auditLog.id))
      .limit(q.limit + 1);
    const { page, nextCursor } = pageOf(rows, q.limit, (last) =>
      encodeKeyset(CURSOR_TAG, [last.createdAt.toISOString(), last.id]),
    );
    return c.json(
      {
        data: page.map((r) => ({
          id: r.id,
          actorId: r.actorId,
          actorKind: r.actorKind,
          apiKeyId: r.apiKeyId,
          action: r.action,
          targetType: r.targetType,
          targetId: r.targetId,
          ip: r.ip,
          details: r.details,
          createdAt: r.createdAt.toISOString(),
        })),
        nextCursor,
      },
      200,
    );
  });
}
