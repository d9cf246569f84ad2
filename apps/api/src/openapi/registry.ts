import type { z } from "zod";

export type HttpMethod = "get" | "post" | "put" | "patch" | "delete";

/**
 * Who may call a route, which fixes its `security` and its 401/403 answers:
 * - `public`: anyone;
 * - `user`: a session cookie or an API key (a read-only key may only GET);
 * - `session`: a session cookie only (API keys get 403);
 * - `admin`: a session or API key of a user with the `admin` role.
 */
export type Access = "public" | "user" | "session" | "admin";

/** The error statuses of the API's one error shape (`http/errors.ts`). */
export type ErrorStatus = 400 | 401 | 403 | 404 | 409 | 413 | 429;

export type ResponseDoc = {
  description: string;
  /** The body's schema (converted with `io: "output"`); none for an empty body. */
  schema?: z.ZodType;
  /** Defaults to `application/json`. */
  contentType?: string;
  example?: unknown;
};

export type RouteDoc = {
  method: HttpMethod;
  /** OpenAPI style, with the `/api` prefix: `/api/servers/{id}`. */
  path: string;
  summary: string;
  description?: string;
  tags: string[];
  access: Access;
  /** Descriptions of the `{params}` in `path` (each is a required string). */
  params?: Record<string, string>;
  /** The query's zod object (converted with `io: "input"`). */
  query?: z.ZodType;
  /** Descriptions of query parameters the schema cannot carry (e.g. `limit`'s range). */
  queryDescriptions?: Record<string, string>;
  /** The JSON body's zod schema (converted with `io: "input"`). */
  body?: z.ZodType;
  bodyExample?: unknown;
  /** Success responses by status. */
  responses: Record<number, ResponseDoc>;
  /**
   * Route-specific errors by status, with what they mean. 400 for a body/query, 413 for a
   * body, and 401/403/429 implied by `access` are added by the builder.
   */
  errors?: Partial<Record<ErrorStatus, string>>;
  /**
   * Whose error body the route answers with: the API's own (`Error`, the default) or
   * better-auth's (`BetterAuthError`, for the `/api/auth/*` endpoints it serves).
   */
  errorShape?: "panel" | "better-auth";
  /** Other non-JSON-error responses (e.g. 503 of the health check). */
  otherResponses?: Record<number, ResponseDoc>;
};

export type TagDoc = { name: string; description: string };

/** What `paths/*.ts` fill in; `buildOpenApiDocument` turns it into the document. */
export class OpenApiRegistry {
  readonly routes: RouteDoc[] = [];
  readonly tags: TagDoc[] = [];

  tag(name: string, description: string) {
    if (!this.tags.some((t) => t.name === name)) this.tags.push({ name, description });
  }

  add(route: RouteDoc) {
    const key = `${route.method} ${route.path}`;
    if (this.routes.some((r) => `${r.method} ${r.path}` === key)) {
      throw new Error(`OpenAPI: ${key} is documented twice`);
    }
    this.routes.push(route);
  }
}
