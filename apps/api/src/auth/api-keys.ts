import { apikey, type Database } from "@panel/db";
import { and, desc, eq } from "drizzle-orm";
import type { Auth } from "./auth.ts";

/**
 * API keys for scripts, over better-auth's api-key plugin. Read-only is stored in the key's
 * plugin `permissions` (`{"panel":["read"]}` vs `{"panel":["read","write"]}`): the plugin only
 * lets the server set permissions, so the owner cannot turn a read-only key into a full one
 * through `/api/auth/api-key/update` (metadata, by contrast, is client-editable when enabled).
 * A key with no permissions at all (made by the plugin's own create endpoint) is a full key.
 */
export const KEY_PERMISSIONS = {
  readOnly: { panel: ["read"] },
  full: { panel: ["read", "write"] },
} as const;

/** Keys start with this, so secret scanners and humans can tell what leaked. */
export const API_KEY_PREFIX = "pnl_";
/** How much of a key is kept in clear (`start`) to tell keys apart: the prefix and 6 more. */
export const API_KEY_VISIBLE_CHARS = API_KEY_PREFIX.length + 6;

type Permissions = Record<string, readonly string[]>;

function parsePermissions(value: string | Permissions | null | undefined): Permissions | null {
  if (value == null) return null;
  if (typeof value !== "string") return value;
  try {
    return JSON.parse(value) as Permissions;
  } catch {
    return {}; // unreadable permissions grant nothing
  }
}

/** True when the key's permissions exist and do not grant `panel: write`. */
export function isReadOnlyKey(permissions: string | Permissions | null | undefined): boolean {
  const parsed = parsePermissions(permissions);
  return parsed !== null && !parsed.panel?.includes("write");
}

export type ApiKeyView = {
  id: string;
  name: string | null;
  start: string | null;
  prefix: string | null;
  readOnly: boolean;
  lastUsedAt: Date | null;
  createdAt: Date;
  expiresAt: Date | null;
  enabled: boolean;
};

export type NewApiKey = { name: string; readOnly: boolean; expiresInDays?: number };

const DAY_SECONDS = 24 * 60 * 60;

/** Creates a key for the user; the only time the secret (`key`) is ever returned. */
export async function createApiKey(auth: Auth, userId: string, input: NewApiKey) {
  const created = await auth.api.createApiKey({
    body: {
      userId,
      name: input.name,
      expiresIn: input.expiresInDays ? input.expiresInDays * DAY_SECONDS : null,
      permissions: { panel: [...KEY_PERMISSIONS[input.readOnly ? "readOnly" : "full"].panel] },
    },
  });
  return {
    id: created.id,
    name: created.name,
    start: created.start,
    prefix: created.prefix,
    readOnly: input.readOnly,
    key: created.key,
    createdAt: created.createdAt,
    expiresAt: created.expiresAt,
  };
}

/** The user's keys, newest first, without their (hashed) secrets. */
export async function listApiKeys(db: Database, userId: string): Promise<ApiKeyView[]> {
  const rows = await db
    .select({
      id: apikey.id,
      name: apikey.name,
      start: apikey.start,
      prefix: apikey.prefix,
      permissions: apikey.permissions,
      lastUsedAt: apikey.lastRequest,
      createdAt: apikey.createdAt,
      expiresAt: apikey.expiresAt,
      enabled: apikey.enabled,
    })
    .from(apikey)
    .where(eq(apikey.referenceId, userId))
    .orderBy(desc(apikey.createdAt), desc(apikey.id));
  return rows.map(({ permissions, enabled, ...row }) => ({
    ...row,
    readOnly: isReadOnlyKey(permissions),
    enabled: enabled !== false,
  }));
}

/**
 * Deletes one of the user's keys; false when there is no such key of theirs. Its tickets and
 * socket rows go with it (foreign keys); its open sockets are closed by the next sync tick.
 */
export async function deleteApiKey(db: Database, userId: string, id: string): Promise<boolean> {
  const deleted = await db
    .delete(apikey)
    .where(and(eq(apikey.id, id), eq(apikey.referenceId, userId)))
    .returning({ id: apikey.id });
  return deleted.length > 0;
}
