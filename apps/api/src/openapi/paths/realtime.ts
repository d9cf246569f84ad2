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
  });
}
