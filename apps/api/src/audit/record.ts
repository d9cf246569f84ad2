import { auditLog, type Database, type Transaction } from "@panel/db";
import type { Context } from "hono";
import type { AppEnv } from "../http/context.ts";

export type AuditEntry = {
  /** `<targetType>.<verb>`, e.g. `server.update`, `subuser.add`, `user.ban` */
  action: string;
  targetType: string;
  targetId: string;
  /** what changed; never secrets or passwords */
  details?: Record<string, unknown>;
};

/** Keys never written to the audit log, whatever a caller passes in `details`. */
const SECRET_KEYS = /pass(word)?|secret|token|key$/i;

function scrub(details: Record<string, unknown> | undefined): Record<string, unknown> | null {
  if (!details) return null;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(details)) {
    if (v === undefined || SECRET_KEYS.test(k)) continue;
    out[k] = v;
  }
  return out;
}

/**
 * One audit row for a write, inserted with the caller's transaction so that the change and
 * its record commit (or roll back) together.
 */
export async function recordAudit(db: Transaction | Database, c: Context<AppEnv>, entry: AuditEntry) {
  const { credential, userId } = c.var.principal;
  await db.insert(auditLog).values({
    actorId: userId,
    actorKind: credential.kind,
    apiKeyId: credential.kind === "apiKey" ? credential.id : null,
    action: entry.action,
    targetType: entry.targetType,
    targetId: entry.targetId,
    ip: c.var.clientIp,
    details: scrub(entry.details),
  });
}

/** The fields of `patch` that actually differ from `before` (for `*.update` details). */
export function changedFields<T extends Record<string, unknown>>(
  before: T,
  patch: Partial<T>,
): Record<string, { from: unknown; to: unknown }> {
  const out: Record<string, { from: unknown; to: unknown }> = {};
  for (const [k, to] of Object.entries(patch)) {
    if (to === undefined) continue;
    const from = before[k];
    const same = from instanceof Date ? from.getTime() === (to as Date)?.getTime?.() : from === to;
    if (!same) out[k] = { from: from ?? null, to };
  }
  return out;
}
