import { createMiddleware } from "hono/factory";
import { secureHeaders } from "hono/secure-headers";
import { ApiError } from "./errors.ts";

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);
const API_KEY_HEADER = "x-api-key";

/** The origin a browser says the request came from: `Origin`, else the `Referer`'s origin. */
function requestOrigin(headers: Headers): string | null {
  const origin = headers.get("origin");
  if (origin) return origin;
  const referer = headers.get("referer");
  if (!referer) return null;
  try {
    return new URL(referer).origin;
  } catch {
    return null;
  }
}

/**
 * Cross-site request forgery: a state-changing request that carries cookies (the ambient
 * credential a forged form or fetch would ride on) must come from an allowed origin; a missing
 * or `null` Origin is refused too. The rule better-auth applies to its own routes, here for every
 * route. An `x-api-key` request carries no ambient credential (a cross-site page cannot set that
 * header without a CORS preflight we refuse), so it passes.
 */
export function csrfGuard(allowedOrigins: readonly string[]) {
  const allowed = new Set(allowedOrigins);
  return createMiddleware(async (c, next) => {
    const { headers, method } = c.req.raw;
    // an empty x-api-key is no key: the request is authenticated by its cookie (auth/principal.ts)
    if (!SAFE_METHODS.has(method) && headers.has("cookie") && !headers.get(API_KEY_HEADER)) {
      const origin = requestOrigin(headers);
      if (!origin || origin === "null") throw ApiError.forbidden("Missing or null Origin");
      if (!allowed.has(origin)) throw ApiError.forbidden("Origin not allowed");
    }
    await next();
  });
}

const JSON_MEDIA_TYPE = /^application\/json\s*(;|$)/i;

/**
 * A body is JSON or nothing: `text/plain` and form encodings are what a cross-site form can send
 * without a preflight, so they are refused (415) rather than parsed as JSON.
 */
export const jsonBodiesOnly = createMiddleware(async (c, next) => {
  const { headers, method } = c.req.raw;
  const hasBody = headers.has("transfer-encoding") || Number(headers.get("content-length") ?? 0) > 0;
  if (!SAFE_METHODS.has(method) && hasBody && !JSON_MEDIA_TYPE.test(headers.get("content-type") ?? "")) {
    throw new ApiError(415, "Request body must be application/json", "content-type");
  }
  await next();
});

/**
 * Security headers on every response. Responses are JSON except the docs pages, so the policy
 * allows nothing by default; the docs routes set their own, wider CSP.
 */
export function securityHeaders(publicUrl: string) {
  return secureHeaders({
    strictTransportSecurity: publicUrl.startsWith("https:") ? "max-age=31536000; includeSubDomains" : false,
    xFrameOptions: "DENY",
    referrerPolicy: "no-referrer",
    crossOriginResourcePolicy: "same-origin",
    crossOriginOpenerPolicy: "same-origin",
    xXssProtection: false,
    overwrite: false, // the docs pages set their own CSP
    contentSecurityPolicy: { defaultSrc: ["'none'"], frameAncestors: ["'none'"], baseUri: ["'none'"] },
  });
}
