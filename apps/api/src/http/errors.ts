import type { Context, MiddlewareHandler } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { ZodError } from "zod";
import type { Logger } from "../logger.ts";

/** The API's one error type; `onError` turns it into `{"error": "...", "field"?: "..."}`. */
export class ApiError extends Error {
  /** Whole seconds for `Retry-After` (429 errors). */
  retryAfterSeconds?: number;

  constructor(
    readonly status: ContentfulStatusCode,
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }

  static badRequest = (message: string, field?: string) => new ApiError(400, message, field);
  static unauthorized = () => new ApiError(401, "Unauthorized");
  static forbidden = (message = "Forbidden") => new ApiError(403, message);
  static notFound = (message = "Not found") => new ApiError(404, message);
  static conflict = (message: string, field?: string) => new ApiError(409, message, field);
  static tooManyRequests = (message: string, retryAfterSeconds: number) => {
    const error = new ApiError(429, message);
    error.retryAfterSeconds = Math.max(1, Math.ceil(retryAfterSeconds));
    return error;
  };
}

/** When better-auth gives no better figure. */
const DEFAULT_RETRY_AFTER_S = 60;

/**
 * Every 429 carries the standard `Retry-After` (seconds): the API's own from the ApiError,
 * better-auth's (which sets only `X-Retry-After`) from that header.
 */
export const retryAfterOnEvery429: MiddlewareHandler = async (c, next) => {
  await next();
  if (c.res.status !== 429 || c.res.headers.has("Retry-After")) return;
  const given = c.res.headers.get("X-Retry-After");
  const seconds = given === null ? Number.NaN : Number(given);
  const retryAfter = Number.isFinite(seconds) ? Math.max(1, Math.ceil(seconds)) : DEFAULT_RETRY_AFTER_S;
  c.header("Retry-After", String(retryAfter));
};

export type ErrorBody = { error: string; field?: string };

/**
 * The first issue as a 400 that always names a field: the issue's path, the first unknown key
 * for a strict object, or `where` ("body"/"query") when the input as a whole is wrong.
 */
export function fromZodError(error: ZodError, where: string): ApiError {
  const issue = error.issues[0];
  if (!issue) return ApiError.badRequest(`Invalid ${where}`, where);
  const path = issue.path.map(String).join(".");
  if (issue.code === "unrecognized_keys") {
    const key = issue.keys[0] ?? "";
    const field = path ? `${path}.${key}` : key;
    return ApiError.badRequest(`${field}: unknown field`, field || where);
  }
  const field = path || where;
  return ApiError.badRequest(`${field}: ${issue.message}`, field);
}

const PG_FOREIGN_KEY_VIOLATION = "23503";

/** postgres.js and PGlite both put the SQLSTATE on `code`; drizzle wraps it in `cause`. */
export function pgErrorCode(error: unknown): string | undefined {
  for (let e = error; e && typeof e === "object"; e = (e as { cause?: unknown }).cause) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string" && /^[0-9A-Z]{5}$/.test(code)) return code;
  }
  return undefined;
}

/**
 * Text PostgreSQL refused to parse or store (NUL, a lone surrogate in jsonb). Input hygiene keeps
 * clients' text from getting this far; should some slip through, it is still their mistake.
 */
const PG_REFUSED_TEXT = new Set(["22021", "22P02", "22P05"]);

export const isForeignKeyViolation = (e: unknown) => pgErrorCode(e) === PG_FOREIGN_KEY_VIOLATION;

export function errorHandler(logger: Logger) {
  return (err: Error, c: Context) => {
    if (err instanceof ApiError) {
      const body: ErrorBody = { error: err.message };
      if (err.field) body.field = err.field;
      if (err.retryAfterSeconds !== undefined) c.header("Retry-After", String(err.retryAfterSeconds));
      return c.json(body, err.status);
    }
    // Hono's own HTTPException (e.g. malformed JSON bodies) keeps its status.
    const status = (err as { status?: unknown }).status;
    if (typeof status === "number" && status >= 400 && status < 500) {
      return c.json({ error: err.message || "Bad request" }, status as ContentfulStatusCode);
    }
    if (PG_REFUSED_TEXT.has(pgErrorCode(err) ?? "")) {
      logger.warn({ err, path: c.req.path, method: c.req.method }, "database refused the input's text");
      return c.json({ error: "Invalid input" }, 400);
    }
    logger.error({ err, path: c.req.path, method: c.req.method }, "unhandled error");
    return c.json({ error: "Internal server error" }, 500);
  };
}
