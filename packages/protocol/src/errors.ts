/** Error strings of the wire contract (SPEC §2–3). Clients match on them: never reword. */
export const WS_ERRORS = {
  invalidSession: "Invalid or expired session",
  authRequired: "Authentication required to subscribe",
  serverNotFound: "Server not found",
  invalidMessage: "Invalid message",
  unknownType: "Unknown message type",
  tooManySubscriptions: "Too many subscriptions",
  rateLimited: "Rate limit exceeded",
} as const;

/** WebSocket close codes the server uses. */
export const WS_CLOSE = {
  normal: 1000,
  goingAway: 1001,
  policyViolation: 1008,
  messageTooBig: 1009,
  tryAgainLater: 1013,
  unauthenticated: 4001,
} as const;

/** Why a subscription ended without the client asking. */
export const UNSUBSCRIBE_REASONS = ["access_revoked"] as const;
export type UnsubscribeReason = (typeof UNSUBSCRIBE_REASONS)[number];
