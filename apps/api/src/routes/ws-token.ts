import type { WsTicketResponse } from "@panel/protocol";
import { credentialKey } from "../auth/credentials.ts";
import { mintTicket } from "../auth/tickets.ts";
import type { AppDeps } from "../http/context.ts";
import { defineRoute, errorSchema, json, router } from "../http/define-route.ts";
import { ApiError } from "../http/errors.ts";
import { wsTicketSchema } from "../openapi/schemas.ts";
import { KeyedRateLimit } from "../realtime/rate-limit.ts";

export const TOO_MANY_TICKETS = "Too many tickets; retry later";

/**
 * The socket itself, documented beside its ticket: `/api/ws` is served on the node server's
 * `upgrade` event, not by Hono, so it is declared for the document only.
 */
const websocketDoc = {
  method: "get" as const,
  path: "/ws",
  summary: "WebSocket (upgrade)",
  description: [
    "The realtime socket (`wss://<api-host>/api/ws`), not a JSON endpoint: authenticate with the",
    "session cookie, an `auth` message carrying a ticket, or `?token=<ticket>`. Its messages, errors,",
    "close codes and timings are on [the WebSocket page](/api/docs/websocket).",
  ].join(" "),
  tags: ["Realtime"],
  security: [],
  "x-access": "public",
  responses: {
    101: { description: "Switching Protocols: the WebSocket is open." },
    403: json(errorSchema, "Origin not allowed: a browser `Origin` outside `ALLOWED_ORIGINS`."),
    429: json(
      errorSchema,
      "Too many unauthenticated connections from this address (`WS_MAX_UNAUTHED_PER_ADDRESS`); authenticated sockets do not count. `Retry-After` gives the seconds to wait.",
    ),
    503: {
      description:
        "Too many connections; retry later: the instance holds `WS_MAX_SOCKETS` sockets. `Retry-After` gives the seconds to wait.",
    },
  },
};

export function wsTokenRoutes(deps: AppDeps) {
  // Per credential and per API instance: a reconnect burst passes, a steady flood does not.
  const minting = new KeyedRateLimit(deps.config.realtime.ticketRate);
  const token = defineRoute(deps, {
    method: "get",
    path: "/ws/token",
    summary: "Mint a WebSocket ticket",
    description: [
      'A short-lived ticket for exactly one WebSocket authentication (`{"type":"auth","token"}` or',
      "`/api/ws?token=`): it expires after 60 s (`WS_TICKET_TTL_MS`), works once, and dies with the session or API key",
      "that minted it. Fetch a fresh one for every connection. Sent with `Cache-Control: no-store`.",
    ].join(" "),
    tags: ["Realtime"],
    access: "user",
    responses: { 200: json(wsTicketSchema, "A ticket for the caller.") },
    errors: {
      429: [
        "API key rate limit exceeded; or `Too many tickets; retry later`: the credential (session or API key)",
        "minted more than its budget (`WS_TICKET_BURST` at once, then `WS_TICKET_PER_SECOND`, per API instance).",
        "`Retry-After` gives the seconds to wait.",
      ].join(" "),
    },
  });
  const app = router().openapi(token, async (c) => {
    const principal = c.var.principal;
    const retryAfterSeconds = minting.take(credentialKey(principal.credential), Date.now());
    if (retryAfterSeconds > 0) throw ApiError.tooManyRequests(TOO_MANY_TICKETS, retryAfterSeconds);
    const ticket = mintTicket(deps.config.auth.secret, principal, deps.config.realtime.ticketTtlMs);
    c.header("Cache-Control", "no-store");
    return c.json({ token: ticket, userId: principal.userId } satisfies WsTicketResponse, 200);
  });
  app.openAPIRegistry.registerPath(websocketDoc);
  return app;
}
