import { SERVER_STATUSES } from "@panel/protocol";
import {
  boolean,
  index,
  integer,
  pgEnum,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
} from "drizzle-orm/pg-core";
import { user } from "./auth.ts";

const timestamps = {
  createdAt: timestamp({ withTimezone: true, precision: 3 }).notNull().defaultNow(),
  updatedAt: timestamp({ withTimezone: true, precision: 3 })
    .notNull()
    .defaultNow()
    .$onUpdate(() => new Date()),
};

export const serverStatus = pgEnum("server_status", SERVER_STATUSES);
export const nodeProtocol = pgEnum("node_protocol", ["http", "https"]);

export const locations = pgTable("locations", {
  id: text().primaryKey(),
  name: text().notNull(),
  ...timestamps,
});

export const nodes = pgTable(
  "nodes",
  {
    id: text().primaryKey(),
    shortId: text().notNull().unique(),
    displayName: text().notNull(),
    fqdn: text().notNull(),
    host: text().notNull(),
    port: integer().notNull(),
    protocol: nodeProtocol().notNull().default("https"),
    sftpPort: integer().notNull(),
    daemonPort: integer().notNull(),
    isOnline: boolean().notNull().default(false),
    /** capacity in MiB, for allocated-vs-total reporting (0 = not set) */
    memory: integer().notNull().default(0),
    disk: integer().notNull().default(0),
    locationId: text()
      .notNull()
      .references(() => locations.id, { onDelete: "restrict" }),
    ...timestamps,
  },
  (t) => [index().on(t.locationId)],
);

export const blueprints = pgTable("blueprints", {
  id: text().primaryKey(),
  name: text().notNull(),
  ...timestamps,
});

export const servers = pgTable(
  "servers",
  {
    id: text().primaryKey(),
    shortId: text().notNull().unique(),
    name: text().notNull(),
    status: serverStatus().notNull().default("installing"),
    suspended: boolean().notNull().default(false),
    containerId: text(),
    memory: integer().notNull(),
    disk: integer().notNull(),
    cpu: integer().notNull(),
    cpuPinning: text(),
    swap: integer().notNull().default(0),
    oomKillDisable: boolean().notNull().default(false),
    backupLimit: integer().notNull().default(0),
    nodeId: text()
      .notNull()
      .references(() => nodes.id, { onDelete: "restrict" }),
    blueprintId: text()
      .notNull()
      .references(() => blueprints.id, { onDelete: "restrict" }),
    ownerId: text()
      .notNull()
      .references(() => user.id, { onDelete: "restrict" }),
    ...timestamps,
  },
  (t) => [
    index().on(t.ownerId),
    index().on(t.nodeId),
    index().on(t.status),
    // keyset pagination of the admin listing walks (created_at, id)
    index().on(t.createdAt, t.id),
    // ... and (name, id) when sorted by name
    index().on(t.name, t.id),
  ],
);

export const allocations = pgTable(
  "allocations",
  {
    id: text().primaryKey(),
    nodeId: text()
      .notNull()
      .references(() => nodes.id, { onDelete: "cascade" }),
    /** null = a free allocation of the node; deleting its server returns it to the pool */
    serverId: text().references(() => servers.id, { onDelete: "set null" }),
    ip: text().notNull(),
    port: integer().notNull(),
    isPrimary: boolean().notNull().default(false),
    ...timestamps,
  },
  (t) => [uniqueIndex().on(t.nodeId, t.ip, t.port), index().on(t.serverId)],
);

export const serverSubusers = pgTable(
  "server_subusers",
  {
    serverId: text()
      .notNull()
      .references(() => servers.id, { onDelete: "cascade" }),
    userId: text()
      .notNull()
      .references(() => user.id, { onDelete: "cascade" }),
    createdAt: timestamp({ withTimezone: true, precision: 3 }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.serverId, t.userId] }), index().on(t.userId)],
);
