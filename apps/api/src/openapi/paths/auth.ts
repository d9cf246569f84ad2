import { z } from "zod";
import type { OpenApiRegistry, RouteDoc } from "../registry.ts";
import { authSessionSchema, authUserSchema, pluginApiKeySchema } from "../schemas.ts";

/**
 * better-auth's endpoints under `/api/auth/*` (one wildcard mount in `app.ts`). Its request
 * schemas are internal to it, so the ones the panel's clients call and the api-key plugin's are described
 * here, as the client sends them.
 */
const email = z.email();
const password = z.string().min(8).max(128);

const signUpBody = z.object({
  name: z.string(),
  email,
  password,
  image: z.string().optional(),
  callbackURL: z.string().optional(),
  rememberMe: z.boolean().optional(),
});
const signInBody = z.object({
  email,
  password: z.string(),
  callbackURL: z.string().optional(),
  rememberMe: z.boolean().optional(),
});
const createUserBody = z.object({
  email,
  password,
  name: z.string(),
  role: z.union([z.string(), z.array(z.string())]).optional(),
  data: z.record(z.string(), z.unknown()).optional(),
});

const deleteKeyBody = z.object({ keyId: z.string() });
const getKeyQuery = z.object({ id: z.string() });
const listKeysQuery = z.object({
  limit: z.string().optional(),
  offset: z.string().optional(),
  sortBy: z.string().optional(),
  sortDirection: z.enum(["asc", "desc"]).optional(),
});

const signedIn = z.object({
  redirect: z.boolean(),
  token: z.string(),
  url: z.string().optional(),
  user: authUserSchema,
});

type AuthRoute = Omit<RouteDoc, "tags" | "errorShape" | "access"> & { access?: RouteDoc["access"] };

export function registerAuth(registry: OpenApiRegistry) {
  registry.tag(
    "Auth",
    "better-auth (email + password). Sign-in sets the `better-auth.session_token` cookie; errors are better-auth's `{code, message}`.",
  );
  registry.tag(
    "Auth: API keys (plugin)",
    "better-auth's api-key plugin endpoints. Prefer `/api/api-keys`, which adds read-only keys and never lists secrets.",
  );
  const auth = (route: AuthRoute, tag = "Auth") =>
    registry.add({ access: "public", ...route, tags: [tag], errorShape: "better-auth" });
  const key = (route: AuthRoute) => auth({ access: "session", ...route }, "Auth: API keys (plugin)");

  auth({
    method: "post",
    path: "/api/auth/sign-up/email",
    summary: "Sign up with email and password",
    description: "Off unless the operator sets `ALLOW_SIGN_UP=true`; admins create accounts otherwise.",
    body: signUpBody,
    responses: {
      200: {
        description: "Signed up (and signed in): sets the session cookie.",
        schema: z.object({ token: z.string().nullable(), user: authUserSchema }),
      },
    },
  });
  auth({
    method: "post",
    path: "/api/auth/sign-in/email",
    summary: "Sign in with email and password",
    description: "Sets the `better-auth.session_token` cookie used by every other route and by `/api/ws`.",
    body: signInBody,
    bodyExample: { email: "admin@example.com", password: "correct horse battery staple" },
    responses: { 200: { description: "Signed in: sets the session cookie.", schema: signedIn } },
    errors: { 400: "Invalid body.", 401: "Invalid email or password.", 403: "The user is banned." },
  });
  auth({
    method: "post",
    path: "/api/auth/sign-out",
    summary: "Sign out",
    description: "Revokes the session; sockets it authenticated are closed (4001) within one sync period.",
    access: "session",
    responses: { 200: { description: "Signed out.", schema: z.object({ success: z.boolean() }) } },
  });
  auth({
    method: "get",
    path: "/api/auth/get-session",
    summary: "The current session",
    access: "session",
    responses: {
      200: {
        description: "The session and its user, or `null` when not signed in.",
        schema: z.object({ session: authSessionSchema, user: authUserSchema }).nullable(),
      },
    },
  });
  auth({
    method: "post",
    path: "/api/auth/admin/create-user",
    summary: "Create a user (admin)",
    description: 'better-auth\'s admin plugin; `role: "admin"` makes an admin.',
    access: "session",
    body: createUserBody,
    responses: { 200: { description: "The new user.", schema: z.object({ user: authUserSchema }) } },
    errors: { 400: "Invalid body or the email is taken.", 401: "Not signed in.", 403: "Not an admin." },
  });

  key({
    method: "get",
    path: "/api/auth/api-key/get",
    summary: "Get an API key (plugin)",
    query: getKeyQuery,
    responses: { 200: { description: "The key, without its secret.", schema: pluginApiKeySchema } },
    errors: { 401: "Not signed in.", 404: "API key not found." },
  });
  key({
    method: "get",
    path: "/api/auth/api-key/list",
    summary: "List my API keys (plugin)",
    query: listKeysQuery,
    responses: {
      200: {
        description: "The caller's keys, without secrets.",
        schema: z.object({
          apiKeys: z.array(pluginApiKeySchema),
          total: z.number().int(),
          limit: z.number().int().optional(),
          offset: z.number().int().optional(),
        }),
      },
    },
    errors: { 401: "Not signed in." },
  });
  key({
    method: "post",
    path: "/api/auth/api-key/delete",
    summary: "Delete an API key (plugin)",
    body: deleteKeyBody,
    responses: { 200: { description: "Deleted.", schema: z.object({ success: z.boolean() }) } },
    errors: { 400: "Invalid body.", 401: "Not signed in.", 404: "API key not found." },
  });
}
