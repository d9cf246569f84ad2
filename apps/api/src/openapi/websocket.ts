import {
  type ClientMessage,
  clientMessageSchema,
  type ServerMessage,
  serverMessageSchema,
  UNSUBSCRIBE_REASONS,
  WS_CLOSE,
  WS_ERRORS,
} from "@panel/protocol";
import { z } from "zod";
import type { Config } from "../env.ts";
import { TOO_MANY_KEY_SOCKETS } from "../realtime/gateway.ts";
import { serverSnapshotExample } from "./examples.ts";

/**
 * The WebSocket protocol (SPEC §2–5) as data, generated from `@panel/protocol`: every message
 * type is read off the `clientMessageSchema`/`serverMessageSchema` unions with its JSON Schema,
 * every error string and close code off `WS_ERRORS`/`WS_CLOSE`, and the timings off the running
 * configuration. Only the prose and the examples are written here; the `Record<…>` types make
 * the compiler demand one for every message type, error and close code, and the tests parse
 * every example with its schema.
 */

type ClientType = ClientMessage["type"];
type ServerType = ServerMessage["type"];

const clientDocs: Record<ClientType, { description: string; replies: ServerType[]; example: ClientMessage }> =
  {
    auth: {
      description:
        "Authenticates with a ticket from `GET /api/ws/token` (one use, short-lived). Only needed when the upgrade carried no session cookie and no `?token=`.",
      replies: ["auth_success", "auth_error"],
      example: { type: "auth", token: "<ticket from GET /api/ws/token>" },
    },
    subscribe: {
      description:
        "Starts syncing one server. Its owner, its subusers and admins may subscribe; for anyone else (or an unknown id) the same `Server not found` error, so ids cannot be probed.",
      replies: ["subscribed", "server:sync", "error"],
      example: { type: "subscribe", serverId: "srv_abc123" },
    },
    unsubscribe: {
      description: "Stops syncing one server.",
      replies: ["unsubscribed"],
      example: { type: "unsubscribe", serverId: "srv_abc123" },
    },
    ping: {
      description: "Application-level heartbeat (the server also sends protocol-level pings).",
      replies: ["pong"],
      example: { type: "ping" },
    },
  };

const serverDocs: Record<ServerType, { description: string; example: ServerMessage }> = {
  auth_success: {
    description:
      "Authenticated: the first message, unprompted, when the upgrade carried a session cookie or `?token=`; else the reply to `auth`.",
    example: { type: "auth_success", userId: "user_123" },
  },
  auth_error: {
    description:
      "Authentication failed (bad, used or expired ticket); or, later, the session/API key behind the connection was revoked, expired or its user banned — then the socket is closed with 4001 within one sync period.",
    example: { type: "auth_error", error: WS_ERRORS.invalidSession },
  },
  subscribed: {
    description: "Reply to `subscribe`; a first `server:sync` for that server follows at once.",
    example: { type: "subscribed", serverId: "srv_abc123" },
  },
  unsubscribed: {
    description:
      "Reply to `unsubscribe`; or unprompted with `reason` when the server was deleted or the user lost access to it (subuser removed, ownership moved). Syncing stops.",
    example: { type: "unsubscribed", serverId: "srv_abc123", reason: "access_revoked" },
  },
  pong: { description: "Reply to `ping`.", example: { type: "pong" } },
  error: {
    description: "A refused message; the connection stays open. `error` is one of the strings below.",
    example: { type: "error", error: WS_ERRORS.serverNotFound, serverId: "srv_nope" },
  },
  "server:sync": {
    description:
      "The full state of one subscribed server, every sync period (and once right after `subscribed`). `data` is the object `GET /api/servers/{id}` returns.",
    example: { type: "server:sync", serverId: "srv_abc123", data: serverSnapshotExample },
  },
};

const errorDocs: Record<keyof typeof WS_ERRORS, string> = {
  invalidSession:
    "`auth_error`: the ticket is unknown, used or expired; or the session/API key died (then 4001).",
  authRequired: "`subscribe` before authenticating.",
  serverNotFound:
    "`subscribe` to a server that does not exist or that the user may not see (with `serverId`).",
  invalidMessage: "Not JSON, not an object, or missing/non-string fields.",
  unknownType: "An unknown `type`.",
  tooManySubscriptions: "Over the per-connection subscription cap (with `serverId`).",
  rateLimited: "Over the inbound rate limit; a client that keeps going is closed with 1008.",
};

const closeDocs: Record<keyof typeof WS_CLOSE, string> = {
  normal: "Normal closure. The only code after which clients should not reconnect.",
  goingAway: "The server is shutting down; reconnect with backoff.",
  policyViolation: `Kept sending over the rate limit; or the API key's socket cap is reached ("${TOO_MANY_KEY_SOCKETS}").`,
  messageTooBig: "A frame over the size limit.",
  tryAgainLater:
    "The client's send buffer stayed over its limit (a slow reader), or the database is unavailable.",
  unauthenticated:
    "Not authenticated in time, or the session/API key was revoked, expired or its user banned.",
};

type Realtime = Config["realtime"];

/** JSON Schema of one message (the client's as it may send it, the server's as it sends it). */
const schemaOf = (schema: z.ZodType, io: "input" | "output") => {
  const { $schema: _ignored, ...json } = z.toJSONSchema(schema, { io, unrepresentable: "any" });
  return json;
};

const typeOf = (option: { shape: { type: { value: string } } }) => option.shape.type.value;

export function buildWebsocketDoc(realtime: Realtime) {
  const seconds = (ms: number) => `${ms / 1000} s`;
  return {
    title: "Game Panel WebSocket protocol",
    endpoint: "/api/ws",
    url: "wss://<api-host>/api/ws (dev: ws://localhost:3001/api/ws)",
    description:
      "JSON text frames, one message per frame, each an object with a `type`. Generated from the shared zod schemas in @panel/protocol.",
    authentication: {
      timeout: `A connection not authenticated within ${seconds(realtime.authTimeoutMs)} is closed with ${WS_CLOSE.unauthenticated}.`,
      ticket: `GET /api/ws/token (session cookie or x-api-key) answers {"token","userId"}: a ticket for exactly one authentication, valid ${seconds(realtime.ticketTtlMs)}, bound to the session or API key that minted it. Fetch a fresh one for every connection.`,
      origin:
        "Upgrades from a browser Origin not in the configured allow-list are refused; non-browser clients send no Origin and pass.",
      flows: [
        {
          name: "cookie",
          description:
            "A valid better-auth session cookie on the upgrade request: the server sends `auth_success` first, unprompted.",
        },
        {
          name: "auth message",
          description: 'Send `{"type":"auth","token":"<ticket>"}`; reply `auth_success` or `auth_error`.',
        },
        {
          name: "query string",
          description:
            "`/api/ws?token=<ticket>` for clients that cannot easily send a first message; the same replies, unprompted.",
        },
      ],
    },
    limits: {
      syncIntervalMs: realtime.syncIntervalMs,
      authTimeoutMs: realtime.authTimeoutMs,
      ticketTtlMs: realtime.ticketTtlMs,
      heartbeatMs: realtime.heartbeatMs,
      maxSubscriptions: realtime.maxSubscriptions,
      rateBurst: realtime.rateBurst,
      ratePerSecond: realtime.ratePerSecond,
      maxPayloadBytes: realtime.maxPayloadBytes,
      maxSocketsPerApiKey: realtime.maxSocketsPerApiKey || null,
    },
    timings: [
      `server:sync every ${seconds(realtime.syncIntervalMs)} for every subscribed server.`,
      `Protocol-level pings every ${seconds(realtime.heartbeatMs)}; a peer that misses two in a row is terminated. {"type":"ping"} stays the application-level heartbeat.`,
      `Inbound rate limit: a bucket of ${realtime.rateBurst} refilled at ${realtime.ratePerSecond} messages/s; over it, "${WS_ERRORS.rateLimited}", and ${WS_CLOSE.policyViolation} for a client that keeps going.`,
      `At most ${realtime.maxSubscriptions} subscriptions per connection.`,
      `A frame over ${realtime.maxPayloadBytes / 1024} KiB is refused by closing with ${WS_CLOSE.messageTooBig}.`,
      `A slow reader whose send buffer is over its limit is skipped for that tick (every snapshot is the full state) and closed with ${WS_CLOSE.tryAgainLater} if it stays over.`,
      `Revoking the session or API key, its expiry, or banning the user: auth_error then close ${WS_CLOSE.unauthenticated} within one sync period.`,
      realtime.maxSocketsPerApiKey
        ? `At most ${realtime.maxSocketsPerApiKey} concurrent sockets per API key (close ${WS_CLOSE.policyViolation}).`
        : "No cap on concurrent sockets per API key (WS_MAX_SOCKETS_PER_API_KEY=0).",
      `Upgrades are refused with 429 (and Retry-After) while the client's address holds ${realtime.maxUnauthenticatedPerAddress} sockets that have not authenticated yet (authenticated ones do not count), and with 503 (and Retry-After) while the instance holds its total (WS_MAX_SOCKETS, by default derived from its open-file limit).`,
    ],
    clientBehaviour:
      "Wait for auth_success before subscribing, re-subscribe after reconnecting, reconnect with exponential backoff on any close other than 1000, and fetch a fresh ticket for every connection.",
    clientMessages: clientMessageSchema.options.map((option) => {
      const type = typeOf(option) as ClientType;
      return { type, ...clientDocs[type], schema: schemaOf(option, "input") };
    }),
    serverMessages: serverMessageSchema.options.map((option) => {
      const type = typeOf(option) as ServerType;
      return { type, ...serverDocs[type], schema: schemaOf(option, "output") };
    }),
    errors: Object.entries(WS_ERRORS).map(([key, error]) => ({
      key,
      error,
      when: errorDocs[key as keyof typeof WS_ERRORS],
    })),
    closeCodes: Object.entries(WS_CLOSE).map(([name, code]) => ({
      name,
      code,
      when: closeDocs[name as keyof typeof WS_CLOSE],
    })),
    unsubscribeReasons: [...UNSUBSCRIBE_REASONS],
  };
}

export type WebsocketDoc = ReturnType<typeof buildWebsocketDoc>;

const escapeHtml = (s: string) =>
  s.replace(
    /[&<>"']/g,
    (ch) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[ch] ?? ch,
  );

/** `code` spans for backticks, everything else escaped. */
const prose = (s: string) =>
  escapeHtml(s).replace(/`([^`]+)`/g, (_, inner: string) => `<code>${inner}</code>`);

const json = (value: unknown) => `<pre><code>${escapeHtml(JSON.stringify(value, null, 2))}</code></pre>`;

function messageSection(
  m: { type: string; description: string; example: unknown; schema: unknown; replies?: string[] },
  direction: "client" | "server",
) {
  const replies = m.replies
    ? `<p>Replies: ${m.replies.map((r) => `<a href="#server-${escapeHtml(r)}"><code>${escapeHtml(r)}</code></a>`).join(", ")}</p>`
    : "";
  return `<section id="${direction}-${escapeHtml(m.type)}" class="message">
<h3><code>${escapeHtml(m.type)}</code></h3>
<p>${prose(m.description)}</p>${replies}
<h4>Example</h4>${json(m.example)}
<details><summary>JSON Schema</summary>${json(m.schema)}</details>
</section>`;
}

export function renderWebsocketHtml(doc: WebsocketDoc): string {
  const rows = (cells: string[][]) =>
    cells.map((c) => `<tr>${c.map((x) => `<td>${x}</td>`).join("")}</tr>`).join("\n");
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(doc.title)}</title>
<style>
body{font:15px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#1d1d1f}
code{font:13px ui-monospace,monospace;background:#f3f3f5;padding:0 .2em;border-radius:3px}
pre{background:#f6f8fa;padding:.75rem;overflow:auto;border-radius:6px}pre code{background:none;padding:0}
table{border-collapse:collapse;width:100%}td,th{border:1px solid #ddd;padding:.35rem .5rem;text-align:left;vertical-align:top}
.message{border-top:1px solid #eee;padding-top:.5rem}nav a{margin-right:1rem}
</style>
</head>
<body>
<nav><a href="/api/docs">REST reference</a><a href="/api/openapi.json">openapi.json</a><a href="/api/docs/websocket.json">websocket.json</a></nav>
<h1>${escapeHtml(doc.title)}</h1>
<p><code>${escapeHtml(doc.url)}</code></p>
<p>${prose(doc.description)}</p>

<h2 id="authentication">Authentication</h2>
<ol>${doc.authentication.flows.map((f) => `<li><strong>${escapeHtml(f.name)}</strong>: ${prose(f.description)}</li>`).join("")}</ol>
<p>${prose(doc.authentication.ticket)}</p>
<p>${prose(doc.authentication.timeout)}</p>
<p>${prose(doc.authentication.origin)}</p>

<h2 id="timings">Timings and limits</h2>
<ul>${doc.timings.map((t) => `<li>${prose(t)}</li>`).join("")}</ul>
<p>${prose(doc.clientBehaviour)}</p>

<h2 id="client-messages">Client → server messages</h2>
${doc.clientMessages.map((m) => messageSection(m, "client")).join("\n")}

<h2 id="server-messages">Server → client messages</h2>
${doc.serverMessages.map((m) => messageSection(m, "server")).join("\n")}

<h2 id="errors">Error strings</h2>
<p>Sent as <code>{"type":"error","error":"…"}</code> (or <code>auth_error</code>); clients match on them exactly.</p>
<table><thead><tr><th>error</th><th>when</th></tr></thead><tbody>
${rows(doc.errors.map((e) => [`<code>${escapeHtml(e.error)}</code>`, prose(e.when)]))}
</tbody></table>

<h2 id="close-codes">Close codes</h2>
<table><thead><tr><th>code</th><th>name</th><th>when</th></tr></thead><tbody>
${rows(doc.closeCodes.map((c) => [`<code>${c.code}</code>`, escapeHtml(c.name), prose(c.when)]))}
</tbody></table>
<p>Unsubscribe reasons: ${doc.unsubscribeReasons.map((r) => `<code>${escapeHtml(r)}</code>`).join(", ")}.</p>
</body>
</html>
`;
}
