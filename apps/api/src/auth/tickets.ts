import { createHash, randomBytes } from "node:crypto";
import { type Database, wsTicket } from "@panel/db";
import { and, gt, lt } from "drizzle-orm";
import { anyOf, type Credential, checkCredentials, credentialKey, type Principal } from "./credentials.ts";

/** A single-use WebSocket ticket bound to the credential that minted it; only its hash is kept. */
export async function mintTicket(db: Database, principal: Principal, ttlMs: number) {
  const token = randomBytes(32).toString("base64url");
  const { credential } = principal;
  await db.insert(wsTicket).values({
    tokenHash: hashTicket(token),
    userId: principal.userId,
    sessionId: credential.kind === "session" ? credential.id : null,
    apiKeyId: credential.kind === "apiKey" ? credential.id : null,
    expiresAt: new Date(Date.now() + ttlMs),
  });
  return token;
}

export const hashTicket = (token: string) => createHash("sha256").update(token).digest("hex");

function credentialOf(ticket: { sessionId: string | null; apiKeyId: string | null }): Credential | null {
  if (ticket.sessionId) return { kind: "session", id: ticket.sessionId };
  if (ticket.apiKeyId) return { kind: "apiKey", id: ticket.apiKeyId };
  return null;
}

/**
 * Redeems tickets by hash, any number with two statements: deleting them is what makes them
 * single-use (even across API instances), then one check of the credentials behind them.
 * Unknown, used or expired tickets and revoked credentials are simply absent from the result.
 */
export async function redeemTickets(
  db: Database,
  hashes: readonly string[],
): Promise<Map<string, Principal>> {
  const redeemed = await db
    .delete(wsTicket)
    .where(and(anyOf(wsTicket.tokenHash, hashes), gt(wsTicket.expiresAt, new Date())))
    .returning();
  const bound = redeemed.flatMap((ticket) => {
    const credential = credentialOf(ticket);
    return credential ? [{ ticket, credential }] : [];
  });
  const live = await checkCredentials(
    db,
    bound.map((b) => b.credential),
  );
  const principals = new Map<string, Principal>();
  for (const { ticket, credential } of bound) {
    const status = live.get(credentialKey(credential));
    if (status?.userId === ticket.userId) principals.set(ticket.tokenHash, { ...status, credential });
  }
  return principals;
}

export async function deleteExpiredTickets(db: Database) {
  await db.delete(wsTicket).where(lt(wsTicket.expiresAt, new Date()));
}
