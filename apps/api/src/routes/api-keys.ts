import { Hono } from "hono";
import { z } from "zod";
import { createApiKey, deleteApiKey, listApiKeys } from "../auth/api-keys.ts";
import type { AppDeps, AppEnv } from "../http/context.ts";
import { ApiError } from "../http/errors.ts";
import { requireSession } from "../http/guards.ts";
import { jsonBody, pathId } from "../http/validate.ts";

/** The plugin's own bounds: names of 1–32 characters, expiry between 1 and 365 days. */
export const createKeySchema = z.strictObject({
  name: z.string().trim().min(1).max(32),
  readOnly: z.boolean().default(false),
  expiresInDays: z.number().int().min(1).max(365).optional(),
});

const SESSION_ONLY = "API keys can only be managed with a signed-in session, not with an API key";

/** `/api/api-keys`: a signed-in user creates, lists and revokes their own keys. */
export function apiKeyRoutes(deps: AppDeps) {
  return new Hono<AppEnv>()
    .use(requireSession(deps, SESSION_ONLY))
    .post("/", async (c) => {
      const input = await jsonBody(c, createKeySchema);
      const created = await createApiKey(deps.auth, c.var.principal.userId, input);
      c.header("Cache-Control", "no-store");
      return c.json(created, 201);
    })
    .get("/", async (c) => c.json({ data: await listApiKeys(deps.db, c.var.principal.userId) }))
    .delete("/:id", async (c) => {
      const deleted = await deleteApiKey(deps.db, c.var.principal.userId, pathId(c, "id", "apiKey"));
      if (!deleted) throw ApiError.notFound("API key not found");
      return c.body(null, 204);
    });
}
