import type { Database } from "@panel/db";
import { ApiError } from "../http/errors.ts";
import type { Auth } from "./auth.ts";
import { type Principal, principalFor } from "./credentials.ts";

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

async function fromSession(auth: Auth, db: Database, headers: Headers): Promise<Principal | null> {
  const found = await auth.api.getSession({ headers, query: { disableRefresh: true } });
  if (!found) return null;
  // Re-read through the same check the sync loop uses, so ban rules live in one place.
  return principalFor(db, { kind: "session", id: found.session.id });
}

/** Who is calling: an `x-api-key` header wins over a session cookie. */
export function resolvePrincipal(auth: Auth, db: Database, headers: Headers) {
  const key = headers.get(API_KEY_HEADER);
  return key ? fromApiKey(auth, db, key) : fromSession(auth, db, headers);
}
