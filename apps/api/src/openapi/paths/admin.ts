import { blueprintSchema, locationSchema, nodeSchema, serverSnapshotSchema } from "@panel/protocol";
import {
  createAllocationsSchema,
  listAllocationsQuerySchema,
  updateAllocationSchema,
} from "../../routes/admin/allocations.ts";
import { listAuditQuerySchema } from "../../routes/admin/audit.ts";
import { createBlueprintSchema, updateBlueprintSchema } from "../../routes/admin/blueprints.ts";
import { createLocationSchema, updateLocationSchema } from "../../routes/admin/locations.ts";
import { createNodeSchema, listNodesQuerySchema, updateNodeSchema } from "../../routes/admin/nodes.ts";
import {
  createServerSchema,
  listServersQuerySchema,
  updateServerSchema,
} from "../../routes/admin/servers.ts";
import { banUserSchema, listUsersQuerySchema, updateUserSchema } from "../../routes/admin/users.ts";
import type { OpenApiRegistry } from "../registry.ts";
import {
  adminAllocationListSchema,
  adminAllocationPageSchema,
  adminAllocationSchema,
  adminNodeListSchema,
  adminNodeSchema,
  adminServerPageSchema,
  adminUserPageSchema,
  adminUserSchema,
  auditPageSchema,
  blueprintListSchema,
  locationListSchema,
  overviewSchema,
  revokedSessionsSchema,
} from "../schemas.ts";

const ADMIN = "Admin";

const paging = (max: number, fallback: number) => ({
  limit: `Page size, 1–${max} (default ${fallback}).`,
  cursor: "The `nextCursor` of the previous page.",
});

/** `/api/admin/*`: every route needs an admin's session or API key. */
export function registerAdmin(registry: OpenApiRegistry) {
  registry.tag("Admin: overview", "Counts by status, node load and open sockets.");
  registry.tag("Admin: locations", "Where nodes are.");
  registry.tag("Admin: nodes", "Machines that run servers, and their ip:port allocations.");
  registry.tag("Admin: blueprints", "What a server runs (e.g. Minecraft Java).");
  registry.tag("Admin: servers", "Every server: create, change, move, delete, search.");
  registry.tag("Admin: users", "better-auth users: list, ban, unban, revoke sessions, role.");
  registry.tag("Admin: audit", "Every admin and owner write.");

  const add = (tag: string, route: Omit<Parameters<OpenApiRegistry["add"]>[0], "tags" | "access">) =>
    registry.add({ ...route, tags: [`${ADMIN}: ${tag}`], access: "admin" });

  registry.add({
    method: "get",
    path: "/api/admin/overview",
    summary: "Overview",
    description:
      "Servers by status (and suspended), per node: servers, memory/disk allocated vs. capacity, online; sockets connected and subscriptions now.",
    tags: [`${ADMIN}: overview`],
    access: "admin",
    responses: { 200: { description: "The overview.", schema: overviewSchema } },
  });

  // ---- locations and blueprints: `{id, name}` catalogues ----
  for (const [tag, base, label, item, list, create, update, inUse] of [
    [
      "locations",
      "/api/admin/locations",
      "location",
      locationSchema,
      locationListSchema,
      createLocationSchema,
      updateLocationSchema,
      "The location still has nodes.",
    ],
    [
      "blueprints",
      "/api/admin/blueprints",
      "blueprint",
      blueprintSchema,
      blueprintListSchema,
      createBlueprintSchema,
      updateBlueprintSchema,
      "The blueprint is used by servers.",
    ],
  ] as const) {
    const notFound = `${label.charAt(0).toUpperCase()}${label.slice(1)} not found.`;
    const id = { id: `The ${label}'s id.` };
    add(tag, {
      method: "post",
      path: base,
      summary: `Create a ${label}`,
      body: create,
      bodyExample: { name: label === "location" ? "US East" : "Minecraft Java" },
      responses: { 201: { description: `The new ${label}.`, schema: item } },
    });
    add(tag, {
      method: "get",
      path: base,
      summary: `List ${tag}`,
      description: "Sorted by name.",
      responses: { 200: { description: `Every ${label}.`, schema: list } },
    });
    add(tag, {
      method: "get",
      path: `${base}/{id}`,
      summary: `Get a ${label}`,
      params: id,
      responses: { 200: { description: `The ${label}.`, schema: item } },
      errors: { 404: notFound },
    });
    add(tag, {
      method: "patch",
      path: `${base}/{id}`,
      summary: `Rename a ${label}`,
      params: id,
      body: update,
      responses: { 200: { description: `The updated ${label}.`, schema: item } },
      errors: { 404: notFound },
    });
    add(tag, {
      method: "delete",
      path: `${base}/{id}`,
      summary: `Delete a ${label}`,
      params: id,
      responses: { 204: { description: "Deleted." } },
      errors: { 404: notFound, 409: inUse },
    });
  }

  // ---- nodes ----
  const nodeId = { id: "The node's id (`node_…`)." };
  add("nodes", {
    method: "post",
    path: "/api/admin/nodes",
    summary: "Create a node",
    body: createNodeSchema,
    bodyExample: {
      displayName: "US-East-1",
      fqdn: "node1.example.com",
      host: "node1.example.com",
      port: 443,
      protocol: "https",
      sftpPort: 2022,
      daemonPort: 8080,
      locationId: "loc_123",
    },
    responses: { 201: { description: "The new node (as nested in a server).", schema: nodeSchema } },
    errors: { 400: "Invalid body, or `locationId` names no location." },
  });
  add("nodes", {
    method: "get",
    path: "/api/admin/nodes",
    summary: "List nodes",
    description: "With their capacity; sorted by display name.",
    query: listNodesQuerySchema,
    responses: { 200: { description: "The nodes.", schema: adminNodeListSchema } },
  });
  add("nodes", {
    method: "get",
    path: "/api/admin/nodes/{id}",
    summary: "Get a node",
    params: nodeId,
    responses: { 200: { description: "The node with its capacity.", schema: adminNodeSchema } },
    errors: { 404: "Node not found." },
  });
  add("nodes", {
    method: "patch",
    path: "/api/admin/nodes/{id}",
    summary: "Update a node",
    description: "Any of its fields, `isOnline` and capacity (`memory`, `disk`).",
    params: nodeId,
    body: updateNodeSchema,
    responses: { 200: { description: "The updated node.", schema: adminNodeSchema } },
    errors: { 400: "Invalid body, or `locationId` names no location.", 404: "Node not found." },
  });
  add("nodes", {
    method: "delete",
    path: "/api/admin/nodes/{id}",
    summary: "Delete a node",
    description: "Only a node without servers; its free allocations go with it.",
    params: nodeId,
    responses: { 204: { description: "Deleted." } },
    errors: { 404: "Node not found.", 409: "The node still has servers." },
  });

  // ---- allocations of a node ----
  const allocParams = { nodeId: "The node's id.", allocationId: "The allocation's id (`alloc_…`)." };
  add("nodes", {
    method: "get",
    path: "/api/admin/nodes/{nodeId}/allocations",
    summary: "List a node's allocations",
    description: "Sorted by ip, port; keyset-paginated.",
    params: allocParams,
    query: listAllocationsQuerySchema,
    queryDescriptions: { ...paging(1000, 100), state: "`free` (no server) or `assigned`." },
    responses: { 200: { description: "A page of allocations.", schema: adminAllocationPageSchema } },
    errors: { 400: "Invalid query or cursor.", 404: "Node not found." },
  });
  add("nodes", {
    method: "post",
    path: "/api/admin/nodes/{nodeId}/allocations",
    summary: "Create free allocations",
    description: 'Ports or ranges (`[25565, "27015-27020"]`) on one ip; at most 1000 per request.',
    params: allocParams,
    body: createAllocationsSchema,
    bodyExample: { ip: "0.0.0.0", ports: [25565, "27015-27020"] },
    responses: { 201: { description: "The new allocations.", schema: adminAllocationListSchema } },
    errors: { 404: "Node not found.", 409: "An ip:port already exists on this node (`field: ports`)." },
  });
  add("nodes", {
    method: "patch",
    path: "/api/admin/nodes/{nodeId}/allocations/{allocationId}",
    summary: "Assign, unassign or make primary",
    description:
      "`serverId`: a server on this node to assign a free allocation to, or null to return it to the pool; `isPrimary: true` makes it its server's primary.",
    params: allocParams,
    body: updateAllocationSchema,
    responses: { 200: { description: "The allocation.", schema: adminAllocationSchema } },
    errors: {
      400: "Invalid body; the server is unknown or on another node (`field: serverId`).",
      404: "Node or allocation not found.",
      409: "Assigned to another server; a server's last allocation; or primary while unassigned.",
    },
  });
  add("nodes", {
    method: "delete",
    path: "/api/admin/nodes/{nodeId}/allocations/{allocationId}",
    summary: "Delete a free allocation",
    params: allocParams,
    responses: { 204: { description: "Deleted." } },
    errors: { 404: "Node or allocation not found.", 409: "The allocation is assigned to a server." },
  });

  // ---- servers ----
  const serverId = { id: "The server's id (`srv_…`)." };
  add("servers", {
    method: "post",
    path: "/api/admin/servers",
    summary: "Create a server",
    description:
      "Claims the allocations on the node (creating them or taking free ones); status starts as `installing`.",
    body: createServerSchema,
    bodyExample: {
      name: "my-server",
      ownerId: "user_123",
      nodeId: "node_456",
      blueprintId: "bp_789",
      memory: 2048,
      disk: 10240,
      cpu: 100,
      allocations: [{ ip: "0.0.0.0", port: 25565, isPrimary: true }],
    },
    responses: { 201: { description: "The new server.", schema: serverSnapshotSchema } },
    errors: {
      400: "Invalid body, or `ownerId`/`nodeId`/`blueprintId` names nothing (the field is named).",
      409: "An allocation is already in use on this node (`field: allocations`).",
    },
  });
  add("servers", {
    method: "get",
    path: "/api/admin/servers",
    summary: "List and search servers",
    description:
      "Filters combine; `search` is a case-insensitive substring of name, id or shortId. Keyset-paginated (`limit` ≤ 100, opaque `nextCursor`), stable under concurrent inserts.",
    query: listServersQuerySchema,
    queryDescriptions: {
      ...paging(100, 50),
      sort: "`createdAt`: newest first (default); `name`: A→Z. Ties are broken by id.",
      search: "Case-insensitive substring of name, id or shortId.",
    },
    responses: { 200: { description: "A page of servers.", schema: adminServerPageSchema } },
    errors: { 400: "Invalid query or cursor (`field` names the parameter)." },
  });
  add("servers", {
    method: "patch",
    path: "/api/admin/servers/{id}",
    summary: "Update or move a server",
    description:
      "Any of its fields. `nodeId` moves it and then needs `allocations` on the new node, which must be free; `allocations` alone replaces them (the old ones go back to the pool). Sockets of users who lose access get `unsubscribed`.",
    params: serverId,
    body: updateServerSchema,
    responses: { 200: { description: "The updated server.", schema: serverSnapshotSchema } },
    errors: {
      400: "Invalid body; `ownerId`/`nodeId` names nothing; or a move without `allocations`.",
      404: "Server not found.",
      409: "An allocation is already in use on the target node.",
    },
  });
  add("servers", {
    method: "delete",
    path: "/api/admin/servers/{id}",
    summary: "Delete a server",
    description: "Its allocations go back to the node's free pool; subscribers get `unsubscribed`.",
    params: serverId,
    responses: { 204: { description: "Deleted." } },
    errors: { 404: "Server not found." },
  });

  // ---- users ----
  const userId = { id: "The user's id (`user_…`)." };
  add("users", {
    method: "get",
    path: "/api/admin/users",
    summary: "List and search users",
    description: "Newest first; `search` matches email or name. Keyset-paginated.",
    query: listUsersQuerySchema,
    queryDescriptions: { ...paging(100, 50), search: "Case-insensitive substring of the email or the name." },
    responses: { 200: { description: "A page of users.", schema: adminUserPageSchema } },
  });
  add("users", {
    method: "get",
    path: "/api/admin/users/{id}",
    summary: "Get a user",
    params: userId,
    responses: { 200: { description: "The user.", schema: adminUserSchema } },
    errors: { 404: "User not found." },
  });
  add("users", {
    method: "patch",
    path: "/api/admin/users/{id}",
    summary: "Set a user's role",
    params: userId,
    body: updateUserSchema,
    responses: { 200: { description: "The updated user.", schema: adminUserSchema } },
    errors: { 400: "Invalid body, or removing your own admin role.", 404: "User not found." },
  });
  add("users", {
    method: "post",
    path: "/api/admin/users/{id}/ban",
    summary: "Ban a user",
    description:
      "Ends their sessions; their sockets get `auth_error` and close (4001) within one sync period. Without `expiresInSeconds`, until unbanned.",
    params: userId,
    body: banUserSchema,
    responses: { 200: { description: "The banned user.", schema: adminUserSchema } },
    errors: { 400: "Invalid body, or banning yourself.", 404: "User not found." },
  });
  add("users", {
    method: "post",
    path: "/api/admin/users/{id}/unban",
    summary: "Unban a user",
    params: userId,
    responses: { 200: { description: "The user.", schema: adminUserSchema } },
    errors: { 404: "User not found." },
  });
  add("users", {
    method: "post",
    path: "/api/admin/users/{id}/revoke-sessions",
    summary: "Revoke a user's sessions",
    description: "Their session sockets get `auth_error` and close (4001) within one sync period.",
    params: userId,
    responses: { 200: { description: "How many sessions ended.", schema: revokedSessionsSchema } },
    errors: { 404: "User not found." },
  });

  // ---- audit ----
  add("audit", {
    method: "get",
    path: "/api/admin/audit",
    summary: "Audit log",
    description:
      "Every admin and owner write (who, what, target, when, from which IP), newest first; filters combine; keyset-paginated.",
    query: listAuditQuerySchema,
    queryDescriptions: {
      ...paging(100, 50),
      action: "Exact action, e.g. `server.update`.",
      since: "ISO-8601, inclusive.",
      until: "ISO-8601, exclusive.",
    },
    responses: { 200: { description: "A page of entries.", schema: auditPageSchema } },
  });
}
