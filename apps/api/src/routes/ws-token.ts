import type { WsTicketResponse } from "@panel/protocol";
import { Hono } from "hono";
import { credentialKey } from "../auth/credentials.ts";
import { mintTicket } from "../auth/tickets.ts";
import type { AppDeps, AppEnv } from "../http/context.ts";
import { ApiError } from "../http/errors.ts";
import { requireUser } from "../http/guards.ts";
import { KeyedRateLimit } from "../realtime/rate-limit.ts";

export const TOO_MANY_TICKETS = "Too many tickets; retry later";

export function wsTokenRoutes(deps: AppDeps) {
  // Per credential and per API instance: a reconnect burst passes, a steady flood does not.
  const minting = new KeyedRateLimit(deps.config.realtime.ticketRate);
  return new Hono<AppEnv>().get("/ws/token", requireUser(deps), async (c) => {
    const principal = c.var.principal;
    const retryAfterSeconds = minting.take(credentialKey(principal.credential), Date.now());
    if (retryAfterSeconds > 0) throw ApiError.tooManyRequests(TOO_MANY_TICKETS, retryAfterSeconds);
    const token = mintTicket(deps.config.auth.secret, principal, deps.config.realtime.ticketTtlMs);
    c.header("Cache-Control", "no-store");
    return c.json({ token, userId: principal.userId } satisfies WsTicketResponse);
  });
}
