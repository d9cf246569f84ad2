import { createRoute, type Hook, OpenAPIHono, type RouteConfig, z } from "@hono/zod-openapi";
import type { MiddlewareHandler } from "hono";
import { createMiddleware } from "hono/factory";
import type { AppDeps, AppEnv } from "./context.ts";
import { ApiError, fromZodError } from "./errors.ts";
import { requireAdmin, requireSession, requireUser } from "./guards.ts";
import { type IdShape, isIdOf } from "./ids.ts";

/**
 * Who may call a route. It fixes the guard the route runs, its `security` in the document and
 * its 401/403 answers, so the three cannot drift apart:
 * - `public`: anyone;
 * - `user`: a session cookie or an API key (a read-only key may only GET);
 * - `session`: a session cookie only (API keys get 403);
 * - `admin`: a session or API key of a user with the `admin` role.
 */
export type Access = "public" | "user" | "session" | "admin";

/** The statuses of the API's one error shape (`http/errors.ts`) a route may declare. */
export type ErrorStatus = 400 | 401 | 403 | 404 | 409 | 413 | 415 | 429 | 503;

type AccessSpec =
  | { access: Exclude<Access, "session"> }
  /** `deniedKeyMessage`: the 403's text for an API key. */
  | { access: "session"; deniedKeyMessage: string };

export type RouteSpec = Omit<RouteConfig, "security" | "middleware"> &
  AccessSpec & {
    /** The route's own errors by status, with what they mean; the access errors are added. */
    errors?: Partial<Record<ErrorStatus, string>>;
  };

/** `http/errors.ts` `ErrorBody`: every 4xx the API itself answers. */
export const errorSchema = z
  .object({
    error: z.string().openapi({ description: "What went wrong, for humans." }),
    field: z
      .string()
      .optional()
      .openapi({ description: "The offending field (`body`/`query` when the input as a whole is wrong)." }),
  })
  .openapi("Error", { description: "The API's one error shape." });

const SECURITY: Record<Access, Record<string, string[]>[]> = {
  public: [],
  user: [{ sessionCookie: [] }, { apiKey: [] }],
  session: [{ sessionCookie: [] }],
  admin: [{ sessionCookie: [] }, { apiKey: [] }],
};

const READ_METHODS = new Set(["get", "head"]);

/** The errors a route answers because of its access and its input, before its own. */
function impliedErrors(spec: RouteSpec): Partial<Record<ErrorStatus, string>> {
  const errors: Partial<Record<ErrorStatus, string>> = {};
  const { request } = spec;
  if (request?.params || request?.query || request?.body) {
    errors[400] = "Invalid input; `field` names the offending field.";
  }
  if (spec.access !== "public") errors[401] = "No valid session cookie or API key.";
  const forbidden: string[] = [];
  if (spec.access === "admin") forbidden.push("the caller is not an admin");
  if (spec.access === "session") forbidden.push("called with an API key (a signed-in session is required)");
  if ((spec.access === "user" || spec.access === "admin") && !READ_METHODS.has(spec.method)) {
    forbidden.push("the API key is read-only");
  }
  if (forbidden.length) errors[403] = `Forbidden: ${forbidden.join("; or ")}.`;
  if (request?.body) errors[413] = "Request body over 256 KiB.";
  if (spec.access === "user" || spec.access === "admin") errors[429] = "API key rate limit exceeded.";
  return errors;
}

const errorResponse = (description: string) => ({
  description,
  content: { "application/json": { schema: errorSchema } },
});

function guard(deps: AppDeps, spec: AccessSpec): MiddlewareHandler<AppEnv>[] {
  switch (spec.access) {
    case "public":
      return [];
    case "user":
      return [requireUser(deps)];
    case "admin":
      return [requireAdmin(deps)];
    case "session":
      return [requireSession(deps, spec.deniedKeyMessage)];
  }
}

/** A body that is not JSON at all is `body: must be valid JSON`, as before any schema runs. */
const jsonBodyParses = createMiddleware(async (c, next) => {
  try {
    await c.req.json(); // Hono caches it for the validator
  } catch {
    throw ApiError.badRequest("Request body must be valid JSON", "body");
  }
  await next();
});

/**
 * The query the validator sees: one value per parameter (the first, as `c.req.query()` gives),
 * and an empty parameter (`?status=&limit=`, as forms and the documented URL shape send) counts
 * as not given.
 */
const givenQueryOnly = createMiddleware(async (c, next) => {
  const kept = new URLSearchParams();
  for (const [name, value] of Object.entries(c.req.query())) if (value !== "") kept.set(name, value);
  const url = new URL(c.req.url);
  const search = kept.toString();
  if (url.search.slice(1) !== search) {
    url.search = search;
    c.req.raw = new Request(url, c.req.raw);
  }
  await next();
});

/**
 * One REST route, declared once: path, access, request and response schemas, errors. The result
 * is a `createRoute()` config whose middleware enforces the access (and readies the input for
 * validation), and whose document entry carries the matching `security` and error responses.
 */
export function defineRoute<const S extends RouteSpec>(deps: AppDeps, spec: S) {
  const { access: _access, errors, ...route } = spec;
  const { deniedKeyMessage: _message, ...config } = route as typeof route & { deniedKeyMessage?: string };
  const middleware = [...guard(deps, spec)];
  if (spec.request?.query) middleware.push(givenQueryOnly);
  if (spec.request?.body) middleware.push(jsonBodyParses);
  const declared = { ...impliedErrors(spec), ...errors };
  const errorResponses = Object.fromEntries(
    Object.entries(declared).map(([status, description]) => [status, errorResponse(description)]),
  );
  return createRoute({
    ...config,
    security: SECURITY[spec.access],
    "x-access": spec.access,
    middleware,
    responses: { ...errorResponses, ...config.responses },
  } as unknown as Omit<S, "access" | "errors" | "deniedKeyMessage"> & {
    security: Record<string, string[]>[];
    middleware: MiddlewareHandler<AppEnv>[];
  });
}

const VALIDATED_PART: Record<string, string> = { json: "body", query: "query", param: "path" };

/** Every validation failure, whichever part of the request, is the one 400 naming the field. */
export const validationHook: Hook<unknown, AppEnv, string, undefined> = (result) => {
  if (!result.success) throw fromZodError(result.error, VALIDATED_PART[result.target] ?? "input");
  return undefined;
};

/** A router whose routes come from `defineRoute`, with the one validation hook. */
export const router = () => new OpenAPIHono<AppEnv>({ defaultHook: validationHook });

/** A path parameter that must be an id of one kind (`http/ids.ts`): 400 `<name>: invalid id`. */
export const idParam = (shape: IdShape, description: string) =>
  z
    .string()
    .refine((value) => isIdOf(shape, value), "invalid id")
    .openapi({ description });

/** `{ data: [item...] }` */
export const listOf = <S extends z.ZodType>(item: S) => z.object({ data: z.array(item) });

/** A JSON response body. */
export const json = <S extends z.ZodType>(schema: S, description: string) => ({
  description,
  content: { "application/json": { schema } },
});

/** A JSON request body, required. */
export const jsonRequest = <S extends z.ZodType>(schema: S, example?: unknown) => ({
  required: true,
  content: { "application/json": { schema, ...(example === undefined ? {} : { example }) } },
});
