import { z } from "@hono/zod-openapi";
import { session, user } from "@panel/db";
import { and, desc, eq, ilike, or, type SQL, sql } from "drizzle-orm";
import { recordAudit } from "../../audit/record.ts";
import { ADMIN_ROLE, isAdminRole } from "../../auth/auth.ts";
import type { AppDeps } from "../../http/context.ts";
import { defineRoute, idParam, json, jsonRequest, router } from "../../http/define-route.ts";
import { ApiError } from "../../http/errors.ts";
import { adminUserPageSchema, adminUserSchema, revokedSessionsSchema } from "../../openapi/schemas.ts";
import { containsPattern, cursorParam, decodeKeyset, encodeKeyset, limitParam, pageOf } from "./keyset.ts";

export const listUsersQuerySchema = z.object({
  /** case-insensitive substring of the email or the name */
  search: z.string().trim().max(100).optional(),
  limit: limitParam(100, 50),
  cursor: cursorParam,
});

export const banUserSchema = z.strictObject({
  reason: z.string().trim().min(1).max(500).optional(),
  /** omitted: banned until unbanned */
  expiresInSeconds: z
    .number()
    .int()
    .min(1)
    .max(10 * 365 * 24 * 3600)
    .optional(),
});

export const updateUserSchema = z.strictObject({ role: z.enum([ADMIN_ROLE, "user"]) });

/** What better-auth's admin plugin records when no reason is given. */
const DEFAULT_BAN_REASON = "No reason";
const CURSOR_TAG = "users";

// spelled out: inside a sub-select drizzle leaves columns unqualified ("id" would be the server's)
const serverCount = sql<number>`(select count(*)::int from "servers" where "servers"."owner_id" = "user"."id")`;
const view = {
  id: user.id,
  email: user.email,
  name: user.name,
  role: user.role,
  banned: user.banned,
  banReason: user.banReason,
  banExpires: user.banExpires,
  createdAt: user.createdAt,
  serverCount: serverCount.as("server_count"),
};

type UserRow = {
  id: string;
  email: string;
  name: string;
  role: string | null;
  banned: boolean | null;
  banReason: string | null;
  banExpires: Date | null;
  createdAt: Date;
  serverCount: number;
};

function userView(row: UserRow) {
  return {
    id: row.id,
    email: row.email,
    name: row.name,
    role: isAdminRole(row.role) ? ADMIN_ROLE : (row.role ?? "user"),
    banned: !!row.banned,
    banReason: row.banReason,
    banExpires: row.banExpires?.toISOString() ?? null,
    createdAt: row.createdAt.toISOString(),
    serverCount: Number(row.serverCount),
  };
}

function declarations(deps: AppDeps) {
  const TAGS = ["Admin: users"];
  const params = z.object({ id: idParam("user", "The user's id (`user_…`).") });
  const notFound = "User not found.";
  const write = (path: string, summary: string, description: string) =>
    ({ method: "post", path, summary, description, tags: TAGS, access: "admin" }) as const;
  return {
    list: defineRoute(deps, {
      method: "get",
      path: "/",
      summary: "List or search users",
      description: "Newest first, keyset-paginated.",
      tags: TAGS,
      access: "admin",
      request: { query: listUsersQuerySchema },
      responses: { 200: json(adminUserPageSchema, "A page of users.") },
    }),
    get: defineRoute(deps, {
      method: "get",
      path: "/{id}",
      summary: "Get a user",
      tags: TAGS,
      access: "admin",
      request: { params },
      responses: { 200: json(adminUserSchema, "The user.") },
      errors: { 404: notFound },
    }),
    ban: defineRoute(deps, {
      ...write(
        "/{id}/ban",
        "Ban a user",
        "Ends their sessions now; open sockets close at the next sync tick.",
      ),
      request: { params, body: jsonRequest(banUserSchema, { reason: "Abuse", expiresInSeconds: 86400 }) },
      responses: { 200: json(adminUserSchema, "The banned user.") },
      errors: { 400: "Invalid input; or banning yourself (`field: id`).", 404: notFound },
    }),
    unban: defineRoute(deps, {
      ...write("/{id}/unban", "Unban a user", "Lifts a ban (a no-op for a user who is not banned)."),
      request: { params },
      responses: { 200: json(adminUserSchema, "The user.") },
      errors: { 404: notFound },
    }),
    revokeSessions: defineRoute(deps, {
      ...write("/{id}/revoke-sessions", "Revoke a user's sessions", "Signs the user out everywhere."),
      request: { params },
      responses: { 200: json(revokedSessionsSchema, "How many sessions ended.") },
      errors: { 404: notFound },
    }),
    setRole: defineRoute(deps, {
      method: "patch",
      path: "/{id}",
      summary: "Set a user's role",
      tags: TAGS,
      access: "admin",
      request: { params, body: jsonRequest(updateUserSchema, { role: "admin" }) },
      responses: { 200: json(adminUserSchema, "The user.") },
      errors: { 400: "Invalid input; or removing your own admin role (`field: role`).", 404: notFound },
    }),
  };
}

/**
 * `/api/admin/users`: list/search, ban, unban, revoke sessions, set role. The writes are the
 * admin plugin's (same columns, same effects: a ban also ends the user's sessions), done in our
 * transaction so that each commits with its audit row, and usable with an admin's API key.
 * Open sockets follow at the next sync tick (the credential check re-reads ban and role).
 */
export function adminUserRoutes(deps: AppDeps) {
  const { db } = deps;

  async function load(id: string, tx: Pick<AppDeps["db"], "select"> = db) {
    const [row] = await tx.select(view).from(user).where(eq(user.id, id));
    if (!row) throw ApiError.notFound("User not found");
    return userView(row);
  }

  /** Locks the target user for the write; 404 if it does not exist. */
  async function lockUser(tx: Parameters<Parameters<AppDeps["db"]["transaction"]>[0]>[0], id: string) {
    const [row] = await tx.select().from(user).where(eq(user.id, id)).for("update");
    if (!row) throw ApiError.notFound("User not found");
    return row;
  }

  const routes = declarations(deps);
  return router()
    .openapi(routes.list, async (c) => {
      const q = c.req.valid("query");
      const filters: (SQL | undefined)[] = [];
      if (q.search) {
        const pattern = containsPattern(q.search);
        filters.push(or(ilike(user.email, pattern), ilike(user.name, pattern)));
      }
      if (q.cursor) {
        const [createdAt, id] = decodeKeyset(q.cursor, CURSOR_TAG, ["date", "string"]);
        filters.push(sql`(${user.createdAt}, ${user.id}) < (${createdAt}::timestamptz, ${id})`);
      }
      const rows = await db
        .select(view)
        .from(user)
        .where(and(...filters))
        .orderBy(desc(user.createdAt), desc(user.id))
        .limit(q.limit + 1);
      const { page, nextCursor } = pageOf(rows, q.limit, (last) =>
        encodeKeyset(CURSOR_TAG, [last.createdAt.toISOString(), last.id]),
      );
      return c.json({ data: page.map(userView), nextCursor }, 200);
    })
    .openapi(routes.get, async (c) => c.json(await load(c.req.valid("param").id), 200))
    .openapi(routes.ban, async (c) => {
      const { id } = c.req.valid("param");
      const input = c.req.valid("json");
      if (id === c.var.principal.userId) throw ApiError.badRequest("You cannot ban yourself", "id");
      const result = await db.transaction(async (tx) => {
        await lockUser(tx, id);
        const banExpires = input.expiresInSeconds
          ? new Date(Date.now() + input.expiresInSeconds * 1000)
          : null;
        const banReason = input.reason ?? DEFAULT_BAN_REASON;
        await tx
          .update(user)
          .set({ banned: true, banReason, banExpires, updatedAt: new Date() })
          .where(eq(user.id, id));
        const ended = await tx.delete(session).where(eq(session.userId, id)).returning({ id: session.id });
        await recordAudit(tx, c, {
          action: "user.ban",
          targetType: "user",
          targetId: id,
          details: {
            reason: banReason,
            expiresAt: banExpires?.toISOString() ?? null,
            sessionsRevoked: ended.length,
          },
        });
        return load(id, tx);
      });
      return c.json(result, 200);
    })
    .openapi(routes.unban, async (c) => {
      const { id } = c.req.valid("param");
      const result = await db.transaction(async (tx) => {
        const before = await lockUser(tx, id);
        await tx
          .update(user)
          .set({ banned: false, banReason: null, banExpires: null, updatedAt: new Date() })
          .where(eq(user.id, id));
        await recordAudit(tx, c, {
          action: "user.unban",
          targetType: "user",
          targetId: id,
          details: { wasBanned: !!before.banned, banReason: before.banReason },
        });
        return load(id, tx);
      });
      return c.json(result, 200);
    })
    .openapi(routes.revokeSessions, async (c) => {
      const { id } = c.req.valid("param");
      const revoked = await db.transaction(async (tx) => {
        await lockUser(tx, id);
        const ended = await tx.delete(session).where(eq(session.userId, id)).returning({ id: session.id });
        await recordAudit(tx, c, {
          action: "user.revoke_sessions",
          targetType: "user",
          targetId: id,
          details: { sessionsRevoked: ended.length },
        });
        return ended.length;
      });
      return c.json({ revoked }, 200);
    })
    .openapi(routes.setRole, async (c) => {
      const { id } = c.req.valid("param");
      const { role } = c.req.valid("json");
      if (id === c.var.principal.userId && role !== ADMIN_ROLE) {
        throw ApiError.badRequest("You cannot remove your own admin role", "role");
      }
      const result = await db.transaction(async (tx) => {
        const before = await lockUser(tx, id);
        await tx.update(user).set({ role, updatedAt: new Date() }).where(eq(user.id, id));
        await recordAudit(tx, c, {
          action: "user.set_role",
          targetType: "user",
          targetId: id,
          details: { changes: { role: { from: before.role, to: role } } },
        });
        return load(id, tx);
      });
      return c.json(result, 200);
    });
}
