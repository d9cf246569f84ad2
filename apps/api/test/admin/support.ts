import { auditLog } from "@panel/db";
import { and, desc, eq } from "drizzle-orm";
import { expect } from "vitest";
import type { RunningServer } from "../../src/server.ts";
import { anonymous, bogusCookie, call, json } from "../rest/support.ts";
import { request, type TestUser } from "../support/factories.ts";

export { call, json };

/** An admin's API key, as a script would use it. */
export type KeyUser = {
  id: string;
  keyId: string;
  fetch: (path: string, init?: RequestInit) => Promise<Response>;
};

export async function apiKeyOf(srv: RunningServer, owner: TestUser): Promise<KeyUser> {
  const created = await srv.auth.api.createApiKey({ body: { userId: owner.id, name: "admin-script" } });
  return {
    id: owner.id,
    keyId: created.id,
    fetch: (path, init = {}) => request(srv, path, init, { "x-api-key": created.key }),
  };
}

export type Req = [method: string, path: string, body?: unknown];

export const init = ([method, , body]: Req): RequestInit =>
  body === undefined ? { method } : json(method, body);

/** Anonymous and bogus-cookie callers get 401, a signed-in non-admin 403, and nothing is written. */
export async function expectAdminOnly(srv: RunningServer, user: TestUser, requests: Req[]) {
  const before = await auditCount(srv, user.id);
  for (const req of requests) {
    const label = `${req[0]} ${req[1]}`;
    for (const send of [anonymous, bogusCookie]) {
      const res = await call(send(srv, req[1], init(req)));
      expect(res.status, label).toBe(401);
      expect(res.body, label).toEqual({ error: "Unauthorized" });
    }
    const res = await call(user.fetch(req[1], init(req)));
    expect(res.status, label).toBe(403);
    expect(res.body, label).toEqual({ error: expect.any(String) });
  }
  expect(await auditCount(srv, user.id)).toBe(before);
}

export const bad = (field: string) => ({ error: expect.any(String), field });

/** Audit rows written by this actor (scoped: on PostgreSQL all test files share one database). */
export async function auditCount(srv: RunningServer, actorId: string) {
  return (await srv.db.select({ id: auditLog.id }).from(auditLog).where(eq(auditLog.actorId, actorId)))
    .length;
}

/** Audit rows for a target, newest first. */
export function auditFor(srv: RunningServer, targetType: string, targetId: string) {
  return srv.db
    .select()
    .from(auditLog)
    .where(and(eq(auditLog.targetType, targetType), eq(auditLog.targetId, targetId)))
    .orderBy(desc(auditLog.id));
}

/** The newest audit row with this action and target (fails the test if there is none). */
export async function lastAudit(srv: RunningServer, action: string, targetId: string) {
  const [row] = await srv.db
    .select()
    .from(auditLog)
    .where(and(eq(auditLog.action, action), eq(auditLog.targetId, targetId)))
    .orderBy(desc(auditLog.id))
    .limit(1);
  expect(row, `audit ${action} ${targetId}`).toBeDefined();
  return row!;
}
