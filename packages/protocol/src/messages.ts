import { z } from "zod";
import { UNSUBSCRIBE_REASONS } from "./errors.ts";
import { serverSnapshotSchema } from "./server.ts";

// Ids are bounded so a client cannot make the server hold or query huge strings.
const serverId = z.string().min(1).max(128);

// ---- client -> server -------------------------------------------------------------
export const authMessageSchema = z.object({ type: z.literal("auth"), token: z.string().max(512) });
export const subscribeMessageSchema = z.object({ type: z.literal("subscribe"), serverId });
export const unsubscribeMessageSchema = z.object({ type: z.literal("unsubscribe"), serverId });
export const pingMessageSchema = z.object({ type: z.literal("ping") });

export const clientMessageSchema = z.discriminatedUnion("type", [
  authMessageSchema,
  subscribeMessageSchema,
  unsubscribeMessageSchema,
  pingMessageSchema,
]);
export type ClientMessage = z.infer<typeof clientMessageSchema>;
export type ClientMessageType = ClientMessage["type"];
export const CLIENT_MESSAGE_TYPES: readonly ClientMessageType[] = [
  "auth",
  "subscribe",
  "unsubscribe",
  "ping",
];

// ---- server -> client -------------------------------------------------------------
export const authSuccessMessageSchema = z.object({
  type: z.literal("auth_success"),
  userId: z.string(),
});
export const authErrorMessageSchema = z.object({ type: z.literal("auth_error"), error: z.string() });
export const subscribedMessageSchema = z.object({ type: z.literal("subscribed"), serverId });
export const unsubscribedMessageSchema = z.object({
  type: z.literal("unsubscribed"),
  serverId,
  reason: z.enum(UNSUBSCRIBE_REASONS).optional(),
});
export const pongMessageSchema = z.object({ type: z.literal("pong") });
export const errorMessageSchema = z.object({
  type: z.literal("error"),
  error: z.string(),
  serverId: z.string().optional(),
});
export const serverSyncMessageSchema = z.object({
  type: z.literal("server:sync"),
  serverId,
  data: serverSnapshotSchema,
});

export const serverMessageSchema = z.discriminatedUnion("type", [
  authSuccessMessageSchema,
  authErrorMessageSchema,
  subscribedMessageSchema,
  unsubscribedMessageSchema,
  pongMessageSchema,
  errorMessageSchema,
  serverSyncMessageSchema,
]);
export type ServerMessage = z.infer<typeof serverMessageSchema>;
export type ServerMessageOf<T extends ServerMessage["type"]> = Extract<ServerMessage, { type: T }>;
export type ServerSyncMessage = z.infer<typeof serverSyncMessageSchema>;

/** `GET /api/ws/token` */
export const wsTicketResponseSchema = z.object({ token: z.string(), userId: z.string() });
export type WsTicketResponse = z.infer<typeof wsTicketResponseSchema>;
