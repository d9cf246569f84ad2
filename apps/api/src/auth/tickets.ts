import {
  createHash,
  createHmac,
  createSecretKey,
  hkdfSync,
  type KeyObject,
  randomBytes,
  timingSafeEqual,
} from "node:crypto";
import { type Database, redeemedWsTicket } from "@panel/db";
import { lt } from "drizzle-orm";
import { type Credential, checkCredentials, credentialKey, type Principal } from "./credentials.ts";

/**
 * A WebSocket ticket is `<payload>.<signature>`: the payload (base64url JSON) names the
 * credential that minted it, its user, its expiry and a random nonce; the signature is an
 * HMAC-SHA256 over the payload with a key derived from the auth secret. Minting therefore
 * writes nothing. Redeeming checks the signature and expiry, records the ticket's hash (what
 * makes it single-use, across instances) and checks the credential is still live (so
 * revoking the session or key kills the ticket).
 */
type TicketClaims = { credential: Credential; userId: string; expiresAt: number };

/** Wire form of the claims: [kind, credential id, user id, expiry (ms), nonce]. */
type Payload = [kind: "s" | "k", credentialId: string, userId: string, expiresAt: number, nonce: string];

/** Used rows are kept this long past their ticket's expiry, so instances' clock skew cannot revive one. */
const PRUNE_GRACE_MS = 5 * 60_000;
const NONCE_BYTES = 16;

const keys = new Map<string, KeyObject>();
/** Never the auth secret itself: a key of its own, derived with HKDF, for tickets only. */
function ticketKey(secret: string): KeyObject {
  let key = keys.get(secret);
  if (!key) {
    key = createSecretKey(Buffer.from(hkdfSync("sha256", secret, "", "panel ws-ticket v1", 32)));
    keys.set(secret, key);
  }
  return key;
}

// Nonces come from a pool refilled 4 KiB at a time: one call into the CSPRNG per 256 tickets.
const NONCE_POOL_BYTES = 4096;
let noncePool = Buffer.alloc(0);
let nonceOffset = 0;
function nonce(): string {
  if (nonceOffset + NONCE_BYTES > noncePool.length) {
    noncePool = randomBytes(NONCE_POOL_BYTES);
    nonceOffset = 0;
  }
  nonceOffset += NONCE_BYTES;
  return noncePool.toString("base64url", nonceOffset - NONCE_BYTES, nonceOffset);
}

const sign = (secret: string, payload: string) =>
  createHmac("sha256", ticketKey(secret)).update(payload).digest("base64url");

export function mintTicket(secret: string, principal: Principal, ttlMs: number): string {
  const { credential, userId } = principal;
  const claims: Payload = [
    credential.kind === "session" ? "s" : "k",
    credential.id,
    userId,
    Date.now() + ttlMs,
    nonce(),
  ];
  const payload = Buffer.from(JSON.stringify(claims)).toString("base64url");
  return `${payload}.${sign(secret, payload)}`;
}

/** What an untampered, unexpired ticket claims; null for anything else. Does not consume it. */
export function readTicket(secret: string, token: string, now = Date.now()): TicketClaims | null {
  const dot = token.indexOf(".");
  if (dot < 1) return null;
  const payload = token.slice(0, dot);
  // The exact string, not its decoded bytes: one ticket has one spelling, so one hash.
  const expected = Buffer.from(sign(secret, payload));
  const given = Buffer.from(token.slice(dot + 1));
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return null;
  const claims = parsePayload(payload);
  if (!claims || claims.expiresAt <= now) return null;
  return claims;
}

function parsePayload(payload: string): TicketClaims | null {
  let decoded: unknown;
  try {
    decoded = JSON.parse(Buffer.from(payload, "base64url").toString());
  } catch {
    return null;
  }
  if (!Array.isArray(decoded) || decoded.length !== 5) return null;
  const [kind, id, userId, expiresAt] = decoded as unknown[];
  if ((kind !== "s" && kind !== "k") || typeof id !== "string" || typeof userId !== "string") return null;
  if (typeof expiresAt !== "number") return null;
  return { credential: { kind: kind === "s" ? "session" : "apiKey", id }, userId, expiresAt };
}

export const hashTicket = (token: string) => createHash("sha256").update(token).digest("hex");

/**
 * Redeems tickets, any number with at most two statements: recording their hashes is what
 * makes them single-use (a conflict means used before, here or on another instance), then
 * one check of the credentials behind them. Tampered, expired, used or revoked tickets are
 * simply absent from the result. A ticket passed twice in one call is redeemed once.
 */
export async function redeemTickets(
  db: Database,
  secret: string,
  tokens: readonly string[],
): Promise<Map<string, Principal>> {
  const now = Date.now();
  const byHash = new Map<string, { token: string; hash: string; claims: TicketClaims }>();
  for (const token of tokens) {
    const claims = readTicket(secret, token, now);
    const hash = claims && hashTicket(token);
    if (claims && hash) byHash.set(hash, { token, hash, claims });
  }
  const valid = [...byHash.values()];
  const principals = new Map<string, Principal>();
  if (valid.length === 0) return principals;

  const recorded = await db
    .insert(redeemedWsTicket)
    .values(valid.map((v) => ({ tokenHash: v.hash, expiresAt: new Date(v.claims.expiresAt) })))
    .onConflictDoNothing()
    .returning({ tokenHash: redeemedWsTicket.tokenHash });
  const firstUse = new Set(recorded.map((r) => r.tokenHash));
  const fresh = valid.filter((v) => firstUse.has(v.hash));
  if (fresh.length === 0) return principals;

  const live = await checkCredentials(
    db,
    fresh.map((v) => v.claims.credential),
  );
  for (const { token, claims } of fresh) {
    const status = live.get(credentialKey(claims.credential));
    if (status?.userId === claims.userId) principals.set(token, { ...status, credential: claims.credential });
  }
  return principals;
}

/** Forgets used tickets once they could no longer be redeemed anyway. */
export async function deleteExpiredTickets(db: Database) {
  await db
    .delete(redeemedWsTicket)
    .where(lt(redeemedWsTicket.expiresAt, new Date(Date.now() - PRUNE_GRACE_MS)));
}
