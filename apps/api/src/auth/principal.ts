import { createHmac, createSecretKey, type KeyObject, timingSafeEqual } from "node:crypto";
import type { Database } from "@panel/db";
import { ApiError } from "../http/errors.ts";
import { BatchLoader } from "../realtime/batch-loader.ts";
import type { Auth } from "./auth.ts";
import { type Principal, principalFor, sessionsByToken } from "./credentials.ts";

const API_KEY_HEADER = "x-api-key";
/** When the api-key plugin does not say how long (it gives `details.tryAgainIn` in ms). */
const FALLBACK_RETRY_AFTER_S = 60;

function retryAfterSeconds(error: object): number {
  const ms = (error as { details?: { tryAgainIn?: unknown } }).details?.tryAgainIn;
  return typeof ms === "number" && ms > 0 ? Math.ceil(ms / 1000) : FALLBACK_RETRY_AFTER_S;
}

async function fromApiKey(auth: Auth, db: Database, key: string): Promise<Principal | null> {
  const result = await auth.api.verifyApiKey({ body: { key } });
  if (!result.valid || !result.key) {
    if (result.error?.code === "RATE_LIMITED") {
      throw ApiError.tooManyRequests("API key rate limit exceeded", retryAfterSeconds(result.error));
    }
    return null;
  }
  return principalFor(db, { kind: "apiKey", id: result.key.id });
}

/** better-call's signed cookie: `<value>.<base64 HMAC-SHA256(secret, value)>` (44 characters). */
function verifySignedCookie(signed: string, secret: KeyObject): string | null {
  const dot = signed.lastIndexOf(".");
  if (dot < 1) return null;
  const value = signed.slice(0, dot);
  const given = Buffer.from(signed.slice(dot + 1));
  const expected = Buffer.from(createHmac("sha256", secret).update(value).digest("base64"));
  return given.length === expected.length && timingSafeEqual(given, expected) ? value : null;
}

/** The first cookie of that name, decoded as better-call does (quotes stripped, %-decoded). */
function cookieValue(header: string, name: string): string | null {
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq === -1 || part.slice(0, eq).trim() !== name) continue;
    let value = part.slice(eq + 1).trim();
    if (value.startsWith('"')) value = value.slice(1, -1);
    try {
      return decodeURIComponent(value);
    } catch {
      return value;
    }
  }
  return null;
}

/** The session token in a request's cookie, if better-auth signed it. */
async function sessionToken(auth: Auth, headers: Headers): Promise<string | null> {
  const cookie = headers.get("cookie");
  if (!cookie) return null;
  const { name, key } = await cookieSigning(auth);
  const signed = cookieValue(cookie, name);
  return signed ? verifySignedCookie(signed, key) : null;
}

const cookieSignings = new WeakMap<Auth, Promise<{ name: string; key: KeyObject }>>();
/** The session cookie's name and better-auth's signing key, read once per auth instance. */
function cookieSigning(auth: Auth) {
  let signing = cookieSignings.get(auth);
  if (!signing) {
    signing = auth.$context.then(({ authCookies, secret }) => ({
      name: authCookies.sessionToken.name,
      key: createSecretKey(Buffer.from(secret)),
    }));
    cookieSignings.set(auth, signing);
  }
  return signing;
}

/**
 * Session lookups by token, batched: a reconnect storm's ticket requests (and any other burst
 * of cookie requests) cost a few queries, not one each. One loader per database handle.
 */
const sessionLoaders = new WeakMap<Database, BatchLoader<Principal>>();
function sessionLoader(db: Database): BatchLoader<Principal> {
  let loader = sessionLoaders.get(db);
  if (!loader) {
    loader = new BatchLoader((tokens) => sessionsByToken(db, tokens));
    sessionLoaders.set(db, loader);
  }
  return loader;
}

/**
 * better-auth's own cookie check (signed session token, then the session by token), done
 * here in one batched query that also applies the panel's ban rules (credentials.ts), and
 * without a session refresh, as before.
 */
async function fromSession(auth: Auth, db: Database, headers: Headers): Promise<Principal | null> {
  const token = await sessionToken(auth, headers);
  if (!token) return null;
  const found = await sessionLoader(db).load(token);
  return found ? { ...found } : null; // callers of one batch must not share an object
}

/** Who is calling: an `x-api-key` header wins over a session cookie. */
export function resolvePrincipal(auth: Auth, db: Database, headers: Headers) {
  const key = headers.get(API_KEY_HEADER);
  return key ? fromApiKey(auth, db, key) : fromSession(auth, db, headers);
}
