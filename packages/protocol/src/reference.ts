import {
  UNSUBSCRIBE_REASONS,
  WS_CLOSE,
  WS_ERRORS,
  type WsCloseName,
  type WsCloseReasonKey,
  type WsErrorKey,
  type WsUpgradeErrorKey,
} from "./errors.ts";
import { serverSnapshotExample } from "./examples.ts";
import type { ClientMessage, ClientMessageType, ServerMessage } from "./messages.ts";

/**
 * The prose of the protocol reference: one entry per message type, error, close code and close
 * reason (the `Record` types make the compiler demand one for each), the auth flows and the
 * timings. docs/protocol.md and the API's /api/docs/websocket page are both rendered from it.
 */

type ServerMessageType = ServerMessage["type"];

/** The numbers a client sees; the API's configuration can change them (its defaults are these). */
export type ProtocolLimits = {
  syncIntervalMs: number;
  authTimeoutMs: number;
  ticketTtlMs: number;
  heartbeatMs: number;
  maxSubscriptions: number;
  rateBurst: number;
  ratePerSecond: number;
  maxPayloadBytes: number;
  /** 0: no cap */
  maxSocketsPerApiKey: number;
  /** sockets one client address may hold before they authenticate */
  maxUnauthenticatedPerAddress: number;
};

export const PROTOCOL_DEFAULTS: ProtocolLimits = {
  syncIntervalMs: 5000,
  authTimeoutMs: 10_000,
  ticketTtlMs: 60_000,
  heartbeatMs: 30_000,
  maxSubscriptions: 100,
  rateBurst: 120,
  ratePerSecond: 20,
  maxPayloadBytes: 64 * 1024,
  maxSocketsPerApiKey: 0,
  maxUnauthenticatedPerAddress: 64,
};

export const WS_ENDPOINT = {
  path: "/api/ws",
  url: "wss://<api-host>/api/ws (dev: ws://localhost:3001/api/ws)",
  framing: "JSON text frames, one message per frame, each an object with a `type`.",
};

export const CLIENT_MESSAGE_DOCS: Record<
  ClientMessageType,
  { description: string; replies: ServerMessageType[]; example: ClientMessage }
> = {
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

export const SERVER_MESSAGE_DOCS: Record<ServerMessageType, { description: string; example: ServerMessage }> =
  {
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
      description: "A refused message; the connection stays open. `error` is one of the error strings.",
      example: { type: "error", error: WS_ERRORS.serverNotFound, serverId: "srv_nope" },
    },
    "server:sync": {
      description:
        "The full state of one subscribed server, every sync period (and once right after `subscribed`). `data` is the object `GET /api/servers/{id}` returns.",
      example: { type: "server:sync", serverId: "srv_abc123", data: serverSnapshotExample },
    },
  };

export const WS_ERROR_DOCS: Record<WsErrorKey, { sentAs: "error" | "auth_error"; when: string }> = {
  invalidSession: {
    sentAs: "auth_error",
    when: "The ticket is unknown, used or expired; or the session/API key behind the connection was revoked, expired or its user banned (then close 4001).",
  },
  authRequired: { sentAs: "error", when: "`subscribe` before authenticating." },
  serverNotFound: {
    sentAs: "error",
    when: "`subscribe` to a server that does not exist or that the user may not see (with `serverId`).",
  },
  invalidMessage: { sentAs: "error", when: "Not JSON, not an object, or missing/non-string fields." },
  unknownType: { sentAs: "error", when: "An unknown `type`." },
  tooManySubscriptions: {
    sentAs: "error",
    when: "Over the per-connection subscription cap (with `serverId`).",
  },
  rateLimited: {
    sentAs: "error",
    when: "Over the inbound rate limit; a client that keeps going is closed with 1008.",
  },
  unavailable: {
    sentAs: "error",
    when: "The database did not answer: on `subscribe` (with `serverId`; the connection stays open), or while authenticating (then close 1013). Not the client's fault: retry with backoff.",
  },
  tooManyKeySockets: {
    sentAs: "auth_error",
    when: "The API key already holds its cap of concurrent sockets (`WS_MAX_SOCKETS_PER_API_KEY`); then close 1008. The key itself is fine: try later.",
  },
};

export const WS_CLOSE_DOCS: Record<WsCloseName, string> = {
  normal: "Normal closure. The only code after which clients should not reconnect.",
  goingAway: "The server is shutting down; reconnect with backoff.",
  policyViolation: "Kept sending over the rate limit; or the API key's socket cap is reached.",
  messageTooBig: "A frame over the size limit.",
  tryAgainLater:
    "The client's send buffer stayed over its limit (a slow reader), or the database is unavailable.",
  unauthenticated:
    "Not authenticated in time, or the session/API key was revoked, expired or its user banned.",
};

export const WS_CLOSE_REASON_DOCS: Record<WsCloseReasonKey, { code: WsCloseName; when: string }> = {
  authTimeout: { code: "unauthenticated", when: "Not authenticated within the auth timeout." },
  sessionRevoked: {
    code: "unauthenticated",
    when: "After `auth_error`: the session or API key was revoked, expired, or its user banned.",
  },
  rateLimited: { code: "policyViolation", when: "Kept sending over the inbound rate limit." },
  tooManyKeySockets: { code: "policyViolation", when: "After `auth_error`: the API key's socket cap." },
  unavailable: { code: "tryAgainLater", when: "After `error`: the database did not answer during auth." },
  sendBufferFull: { code: "tryAgainLater", when: "The send buffer stayed over its limit (a slow reader)." },
  shuttingDown: { code: "goingAway", when: "The server is shutting down." },
};

export const WS_UPGRADE_ERROR_DOCS: Record<WsUpgradeErrorKey, { status: number; when: string }> = {
  notFound: { status: 404, when: "An upgrade on any path other than `/api/ws`." },
  originNotAllowed: {
    status: 403,
    when: "A browser `Origin` not in the allow-list (`ALLOWED_ORIGINS`): cross-site WebSocket hijacking.",
  },
  tooManyUnauthenticated: {
    status: 429,
    when: "The client's address already holds `WS_MAX_UNAUTHED_PER_ADDRESS` sockets that have not authenticated yet; with `Retry-After`.",
  },
  tooManyConnections: {
    status: 503,
    when: "The instance holds its total of sockets (`WS_MAX_SOCKETS`, by default derived from its open-file limit); with `Retry-After`.",
  },
};

const seconds = (ms: number) => `${ms / 1000} s`;

export function authenticationDocs(limits: ProtocolLimits) {
  return {
    ticket: `\`GET /api/ws/token\` (session cookie or \`x-api-key\`) answers \`{"token","userId"}\` (401 \`{"error":"Unauthorized"}\` without either): a ticket for exactly one authentication, valid ${seconds(limits.ticketTtlMs)}, stored only as a hash and bound to the session or API key that minted it, so revoking that also kills the ticket. Fetch a fresh one for every connection.`,
    timeout: `A connection not authenticated within ${seconds(limits.authTimeoutMs)} is closed with ${WS_CLOSE.unauthenticated}.`,
    origin:
      "Upgrades from a browser Origin not in the configured allow-list are refused; non-browser clients send no Origin and pass.",
    flows: [
      {
        name: "cookie",
        description:
          "A valid better-auth session cookie on the upgrade request (`better-auth.session_token`, `__Secure-` behind https): the server sends `auth_success` first, unprompted.",
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
  };
}

export const LOSING_ACCESS = [
  `When a subscribed server is deleted, or the user loses access (subuser removed, ownership moved), the server sends \`{"type":"unsubscribed","serverId":"…","reason":"${UNSUBSCRIBE_REASONS[0]}"}\` and stops syncing it.`,
  `When the session or API key behind a connection is revoked, expires or the user is banned, the server sends \`{"type":"auth_error","error":"${WS_ERRORS.invalidSession}"}\` and closes with ${WS_CLOSE.unauthenticated} — within one sync period.`,
];

export function timingDocs(limits: ProtocolLimits): string[] {
  return [
    `\`server:sync\` every ${seconds(limits.syncIntervalMs)} for every subscribed server, built from one batched database query per tick for the whole process.`,
    `Protocol-level pings every ${seconds(limits.heartbeatMs)}; a peer that misses two in a row is terminated. \`{"type":"ping"}\` stays the application-level heartbeat.`,
    `Inbound rate limit: a bucket of ${limits.rateBurst} refilled at ${limits.ratePerSecond} messages/s; over it, \`${WS_ERRORS.rateLimited}\`, and ${WS_CLOSE.policyViolation} for a client that keeps going.`,
    `At most ${limits.maxSubscriptions} subscriptions per connection.`,
    `A frame over ${limits.maxPayloadBytes / 1024} KiB is refused by closing with ${WS_CLOSE.messageTooBig}.`,
    `A slow reader whose send buffer is over its limit is skipped for that tick (every snapshot is the full state) and closed with ${WS_CLOSE.tryAgainLater} if it stays over.`,
    `Revoking the session or API key, its expiry, or banning the user: \`auth_error\` then close ${WS_CLOSE.unauthenticated} within one sync period.`,
    limits.maxSocketsPerApiKey
      ? `At most ${limits.maxSocketsPerApiKey} concurrent sockets per API key (close ${WS_CLOSE.policyViolation}).`
      : `No cap on concurrent sockets per API key (\`WS_MAX_SOCKETS_PER_API_KEY=0\`; over a cap: close ${WS_CLOSE.policyViolation}).`,
    `Upgrades are refused with 429 (and \`Retry-After\`) while the client's address holds ${limits.maxUnauthenticatedPerAddress} sockets that have not authenticated yet (authenticated ones do not count), and with 503 (and \`Retry-After\`) while the instance holds its total (\`WS_MAX_SOCKETS\`, by default derived from its open-file limit).`,
  ];
}

export const CLIENT_BEHAVIOUR =
  "Wait for `auth_success` before subscribing, re-subscribe after reconnecting, reconnect with exponential backoff on any close other than 1000, and fetch a fresh ticket for every connection.";

/** Notes for the server object's fields that the types alone do not say. */
export const SERVER_FIELD_NOTES: Record<string, string> = {
  shortId: "the id without its `srv_` prefix",
  memory: "MiB",
  disk: "MiB",
  cpu: "percent",
  swap: "MiB",
  cpuPinning: "e.g. `0-1`",
  createdAt: "ISO-8601 UTC",
  updatedAt: "ISO-8601 UTC",
};
