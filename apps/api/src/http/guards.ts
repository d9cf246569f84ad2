import { createMiddleware } from "hono/factory";
import { resolvePrincipal } from "../auth/principal.ts";
import type { AppDeps, AppEnv } from "./context.ts";
import { ApiError } from "./errors.ts";

/**
 * 401 unless the caller has a live session cookie or API key; sets `c.var.principal`.
 * Resolves the caller once per request: several route modules mounted on one prefix each
 * install this guard, and verifying an API key twice would also count it twice against
 * its rate limit.
 */
export const requireUser = (deps: AppDeps) =>
  createMiddleware<AppEnv>(async (c, next) => {
    if (c.get("principal")) return next();
    const principal = await resolvePrincipal(deps.auth, deps.db, c.req.raw.headers);
    if (!principal) throw ApiError.unauthorized();
    c.set("principal", principal);
    await next();
  });

/** 401 for anonymous callers, 403 for signed-in non-admins. */
export const requireAdmin = (deps: AppDeps) =>
  createMiddleware<AppEnv>(async (c, next) => {
    const principal = c.get("principal") ?? (await resolvePrincipal(deps.auth, deps.db, c.req.raw.headers));
    if (!principal) throw ApiError.unauthorized();
    if (!principal.isAdmin) throw ApiError.forbidden("Admin access required");
    c.set("principal", principal);
    await next();
  });
