import { z } from "zod";
import type { Access, ErrorStatus, OpenApiRegistry, ResponseDoc, RouteDoc } from "./registry.ts";
import { components } from "./schemas.ts";

type JsonSchema = Record<string, unknown>;
type Operation = Record<string, unknown>;

const COMPONENT_REF = "#/components/schemas/";
const SAFE_INT = Number.MAX_SAFE_INTEGER;

/**
 * Drops what zod adds that says nothing in a document (`$schema`, ±2^53 bounds of `.int()`),
 * and for responses (`open`) the `additionalProperties: false` of objects: the API may add
 * fields to what it answers, and a client's generated validator should not break on them.
 */
function tidy(node: unknown, open = false): unknown {
  if (Array.isArray(node)) return node.map((item) => tidy(item, open));
  if (!node || typeof node !== "object") return node;
  const out: JsonSchema = {};
  for (const [key, value] of Object.entries(node)) {
    if (key === "$schema" || key === "$id") continue;
    if (open && key === "additionalProperties" && value === false) continue;
    if (key === "minimum" && value === -SAFE_INT) continue;
    if (key === "maximum" && value === SAFE_INT) continue;
    if (key === "$ref" && typeof value === "string" && value.startsWith("#/$defs/")) {
      out[key] = COMPONENT_REF + value.slice("#/$defs/".length);
      continue;
    }
    out[key] = tidy(value, open);
  }
  return out;
}

/**
 * A request schema, as the client must send it (`io: "input"`: defaults optional, the input
 * side of transforms), always inlined; refinements a JSON Schema cannot say are left out.
 */
function inputSchema(schema: z.ZodType): JsonSchema {
  return tidy(z.toJSONSchema(schema, { io: "input", unrepresentable: "any" })) as JsonSchema;
}

/** A response schema, with named parts as `$ref`s into `components.schemas`. */
function outputSchema(schema: z.ZodType): JsonSchema {
  const json = z.toJSONSchema(schema, { io: "output", metadata: components, unrepresentable: "any" });
  const { $defs, ...rest } = json as JsonSchema & { $defs?: JsonSchema };
  for (const name of Object.keys($defs ?? {})) {
    if (!componentNames().has(name)) throw new Error(`OpenAPI: unnamed shared schema ${name}`);
  }
  return tidy(rest, true) as JsonSchema;
}

let names: Set<string> | undefined;
function componentNames(): Set<string> {
  names ??= new Set(Object.keys(componentSchemas()));
  return names;
}

function componentSchemas(): Record<string, JsonSchema> {
  const { schemas } = z.toJSONSchema(components, {
    io: "output",
    unrepresentable: "any",
    uri: (id) => COMPONENT_REF + id,
  });
  return tidy(schemas, true) as Record<string, JsonSchema>;
}

const SECURITY: Record<Access, Record<string, string[]>[]> = {
  public: [],
  user: [{ sessionCookie: [] }, { apiKey: [] }],
  session: [{ sessionCookie: [] }],
  admin: [{ sessionCookie: [] }, { apiKey: [] }],
};

const READS = new Set(["get"]);

/** The errors every route of this kind can answer, before its own. */
function impliedErrors(route: RouteDoc): Partial<Record<ErrorStatus, string>> {
  const errors: Partial<Record<ErrorStatus, string>> = {};
  if (route.errorShape === "better-auth") return route.body ? { 413: "Request body over 256 KiB." } : {};
  if (route.body || route.query) errors[400] = "Invalid input; `field` names the offending field.";
  if (route.access !== "public") errors[401] = "No valid session cookie or API key.";
  const forbidden: string[] = [];
  if (route.access === "admin") forbidden.push("the caller is not an admin");
  if (route.access === "session") forbidden.push("called with an API key (a signed-in session is required)");
  if ((route.access === "user" || route.access === "admin") && !READS.has(route.method)) {
    forbidden.push("the API key is read-only");
  }
  if (forbidden.length) errors[403] = `Forbidden: ${forbidden.join("; or ")}.`;
  if (route.body) errors[413] = "Request body over 256 KiB.";
  if (route.access === "user" || route.access === "admin") errors[429] = "API key rate limit exceeded.";
  return errors;
}

function response(doc: ResponseDoc): Record<string, unknown> {
  if (!doc.schema) return { description: doc.description };
  const media: Record<string, unknown> = { schema: outputSchema(doc.schema) };
  if (doc.example !== undefined) media.example = doc.example;
  return { description: doc.description, content: { [doc.contentType ?? "application/json"]: media } };
}

const errorResponse = (description: string, shape: RouteDoc["errorShape"]) => ({
  description,
  content: {
    "application/json": {
      schema: { $ref: `${COMPONENT_REF}${shape === "better-auth" ? "BetterAuthError" : "Error"}` },
    },
  },
});

function pathParams(route: RouteDoc) {
  return [...route.path.matchAll(/\{(\w+)\}/g)].map(([, name = ""]) => ({
    name,
    in: "path",
    required: true,
    schema: { type: "string" },
    ...(route.params?.[name] ? { description: route.params[name] } : {}),
  }));
}

function queryParams(route: RouteDoc) {
  if (!route.query) return [];
  const json = inputSchema(route.query) as { properties?: Record<string, JsonSchema>; required?: string[] };
  return Object.entries(json.properties ?? {}).map(([name, schema]) => {
    const { description = route.queryDescriptions?.[name], ...rest } = schema;
    return {
      name,
      in: "query",
      required: json.required?.includes(name) ?? false,
      schema: rest,
      ...(description ? { description } : {}),
    };
  });
}

function operation(route: RouteDoc): Operation {
  const responses: Record<string, unknown> = {};
  for (const [status, doc] of Object.entries(route.responses)) responses[status] = response(doc);
  for (const [status, doc] of Object.entries(route.otherResponses ?? {})) responses[status] = response(doc);
  const errors = { ...impliedErrors(route), ...route.errors };
  for (const [status, description] of Object.entries(errors))
    responses[status] = errorResponse(description, route.errorShape);

  const op: Operation = {
    operationId: operationId(route),
    summary: route.summary,
    tags: route.tags,
    security: SECURITY[route.access],
  };
  if (route.description) op.description = route.description;
  const parameters = [...pathParams(route), ...queryParams(route)];
  if (parameters.length) op.parameters = parameters;
  if (route.body) {
    const media: Record<string, unknown> = { schema: inputSchema(route.body) };
    if (route.bodyExample !== undefined) media.example = route.bodyExample;
    op.requestBody = { required: true, content: { "application/json": media } };
  }
  op.responses = Object.fromEntries(Object.entries(responses).sort(([a], [b]) => Number(a) - Number(b)));
  return op;
}

/** `post /api/admin/servers/{id}` -> `postAdminServersById` */
function operationId(route: RouteDoc): string {
  const words = route.path
    .replace(/^\/api\//, "")
    .split(/[/.\-:]+/)
    .filter(Boolean)
    .map((part) => {
      const param = /^\{(\w+)\}$/.exec(part);
      const word = param ? `by-${param[1]}` : part;
      return word
        .split("-")
        .map((w) => w.charAt(0).toUpperCase() + w.slice(1))
        .join("");
    });
  return route.method + words.join("");
}

export type OpenApiDocument = {
  openapi: string;
  info: Record<string, unknown>;
  paths: Record<string, Record<string, Operation>>;
  components: Record<string, unknown>;
  tags: { name: string; description: string }[];
};

export function buildOpenApiDocument(registry: OpenApiRegistry): OpenApiDocument {
  const paths: OpenApiDocument["paths"] = {};
  for (const route of registry.routes) {
    paths[route.path] ??= {};
    (paths[route.path] as Record<string, Operation>)[route.method] = operation(route);
  }
  return {
    openapi: "3.1.0",
    info: {
      title: "Game Panel API",
      version: "1.0.0",
      description: [
        "REST API of the game-server panel. JSON in and out; every error is",
        '`{"error": "<text>", "field"?: "<name>"}`.',
        "",
        "Authenticate with the better-auth session cookie (`POST /api/auth/sign-in/email`) or,",
        "for scripts, an API key in the `x-api-key` header (create one with `POST /api/api-keys`).",
        "",
        "Realtime updates use a WebSocket at `/api/ws`: see [the WebSocket protocol](/api/docs/websocket).",
      ].join("\n"),
    },
    tags: registry.tags,
    paths: Object.fromEntries(Object.entries(paths).sort(([a], [b]) => a.localeCompare(b))),
    components: {
      securitySchemes: {
        sessionCookie: {
          type: "apiKey",
          in: "cookie",
          name: "better-auth.session_token",
          description:
            "better-auth's session cookie (`__Secure-better-auth.session_token` behind https), set by sign-in.",
        },
        apiKey: {
          type: "apiKey",
          in: "header",
          name: "x-api-key",
          description: "An API key made with `POST /api/api-keys`; acts with its owner's rights.",
        },
      },
      schemas: componentSchemas(),
    },
  };
}
