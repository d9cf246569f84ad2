import type { OpenApiRegistry } from "../registry.ts";
import { healthOkSchema, healthUnavailableSchema } from "../schemas.ts";

export function registerHealth(registry: OpenApiRegistry) {
  registry.tag("Health", "Liveness of the API and its database.");
  registry.add({
    method: "get",
    path: "/api/health",
    summary: "Health check",
    description: "200 while the database answers, 503 otherwise. Anyone may call it.",
    tags: ["Health"],
    access: "public",
    responses: { 200: { description: "The API and its database are up.", schema: healthOkSchema } },
    otherResponses: {
      503: { description: "The database does not answer.", schema: healthUnavailableSchema },
    },
  });
}
