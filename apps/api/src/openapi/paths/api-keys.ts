import { createKeySchema } from "../../routes/api-keys.ts";
import type { OpenApiRegistry } from "../registry.ts";
import { apiKeyListSchema, createdApiKeySchema } from "../schemas.ts";

export function registerApiKeys(registry: OpenApiRegistry) {
  registry.tag(
    "API keys",
    "Keys for scripts (`x-api-key` header). Managed with a signed-in session only, never with a key.",
  );
  registry.add({
    method: "post",
    path: "/api/api-keys",
    summary: "Create an API key",
    description:
      "The secret (`key`) is in this response only. A read-only key may call every GET the owner may, and nothing else.",
    tags: ["API keys"],
    access: "session",
    body: createKeySchema,
    bodyExample: { name: "status-bot", readOnly: true, expiresInDays: 90 },
    responses: { 201: { description: "The new key, with its secret.", schema: createdApiKeySchema } },
  });
  registry.add({
    method: "get",
    path: "/api/api-keys",
    summary: "List my API keys",
    description: "Newest first; prefix, name, last use — never the secret.",
    tags: ["API keys"],
    access: "session",
    responses: { 200: { description: "The caller's keys.", schema: apiKeyListSchema } },
  });
  registry.add({
    method: "delete",
    path: "/api/api-keys/{id}",
    summary: "Revoke an API key",
    description:
      "Deletes the key; sockets it opened get `auth_error` and are closed (4001) within one sync period.",
    tags: ["API keys"],
    access: "session",
    params: { id: "The key's id." },
    responses: { 204: { description: "Revoked." } },
    errors: { 404: "API key not found (or not the caller's)." },
  });
}
