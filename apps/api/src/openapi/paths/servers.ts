import { serverSnapshotSchema } from "@panel/protocol";
import { addSubuserSchema } from "../../routes/servers/subusers.ts";
import { serverSnapshotExample } from "../examples.ts";
import type { OpenApiRegistry } from "../registry.ts";
import { serverListSchema, subuserSchema } from "../schemas.ts";

const SERVER_ID = "The server's id (`srv_…`).";

export function registerServers(registry: OpenApiRegistry) {
  registry.tag("Servers", "The servers a user owns or is a subuser of (admins see every server).");
  registry.add({
    method: "get",
    path: "/api/servers",
    summary: "List my servers",
    description: "The servers the caller owns or is a subuser of.",
    tags: ["Servers"],
    access: "user",
    responses: {
      200: {
        description: "The caller's servers.",
        schema: serverListSchema,
        example: { data: [serverSnapshotExample] },
      },
    },
  });
  registry.add({
    method: "get",
    path: "/api/servers/{id}",
    summary: "Get a server",
    description:
      "The same object as `server:sync`'s `data`. Its owner, its subusers and admins may read it; anyone else gets 404.",
    tags: ["Servers"],
    access: "user",
    params: { id: SERVER_ID },
    responses: { 200: { description: "The server.", schema: serverSnapshotSchema } },
    errors: { 404: "Server not found (or not visible to the caller)." },
  });
  registry.add({
    method: "post",
    path: "/api/servers/{id}/subusers",
    summary: "Add a subuser",
    description: "Gives the user with that email access to the server. Owner or admin only.",
    tags: ["Servers"],
    access: "user",
    params: { id: SERVER_ID },
    body: addSubuserSchema,
    bodyExample: { email: "friend@example.com" },
    responses: { 201: { description: "The new subuser.", schema: subuserSchema } },
    errors: {
      400: "Invalid email, or the email is the owner's (`field: email`).",
      403: "The caller may see the server but not manage it; or the API key is read-only.",
      404: "Server not found, or no user with that email (`field: email`).",
      409: "The user is already a subuser of this server.",
    },
  });
  registry.add({
    method: "delete",
    path: "/api/servers/{id}/subusers/{userId}",
    summary: "Remove a subuser",
    description:
      "Owner or admin; a subuser may always remove themself. Their open subscriptions get `unsubscribed` with `reason: access_revoked`.",
    tags: ["Servers"],
    access: "user",
    params: { id: SERVER_ID, userId: "The subuser's user id." },
    responses: { 204: { description: "Removed." } },
    errors: {
      403: "The caller may not manage the server; or the API key is read-only.",
      404: "Server or subuser not found.",
    },
  });
}
