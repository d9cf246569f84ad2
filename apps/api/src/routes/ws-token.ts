import type { WsTicketResponse } from "@panel/protocol";
import { Hono } from "hono";
import { mintTicket } from "../auth/tickets.ts";
import type { AppDeps, AppEnv } from "../http/context.ts";
import { requireUser } from "../http/guards.ts";

export function wsTokenRoutes(deps: AppDeps) {
  return new Hono<AppEnv>().get("/ws/token", requireUser(deps), async (c) => {
    const principal = c.var.principal;
    const token = mintTicket(deps.config.auth.secret, principal, deps.config.realtime.ticketTtlMs);
    c.header("Cache-Control", "no-store");
    return c.json({ token, userId: principal.userId } satisfies WsTicketResponse);
  });
}
