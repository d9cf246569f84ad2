import { session, user } from "@panel/db";
import { and, desc, eq, ilike, or, type SQL, sql } from "drizzle-orm";
import { Hono } from "hono";
import { z } from "zod";
import { recordAudit } from "../../audit/record.ts";
import { ADMIN_ROLE, isAdminRole } from "../../auth/auth.ts";
import type { AppDeps, AppEnv } from "../../http/context.ts";
import { ApiError } from "../../http/errors.ts";
import { jsonBody, pathId, queryParams } from "../../http/validate.ts";
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

  return new Hono<AppEnv>()
    .get("/", async (c) => {
      const q = queryParams(c, listUsersQuerySchema);
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
      return c.json({ data: page.map(userView), nextCursor });
    })
    .get("/:id", async (c) => c.json(await load(pathId(c, "id", "user"))))
    .post("/:id/ban", async (c) => {
      const id = pathId(c, "id", "user");
      const input = await jsonBody(c, banUserSchema);
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
      return c.json(result);
    })
    .post("/:id/unban", async (c) => {
      const id = pathId(c, "id", "user");
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
      return c.json(result);
    })
    .post("/:id/revoke-sessions", async (c) => {
      const id = pathId(c, "id", "user");
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
      return c.json({ revoked });
    })
    .patch("/:id", async (c) => {
      const id = pathId(c, "id", "user");
      const { role } = await jsonBody(c, updateUserSchema);
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
      return c.json(result);
    });
}
