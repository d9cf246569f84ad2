import { index, integer, pgTable, text, timestamp } from "drizzle-orm/pg-core";
import { apikey } from "./auth.ts";

/**
 * Each API instance's realtime counters, refreshed every sync tick, so that any instance can
 * report the cluster's sockets (rows not refreshed for a while belong to dead instances).
 */
export const realtimeInstance = pgTable("realtime_instance", {
  id: text().primaryKey(),
  connections: integer().notNull(),
  authenticated: integer().notNull(),
  subscriptions: integer().notNull(),
  updatedAt: timestamp({ withTimezone: true, precision: 3 }).notNull().defaultNow(),
});

/**
 * Open sockets authenticated with an API key, across all instances: what a per-key socket cap
 * counts. Rows are refreshed every tick and removed on close; stale rows are ignored.
 */
export const apiKeySocket = pgTable(
  "api_key_socket",
  {
    socketId: text().primaryKey(),
    apiKeyId: text()
      .notNull()
      .references(() => apikey.id, { onDelete: "cascade" }),
    instanceId: text().notNull(),
    lastSeenAt: timestamp({ withTimezone: true, precision: 3 }).notNull().defaultNow(),
  },
  (t) => [index().on(t.apiKeyId), index().on(t.instanceId)],
);
