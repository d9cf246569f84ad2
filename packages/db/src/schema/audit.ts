import { bigserial, index, jsonb, pgTable, text, timestamp } from "drizzle-orm/pg-core";
import { user } from "./auth.ts";

/** Every admin and owner write: who, what, on which target, when, from where. */
export const auditLog = pgTable(
  "audit_log",
  {
    id: bigserial({ mode: "number" }).primaryKey(),
    actorId: text().references(() => user.id, { onDelete: "set null" }),
    /** how the actor authenticated: "session" or "apiKey" */
    actorKind: text().notNull(),
    apiKeyId: text(),
    /** e.g. `server.create`, `subuser.remove` */
    action: text().notNull(),
    targetType: text().notNull(),
    targetId: text().notNull(),
    ip: text(),
    details: jsonb().$type<Record<string, unknown>>(),
    createdAt: timestamp({ withTimezone: true, precision: 3 }).notNull().defaultNow(),
  },
  (t) => [
    index().on(t.createdAt, t.id),
    index().on(t.actorId),
    index().on(t.targetType, t.targetId),
    index().on(t.action),
  ],
);
