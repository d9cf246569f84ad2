import { apikey, type Database, session, user } from "@panel/db";
import { and, eq, gt, isNull, lt, or, type SQL, sql } from "drizzle-orm";
import { unionAll } from "drizzle-orm/pg-core";
import { isReadOnlyKey } from "./api-keys.ts";
import { isAdminRole } from "./auth.ts";

/** What a caller authenticated with: a better-auth session, or an API key. */
export type Credential = { kind: "session"; id: string } | { kind: "apiKey"; id: string };

/**
 * Who is calling and with what. `readOnly` is true for an API key created read-only (its
 * plugin `permissions` grant no `panel: write`); sessions and full keys are never read-only.
 */
export type Principal = { userId: string; isAdmin: boolean; readOnly?: boolean; credential: Credential };

export type CredentialStatus = { userId: string; isAdmin: boolean; readOnly: boolean };

export const credentialKey = (c: Credential) => `${c.kind === "session" ? "s" : "k"}:${c.id}`;

/** `column = any($1)`: one array parameter however many ids (an IN list tops out at 65k). */
export function anyOf(column: SQL.Aliased | Parameters<typeof eq>[0], ids: readonly string[]): SQL {
  return sql`${column} = any(${sql.param(ids)}::text[])`;
}

const userNotBanned = (now: Date) =>
  or(isNull(user.banned), eq(user.banned, false), lt(user.banExpires, now)) as SQL;

/**
 * Which of these credentials are still good (session unexpired / key enabled and unexpired,
 * user not banned), with the user's current admin flag. One query for any number of them.
 */
export async function checkCredentials(
  db: Database,
  credentials: Iterable<Credential>,
): Promise<Map<string, CredentialStatus>> {
  const sessionIds: string[] = [];
  const apiKeyIds: string[] = [];
  for (const c of credentials) (c.kind === "session" ? sessionIds : apiKeyIds).push(c.id);
  const live = new Map<string, CredentialStatus>();
  if (sessionIds.length === 0 && apiKeyIds.length === 0) return live;

  const now = new Date();
  const sessions = db
    .select({
      key: sql<string>`'s:' || ${session.id}`.as("key"),
      userId: user.id,
      role: user.role,
      permissions: sql<string | null>`null::text`.as("permissions"),
    })
    .from(session)
    .innerJoin(user, eq(user.id, session.userId))
    .where(and(anyOf(session.id, sessionIds), gt(session.expiresAt, now), userNotBanned(now)));
  const apiKeys = db
    .select({
      key: sql<string>`'k:' || ${apikey.id}`.as("key"),
      userId: user.id,
      role: user.role,
      permissions: sql<string | null>`${apikey.permissions}`.as("permissions"),
    })
    .from(apikey)
    .innerJoin(user, eq(user.id, apikey.referenceId))
    .where(
      and(
        anyOf(apikey.id, apiKeyIds),
        or(isNull(apikey.enabled), eq(apikey.enabled, true)),
        or(isNull(apikey.expiresAt), gt(apikey.expiresAt, now)),
        userNotBanned(now),
      ),
    );
  for (const row of await unionAll(sessions, apiKeys)) {
    live.set(row.key, {
      userId: row.userId,
      isAdmin: isAdminRole(row.role),
      readOnly: isReadOnlyKey(row.permissions),
    });
  }
  return live;
}

/**
 * The sessions behind these session tokens (the secret half of the cookie), if still good by
 * the same rules as checkCredentials: one query for any number of them, keyed by token.
 */
export async function sessionsByToken(
  db: Database,
  tokens: readonly string[],
): Promise<Map<string, Principal>> {
  const now = new Date();
  const rows = await db
    .select({ token: session.token, sessionId: session.id, userId: user.id, role: user.role })
    .from(session)
    .innerJoin(user, eq(user.id, session.userId))
    .where(and(anyOf(session.token, tokens), gt(session.expiresAt, now), userNotBanned(now)));
  return new Map(
    rows.map((row) => [
      row.token,
      {
        userId: row.userId,
        isAdmin: isAdminRole(row.role),
        readOnly: false,
        credential: { kind: "session", id: row.sessionId },
      },
    ]),
  );
}

/** The principal behind one credential, or null if it is no longer good. */
export async function principalFor(db: Database, credential: Credential): Promise<Principal | null> {
  const status = (await checkCredentials(db, [credential])).get(credentialKey(credential));
  return status ? { ...status, credential } : null;
}
