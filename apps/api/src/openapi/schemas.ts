import { zodToOpenAPIRegistry } from "@asteasolutions/zod-to-openapi";
import { z } from "@hono/zod-openapi";
import {
  allocationSchema,
  blueprintSchema,
  locationSchema,
  nodeSchema,
  serverSnapshotSchema,
  serverStatusSchema,
  wsTicketResponseSchema,
} from "@panel/protocol";
import { serverSnapshotExample } from "./examples.ts";

/**
 * Names a schema of `@panel/protocol` as a component, in place: wherever it is used, nested ones
 * included, the document refers to it. (Its `.openapi()` may not exist: that method only reaches
 * schemas made after `@hono/zod-openapi` was loaded.)
 */
function shared<S extends z.ZodType>(
  schema: S,
  refId: string,
  meta: { description?: string; example?: unknown } = {},
) {
  zodToOpenAPIRegistry.add(schema, { ...meta, _internal: { refId } } as never);
  return schema;
}

/**
 * The response shapes routes answer with. Those named with `.openapi("Name")` are emitted once
 * under `components.schemas` and referenced wherever a route uses them.
 */

export const serverSchema = shared(serverSnapshotSchema, "Server", {
  description:
    "A server: the `data` of `server:sync` and of `GET /api/servers/{id}` (docs/protocol.md#the-server-object).",
  example: serverSnapshotExample,
});
export const locationComponent = shared(locationSchema, "Location");
export const blueprintComponent = shared(blueprintSchema, "Blueprint");
shared(serverStatusSchema, "ServerStatus");
export const nodeComponent = shared(nodeSchema, "Node", { description: "A node, as nested in a server." });
shared(allocationSchema, "Allocation");
export const wsTicketSchema = shared(wsTicketResponseSchema, "WsTicket", {
  description: "A one-use ticket for authenticating one WebSocket connection.",
  example: { token: "<opaque string>", userId: "user_123" },
});

const nextCursor = z
  .string()
  .nullable()
  .openapi({ description: "Pass as `cursor` for the next page; null on the last page." });
const listOf = <S extends z.ZodType>(item: S) => z.object({ data: z.array(item) });
const pageOf = <S extends z.ZodType>(item: S) => z.object({ data: z.array(item), nextCursor });

export const serverListSchema = listOf(serverSchema);
export const subuserSchema = z.object({ userId: z.string(), email: z.string() });

/** `auth/api-keys.ts` `ApiKeyView`. */
export const apiKeySchema = z
  .object({
    id: z.string(),
    name: z.string().nullable(),
    start: z.string().nullable().openapi({ description: "The key's first characters, to tell keys apart." }),
    prefix: z.string().nullable(),
    readOnly: z.boolean(),
    lastUsedAt: z.iso.datetime().nullable(),
    createdAt: z.iso.datetime(),
    expiresAt: z.iso.datetime().nullable(),
    enabled: z.boolean(),
  })
  .openapi("ApiKey", { description: "An API key, without its secret." });
export const apiKeyListSchema = listOf(apiKeySchema);

/** What `POST /api/api-keys` answers (`auth/api-keys.ts` `createApiKey`). */
export const createdApiKeySchema = z
  .object({
    id: z.string(),
    name: z.string().nullable(),
    start: z.string().nullable(),
    prefix: z.string().nullable(),
    readOnly: z.boolean(),
    key: z
      .string()
      .openapi({ description: "The secret, shown this once: send it as the `x-api-key` header." }),
    createdAt: z.iso.datetime(),
    expiresAt: z.iso.datetime().nullable(),
  })
  .openapi("CreatedApiKey");

// ---- admin (`/api/admin/*`) ----
export const locationListSchema = listOf(locationComponent);
export const blueprintListSchema = listOf(blueprintComponent);

/** `routes/admin/nodes.ts` `AdminNodeView`: the node as nested in a server, plus its capacity. */
export const adminNodeSchema = nodeSchema
  .extend({
    memory: z.number().int().openapi({ description: "Memory capacity in MiB (0 = not set)." }),
    disk: z.number().int().openapi({ description: "Disk capacity in MiB (0 = not set)." }),
  })
  .openapi("AdminNode", { description: "A node with its capacity." });
export const adminNodeListSchema = listOf(adminNodeSchema);

/** `routes/admin/allocations.ts` `AllocationView`: one ip:port of a node's pool. */
export const adminAllocationSchema = z
  .object({
    id: z.string(),
    nodeId: z.string(),
    ip: z.string(),
    port: z.number().int(),
    serverId: z.string().nullable().openapi({ description: "The server holding it; null when free." }),
    isPrimary: z.boolean(),
  })
  .openapi("AdminAllocation", { description: "One ip:port of a node." });
export const adminAllocationPageSchema = pageOf(adminAllocationSchema);
export const adminAllocationListSchema = listOf(adminAllocationSchema);

export const adminServerPageSchema = pageOf(serverSchema);

/** `routes/admin/users.ts` `userView`. */
export const adminUserSchema = z
  .object({
    id: z.string(),
    email: z.string(),
    name: z.string(),
    role: z.string(),
    banned: z.boolean(),
    banReason: z.string().nullable(),
    banExpires: z.iso.datetime().nullable(),
    createdAt: z.iso.datetime(),
    serverCount: z.number().int().openapi({ description: "Servers the user owns." }),
  })
  .openapi("AdminUser");
export const adminUserPageSchema = pageOf(adminUserSchema);
export const revokedSessionsSchema = z.object({
  revoked: z.number().int().openapi({ description: "How many sessions were ended." }),
});

/** `routes/admin/audit.ts`: one audit log entry. */
export const auditEntrySchema = z
  .object({
    id: z.number().int(),
    actorId: z.string().nullable(),
    actorKind: z.string().openapi({ description: "How the actor authenticated: `session` or `apiKey`." }),
    apiKeyId: z.string().nullable(),
    action: z.string().openapi({ description: "e.g. `server.create`, `subuser.remove`." }),
    targetType: z.string(),
    targetId: z.string(),
    ip: z.string().nullable(),
    details: z.record(z.string(), z.unknown()).nullable(),
    createdAt: z.iso.datetime(),
  })
  .openapi("AuditEntry");
export const auditPageSchema = pageOf(auditEntrySchema);

const usage = z
  .object({ allocated: z.number().int(), total: z.number().int() })
  .openapi({ description: "MiB allocated to servers vs. the node's capacity." });
/** `routes/admin/overview.ts`. */
export const overviewSchema = z
  .object({
    servers: z.object({
      total: z.number().int(),
      suspended: z.number().int(),
      byStatus: z.record(serverStatusSchema, z.number().int()),
    }),
    nodes: z.array(
      z.object({
        id: z.string(),
        displayName: z.string(),
        location: locationComponent,
        isOnline: z.boolean(),
        servers: z.number().int(),
        memory: usage,
        disk: usage,
      }),
    ),
    realtime: z
      .object({
        instances: z.number().int(),
        connections: z.number().int(),
        authenticated: z.number().int(),
        subscriptions: z.number().int(),
      })
      .openapi({ description: "Open sockets and subscriptions now, over every API instance." }),
  })
  .openapi("Overview");
