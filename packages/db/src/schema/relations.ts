import { relations } from "drizzle-orm";
import { user } from "./auth.ts";
import { allocations, blueprints, locations, nodes, serverSubusers, servers } from "./panel.ts";

export const locationRelations = relations(locations, ({ many }) => ({ nodes: many(nodes) }));

export const nodeRelations = relations(nodes, ({ one, many }) => ({
  location: one(locations, { fields: [nodes.locationId], references: [locations.id] }),
  servers: many(servers),
}));

export const serverRelations = relations(servers, ({ one, many }) => ({
  node: one(nodes, { fields: [servers.nodeId], references: [nodes.id] }),
  blueprint: one(blueprints, { fields: [servers.blueprintId], references: [blueprints.id] }),
  owner: one(user, { fields: [servers.ownerId], references: [user.id] }),
  allocations: many(allocations),
  subusers: many(serverSubusers),
}));

export const allocationRelations = relations(allocations, ({ one }) => ({
  server: one(servers, { fields: [allocations.serverId], references: [servers.id] }),
  node: one(nodes, { fields: [allocations.nodeId], references: [nodes.id] }),
}));

export const subuserRelations = relations(serverSubusers, ({ one }) => ({
  server: one(servers, { fields: [serverSubusers.serverId], references: [servers.id] }),
  user: one(user, { fields: [serverSubusers.userId], references: [user.id] }),
}));
