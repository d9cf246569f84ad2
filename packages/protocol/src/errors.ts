/**
 * Every string the server sends over `/api/ws` that a client may match on: error texts, close
 * codes and close reasons, upgrade refusals. Documented in docs/protocol.md (generated from
 * this package). Clients match on them: never reword.
 */

/** `error` of `{"type":"error"}` and `{"type":"auth_error"}` (docs/protocol.md#errors). */
export const WS_ERRORS = {
  invalidSession: "Invalid or expired session",
  authRequired: "Authentication required to subscribe",
  serverNotFound: "Server not found",
  invalidMessage: "Invalid message",
  unknownType: "Unknown message type",
  tooManySubscriptions: "Too many subscriptions",
  rateLimited: "Rate limit exceeded",
  unavailable: "Service temporarily unavailable",
  tooManyKeySockets: "Too many connections for this API key",
} as const;
export type WsErrorKey = keyof typeof WS_ERRORS;

/** WebSocket close codes the server uses (docs/protocol.md#close-codes). */
export const WS_CLOSE = {
  normal: 1000,
  goingAway: 1001,
  policyViolation: 1008,
  messageTooBig: 1009,
  tryAgainLater: 1013,
  unauthenticated: 4001,
} as const;
export type WsCloseName = keyof typeof WS_CLOSE;

/** The reason text sent with each close the server initiates (docs/protocol.md#close-reasons). */
export const WS_CLOSE_REASONS = {
  authTimeout: "Authentication timeout",
  sessionRevoked: "Session revoked",
  rateLimited: WS_ERRORS.rateLimited,
  tooManyKeySockets: WS_ERRORS.tooManyKeySockets,
  unavailable: WS_ERRORS.unavailable,
  sendBufferFull: "Send buffer full",
  shuttingDown: "Server shutting down",
} as const;
export type WsCloseReasonKey = keyof typeof WS_CLOSE_REASONS;

/** `{"error"}` bodies of refused upgrades, before any WebSocket exists (docs/protocol.md#upgrade-refusals). */
export const WS_UPGRADE_ERRORS = {
  notFound: "Not found",
  originNotAllowed: "Origin not allowed",
  tooManyUnauthenticated: "Too many unauthenticated connections from this address",
  tooManyConnections: "Too many connections; retry later",
} as const;
export type WsUpgradeErrorKey = keyof typeof WS_UPGRADE_ERRORS;

/** Why a subscription ended without the client asking. */
export const UNSUBSCRIBE_REASONS = ["access_revoked"] as const;
export type UnsubscribeReason = (typeof UNSUBSCRIBE_REASONS)[number];
