import { buildOpenApiDocument, type OpenApiDocument } from "./document.ts";
import { registerAdmin } from "./paths/admin.ts";
import { registerApiKeys } from "./paths/api-keys.ts";
import { registerAuth } from "./paths/auth.ts";
import { registerDocs } from "./paths/docs.ts";
import { registerHealth } from "./paths/health.ts";
import { registerRealtime } from "./paths/realtime.ts";
import { registerServers } from "./paths/servers.ts";
import { OpenApiRegistry } from "./registry.ts";

/** Every documented route: one `paths/*.ts` per resource, in the reference's tag order. */
export function createOpenApiRegistry(): OpenApiRegistry {
  const registry = new OpenApiRegistry();
  registerAuth(registry);
  registerApiKeys(registry);
  registerServers(registry);
  registerRealtime(registry);
  registerAdmin(registry);
  registerHealth(registry);
  registerDocs(registry);
  return registry;
}

let cached: OpenApiDocument | undefined;

/** The document served at `/api/openapi.json` (built once: it depends on nothing at runtime). */
export function openApiDocument(): OpenApiDocument {
  cached ??= buildOpenApiDocument(createOpenApiRegistry());
  return cached;
}
