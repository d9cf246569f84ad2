import {
  allocationSchema,
  blueprintSchema,
  locationSchema,
  nodeSchema,
  serverSnapshotSchema,
  serverStatusSchema,
  wsTicketResponseSchema,
} from "@panel/protocol";
import { z } from "zod";
import { serverSnapshotExample } from "./examples.ts";

type Meta = { id?: string; description?: string; example?: unknown };

/**
 * Named schemas (with an `id`) are emitted once under `components.schemas` and referenced
 * everywhere else; entries without an id only carry a description. This registry, not zod's
 * global one, is what the document builder reads response metadata from.
 */
export const components = z.registry<Meta>();

/** `schema`, described in the document. */
function described<S extends z.ZodType>(schema: S, description: string): S {
  components.add(schema, { description });
  return schema;
}

// ---- response shapes that route handlers build by hand (no zod schema in the route) ----

/** `http/errors.ts` `ErrorBody`: every 4xx the API itself answers. */
export const errorSchema = z.object({
  error: described(z.string(), "What went wrong, for humans."),
  field: described(
    z.string(),
    "The offending field (`body`/`query` when the input as a whole is wrong).",
  ).optional(),
});

export const healthOkSchema = z.object({ status: z.literal("ok") });
export const healthUnavailableSchema = z.object({ status: z.literal("unavailable"), error: z.string() });

export const serverListSchema = z.object({ data: z.array(serverSnapshotSchema) });
export const serverPageSchema = z.object({
  data: z.array(serverSnapshotSchema),
  nextCursor: described(z.string().nullable(), "Pass as `cursor` for the next page; null on the last page."),
});

export const subuserSchema = z.object({ userId: z.string(), email: z.string() });

/** `auth/api-keys.ts` `ApiKeyView`. */
export const apiKeySchema = z.object({
  id: z.string(),
  name: z.string().nullable(),
  start: described(z.string().nullable(), "The key's first characters, to tell keys apart."),
  prefix: z.string().nullable(),
  readOnly: z.boolean(),
  lastUsedAt: z.iso.datetime().nullable(),
  createdAt: z.iso.datetime(),
  expiresAt: z.iso.datetime().nullable(),
  enabled: z.boolean(),
});
export const apiKeyListSchema = z.object({ data: z.array(apiKeySchema) });

/** What `POST /api/api-keys` answers (`auth/api-keys.ts` `createApiKey`). */
export const createdApiKeySchema = z.object({
  id: z.string(),
  name: z.string().nullable(),
  start: z.string().nullable(),
  prefix: z.string().nullable(),
  readOnly: z.boolean(),
  key: described(z.string(), "The secret, shown this once: send it as the `x-api-key` header."),
  createdAt: z.iso.datetime(),
  expiresAt: z.iso.datetime().nullable(),
});

// ---- named components ----
components.add(errorSchema, { id: "Error", description: "The API's one error shape." });
components.add(serverSnapshotSchema, {
  id: "Server",
  description:
    "A server: the `data` of `server:sync` and of `GET /api/servers/{id}` (docs/protocol.md#the-server-object).",
  example: serverSnapshotExample,
});
components.add(serverStatusSchema, { id: "ServerStatus" });
components.add(nodeSchema, { id: "Node", description: "A node, as nested in a server." });
components.add(locationSchema, { id: "Location" });
components.add(blueprintSchema, { id: "Blueprint" });
components.add(allocationSchema, { id: "Allocation" });
components.add(wsTicketResponseSchema, {
  id: "WsTicket",
  description: "A one-use ticket for authenticating one WebSocket connection.",
});
components.add(apiKeySchema, { id: "ApiKey", description: "An API key, without its secret." });
components.add(createdApiKeySchema, { id: "CreatedApiKey" });

// ---- better-auth's (`/api/auth/*`): its schemas are internal to it, so described here ----
export const betterAuthErrorSchema = z.object({
  code: described(z.string(), "Machine-readable, e.g. `INVALID_EMAIL_OR_PASSWORD`."),
  message: z.string(),
});
export const authUserSchema = z.object({
  id: z.string(),
  email: z.string(),
  name: z.string(),
  image: z.string().nullable().optional(),
  emailVerified: z.boolean(),
  role: z.string().nullable().optional(),
  banned: z.boolean().nullable().optional(),
  banReason: z.string().nullable().optional(),
  banExpires: z.iso.datetime().nullable().optional(),
  createdAt: z.iso.datetime(),
  updatedAt: z.iso.datetime(),
});
export const authSessionSchema = z.object({
  id: z.string(),
  userId: z.string(),
  expiresAt: z.iso.datetime(),
  ipAddress: z.string().nullable().optional(),
  userAgent: z.string().nullable().optional(),
  impersonatedBy: z.string().nullable().optional(),
  createdAt: z.iso.datetime(),
  updatedAt: z.iso.datetime(),
});
/** The api-key plugin's own key object (`/api/auth/api-key/*`); `key` only on create. */
export const pluginApiKeySchema = z.object({
  id: z.string(),
  name: z.string().nullable(),
  start: z.string().nullable(),
  prefix: z.string().nullable(),
  referenceId: z.string(),
  enabled: z.boolean(),
  permissions: z.record(z.string(), z.array(z.string())).nullable().optional(),
  metadata: z.unknown().optional(),
  lastRequest: z.iso.datetime().nullable(),
  expiresAt: z.iso.datetime().nullable(),
  createdAt: z.iso.datetime(),
  updatedAt: z.iso.datetime(),
});
components.add(betterAuthErrorSchema, { id: "BetterAuthError", description: "better-auth's error body." });
components.add(authUserSchema, {
  id: "User",
  description: "A better-auth user (with the admin plugin's fields).",
});
components.add(authSessionSchema, { id: "Session" });
components.add(pluginApiKeySchema, {
  id: "PluginApiKey",
  description: "An API key as better-auth's plugin shows it.",
});

// ---- admin (`/api/admin/*`) response shapes ----
const listOf = <S extends z.ZodType>(item: S) => z.object({ data: z.array(item) });
const pageOf = <S extends z.ZodType>(item: S) =>
  z.object({
    data: z.array(item),
    nextCursor: described(
      z.string().nullable(),
      "Pass as `cursor` for the next page; null on the last page.",
    ),
  });

export const locationListSchema = listOf(locationSchema);
export const blueprintListSchema = listOf(blueprintSchema);

/** `routes/admin/nodes.ts` `AdminNodeView`: the node as nested in a server, plus its capacity. */
export const adminNodeSchema = nodeSchema.extend({
  memory: described(z.number().int(), "Memory capacity in MiB (0 = not set)."),
  disk: described(z.number().int(), "Disk capacity in MiB (0 = not set)."),
});
export const adminNodeListSchema = listOf(adminNodeSchema);

/** `routes/admin/allocations.ts` `AllocationView`: one ip:port of a node's pool. */
export const adminAllocationSchema = z.object({
  id: z.string(),
  nodeId: z.string(),
  ip: z.string(),
  port: z.number().int(),
  serverId: described(z.string().nullable(), "The server holding it; null when free."),
  isPrimary: z.boolean(),
});
export const adminAllocationPageSchema = pageOf(adminAllocationSchema);
export const adminAllocationListSchema = listOf(adminAllocationSchema);

export const adminServerPageSchema = pageOf(serverSnapshotSchema);

/** `routes/admin/users.ts` `userView`. */
export const adminUserSchema = z.object({
  id: z.string(),
  email: z.string(),
  name: z.string(),
  role: z.string(),
  banned: z.boolean(),
  banReason: z.string().nullable(),
  banExpires: z.iso.datetime().nullable(),
  createdAt: z.iso.datetime(),
  serverCount: described(z.number().int(), "Servers the user owns."),
});
export const adminUserPageSchema = pageOf(adminUserSchema);
export const revokedSessionsSchema = z.object({
  revoked: described(z.number().int(), "How many sessions were ended."),
});

/** `routes/admin/audit.ts`: one audit log entry. */
export const auditEntrySchema = z.object({
  id: z.number().int(),
  actorId: z.string().nullable(),
  actorKind: described(z.string(), "How the actor authenticated: `session` or `apiKey`."),
  apiKeyId: z.string().nullable(),
  action: described(z.string(), "e.g. `server.create`, `subuser.remove`."),
  targetType: z.string(),
  targetId: z.string(),
  ip: z.string().nullable(),
  details: z.record(z.string(), z.unknown()).nullable(),
  createdAt: z.iso.datetime(),
});
export const auditPageSchema = pageOf(auditEntrySchema);

const usage = z.object({ allocated: z.number().int(), total: z.number().int() });
/** `routes/admin/overview.ts`. */
export const overviewSchema = z.object({
  servers: z.object({
    total: z.number().int(),
    suspended: z.number().int(),
    byStatus: z.record(serverStatusSchema, z.number().int()),
  }),
  nodes: z.array(
    z.object({
      id: z.string(),
      displayName: z.string(),
      location: locationSchema,
      isOnline: z.boolean(),
      servers: z.number().int(),
      memory: described(usage, "MiB allocated to servers vs. the node's capacity."),
      disk: described(usage, "MiB allocated to servers vs. the node's capacity."),
    }),
  ),
  realtime: described(
    z.object({
      instances: z.number().int(),
      connections: z.number().int(),
      authenticated: z.number().int(),
      subscriptions: z.number().int(),
    }),
    "Open sockets and subscriptions now, over every API instance.",
  ),
});

components.add(adminNodeSchema, { id: "AdminNode", description: "A node with its capacity." });
components.add(adminAllocationSchema, { id: "AdminAllocation", description: "One ip:port of a node." });
components.add(adminUserSchema, { id: "AdminUser" });
components.add(auditEntrySchema, { id: "AuditEntry" });
components.add(overviewSchema, { id: "Overview" });
