import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import type { Principal } from "../auth/credentials.ts";
import { resolvePrincipal } from "../auth/principal.ts";
import type { AppDeps, AppEnv } from "./context.ts";
import { ApiError } from "./errors.ts";

const READ_METHODS = new Set(["GET", "HEAD"]);

/** A read-only API key may read anything its owner can, and change nothing. */
function assertMayWrite(principal: Principal, method: string) {
  if (principal.readOnly && !READ_METHODS.has(method)) {
    throw ApiError.forbidden("This API key is read-only");
  }
}

/**
 * The caller, resolved once per request: several route modules mounted on one prefix each
 * install a guard, and verifying an API key twice would also count it twice against its rate
 * limit. Every guarded route goes through here, so the read-only rule is enforced once for all.
 */
async function principalOf(deps: AppDeps, c: Context<AppEnv>): Promise<Principal> {
  const known = c.get("principal");
  if (known) return known;
  const principal = await resolvePrincipal(deps.auth, deps.db, c.req.raw.headers);
  if (!principal) throw ApiError.unauthorized();
  assertMayWrite(principal, c.req.method);
  c.set("principal", principal);
  return principal;
}

/** 401 unless the caller has a live session cookie or API key; sets `c.var.principal`. */
export const requireUser = (deps: AppDeps) =>
  createMiddleware<AppEnv>(async (c, next) => {
    await principalOf(deps, c);
    await next();
  });

/** 401 for anonymous callers, 403 for signed-in non-admins. */
export const requireAdmin = (deps: AppDeps) =>
  createMiddleware<AppEnv>(async (c, next) => {
    const principal = await principalOf(deps, c);
    if (!principal.isAdmin) throw ApiError.forbidden("Admin access required");
    await next();
  });

/** 403 for API keys: what only the account holder may do (e.g. manage API keys). */
export const requireSession = (deps: AppDeps, message: string) =>
  createMiddleware<AppEnv>(async (c, next) => {
    const principal = await principalOf(deps, c);
    if (principal.credential.kind !== "session") throw ApiError.forbidden(message);
    await next();
  });
