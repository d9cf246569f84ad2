import { createHash, randomBytes } from "node:crypto";
import { type Database, wsTicket } from "@panel/db";
import { and, eq, gt, lt } from "drizzle-orm";
import { type Credential, type Principal, principalFor } from "./credentials.ts";

const hashToken = (token: string) => createHash("sha256").update(token).digest("hex");

/** A single-use WebSocket ticket bound to the credential that minted it; only its hash is kept. */
export async function mintTicket(db: Database, principal: Principal, ttlMs: number) {
  const token = randomBytes(32).toString("base64url");
  const { credential } = principal;
  await db.insert(wsTicket).values({
    tokenHash: hashToken(token),
    userId: principal.userId,
    sessionId: credential.kind === "session" ? credential.id : null,
    apiKeyId: credential.kind === "apiKey" ? credential.id : null,
    expiresAt: new Date(Date.now() + ttlMs),
  });
  return token;
}

/**
 * Redeems a ticket: deleting it is what makes it single-use, even across API instances.
 * Returns null for unknown, used or expired tickets and for revoked credentials.
 */
export async function redeemTicket(db: Database, token: string): Promise<Principal | null> {
  const [ticket] = await db
    .delete(wsTicket)
    .where(and(eq(wsTicket.tokenHash, hashToken(token)), gt(wsTicket.expiresAt, new Date())))
    .returning();
  if (!ticket) return null;
  const credential: Credential | null = ticket.sessionId
    ? { kind: "session", id: ticket.sessionId }
    : ticket.apiKeyId
      ? { kind: "apiKey", id: ticket.apiKeyId }
      : null;
  if (!credential) return null;
  const principal = await principalFor(db, credential);
  return principal?.userId === ticket.userId ? principal : null;
}

export async function deleteExpiredTickets(db: Database) {
  await db.delete(wsTicket).where(lt(wsTicket.expiresAt, new Date()));
}
