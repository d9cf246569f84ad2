import { z } from "@hono/zod-openapi";
import { createApiKey, deleteApiKey, listApiKeys } from "../auth/api-keys.ts";
import type { AppDeps } from "../http/context.ts";
import { defineRoute, idParam, json, jsonRequest, router } from "../http/define-route.ts";
import { ApiError } from "../http/errors.ts";
import { apiKeyListSchema, createdApiKeySchema } from "../openapi/schemas.ts";

/** The plugin's own bounds: names of 1–32 characters, expiry between 1 and 365 days. */
export const createKeySchema = z.strictObject({
  name: z.string().trim().min(1).max(32),
  readOnly: z.boolean().default(false),
  expiresInDays: z.number().int().min(1).max(365).optional(),
});

const SESSION_ONLY = "API keys can only be managed with a signed-in session, not with an API key";
const TAGS = ["API keys"];

/** `/api/api-keys`: a signed-in user creates, lists and revokes their own keys. */
export function apiKeyRoutes(deps: AppDeps) {
  const access = { access: "session", deniedKeyMessage: SESSION_ONLY } as const;
  const create = defineRoute(deps, {
    method: "post",
    path: "/",
    summary: "Create an API key",
    description:
      "The secret (`key`) is in this answer only. A read-only key may call GET routes only. Sent with `Cache-Control: no-store`.",
    tags: TAGS,
    ...access,
    request: {
      body: jsonRequest(createKeySchema, { name: "backup script", readOnly: true, expiresInDays: 90 }),
    },
    responses: { 201: json(createdApiKeySchema, "The new key, with its secret.") },
  });
  const list = defineRoute(deps, {
    method: "get",
    path: "/",
    summary: "List my API keys",
    tags: TAGS,
    ...access,
    responses: { 200: json(apiKeyListSchema, "The caller's keys, without their secrets.") },
  });
  const remove = defineRoute(deps, {
    method: "delete",
    path: "/{id}",
    summary: "Revoke an API key",
    tags: TAGS,
    ...access,
    request: { params: z.object({ id: idParam("apiKey", "The key's id.") }) },
    responses: { 204: { description: "Revoked." } },
    errors: { 404: "No such key of the caller's." },
  });
  return router()
    .openapi(create, async (c) => {
      const created = await createApiKey(deps.auth, c.var.principal.userId, c.req.valid("json"));
      c.header("Cache-Control", "no-store");
      return c.json(created, 201);
    })
    .openapi(list, async (c) => c.json({ data: await listApiKeys(deps.db, c.var.principal.userId) }, 200))
    .openapi(remove, async (c) => {
      const deleted = await deleteApiKey(deps.db, c.var.principal.userId, c.req.valid("param").id);
      if (!deleted) throw ApiError.notFound("API key not found");
      return c.body(null, 204);
    });
}
