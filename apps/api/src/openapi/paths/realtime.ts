import { wsTicketResponseSchema } from "@panel/protocol";
import type { OpenApiRegistry } from "../registry.ts";

export function registerRealtime(registry: OpenApiRegistry) {
  registry.tag(
    "Realtime",
    "WebSocket tickets and the socket itself; the messages are documented at [/api/docs/websocket](/api/docs/websocket).",
  );
  registry.add({
    method: "get",
    path: "/api/ws/token",
    summary: "Mint a WebSocket ticket",
    description: [
      'A short-lived ticket for exactly one WebSocket authentication (`{"type":"auth","token"}` or',
      "`/api/ws?token=`): it expires after 60 s (`WS_TICKET_TTL_MS`), works once, and dies with the session or API key",
      "that minted it. Fetch a fresh one for every connection. Sent with `Cache-Control: no-store`.",
    ].join(" "),
    tags: ["Realtime"],
    access: "user",
    responses: {
      200: {
        description: "A ticket for the caller.",
        schema: wsTicketResponseSchema,
        example: { token: "<opaque string>", userId: "user_123" },
      },
    },
    errors: {
      429: [
        "API key rate limit exceeded; or `Too many tickets; retry later`: the credential (session or API key)",
        "minted more than its budget (`WS_TICKET_BURST` at once, then `WS_TICKET_PER_SECOND`, per API instance).",
        "`Retry-After` gives the seconds to wait.",
      ].join(" "),
    },
  });
  registry.add({
    method: "get",
    path: "/api/ws",
    summary: "WebSocket (upgrade)",
    description: [
      "The realtime socket (`wss://<api-host>/api/ws`), not a JSON endpoint: authenticate with the",
      "session cookie, an `auth` message carrying a ticket, or `?token=<ticket>`. Its messages, errors,",
      "close codes and timings are on [the WebSocket page](/api/docs/websocket).",
    ].join(" "),
    tags: ["Realtime"],
    access: "public",
    responses: { 101: { description: "Switching Protocols: the WebSocket is open." } },
    errors: {
      403: "Origin not allowed: a browser `Origin` outside `ALLOWED_ORIGINS`.",
      429: [
        "Too many unauthenticated connections from this address (`WS_MAX_UNAUTHED_PER_ADDRESS`);",
        "authenticated sockets do not count. `Retry-After` gives the seconds to wait.",
      ].join(" "),
    },
    otherResponses: {
      503: {
        description:
          "Too many connections; retry later: the instance holds `WS_MAX_SOCKETS` sockets. `Retry-After` gives the seconds to wait.",
      },
    },
  });
}
