import { apiKey } from "@better-auth/api-key";
import { type Database, newId, randomShortId, schema } from "@panel/db";
import { betterAuth } from "better-auth";
import { drizzleAdapter } from "better-auth/adapters/drizzle";
import { admin, openAPI } from "better-auth/plugins";
import type { Config } from "../env.ts";
import type { Logger } from "../logger.ts";
import { API_KEY_PREFIX, API_KEY_VISIBLE_CHARS } from "./api-keys.ts";

export const ADMIN_ROLE = "admin";

/**
 * The one client address (http/client-address.ts), handed to better-auth for its rate limiter
 * and session records. Set by the API on every request it forwards, after removing whatever the
 * client sent under this or any other forwarding header.
 */
export const CLIENT_ADDRESS_HEADER = "x-panel-client-address";

/**
 * API keys are made through `/api/api-keys` only, which fixes their prefix, permissions and
 * limits; the plugin's own endpoints would let a user pick a prefix (`ghp_`, defeating secret
 * scanners) or change a key's expiry.
 */
const DISABLED_AUTH_PATHS = [
  "/api-key/create",
  "/api-key/update",
  // the openAPI() plugin's own pages: its schema is merged into /api/openapi.json instead
  "/open-api/generate-schema",
  "/reference",
];

/** better-auth reports some of a client's mistakes (a bad origin, a wrong API key) at error level. */
const CLIENT_MISTAKE = /^(invalid (origin|callbackurl|redirecturl)|blocked cross-site)/i;

/** An APIError with a 4xx status (better-call's `statusCode`): the caller's fault, not ours. */
const isClientError = (arg: unknown) => {
  const code = (arg as { statusCode?: unknown } | null)?.statusCode;
  return typeof code === "number" && code >= 400 && code < 500;
};

function authLogLevel(level: "error" | "warn" | "info" | "debug", message: string, args: unknown[]) {
  if (level !== "error") return level;
  return CLIENT_MISTAKE.test(message) || args.some(isClientError) ? "warn" : level;
}

/** better-auth stores roles as a comma-separated list. */
export function isAdminRole(role: string | null | undefined): boolean {
  return !!role && role.split(",").some((r) => r.trim() === ADMIN_ROLE);
}

export function createAuth(db: Database, config: Config, logger: Logger) {
  return betterAuth({
    appName: "Game Panel",
    baseURL: config.publicUrl,
    basePath: "/api/auth",
    secret: config.auth.secret,
    trustedOrigins: config.allowedOrigins,
    database: drizzleAdapter(db, {
      provider: "pg",
      schema: {
        user: schema.user,
        session: schema.session,
        account: schema.account,
        verification: schema.verification,
        apikey: schema.apikey,
        rateLimit: schema.rateLimit,
      },
    }),
    emailAndPassword: {
      enabled: true,
      // Accounts come from admins (`POST /api/auth/admin/create-user`) unless ALLOW_SIGN_UP.
      disableSignUp: !config.auth.allowSignUp,
      minPasswordLength: 8,
      maxPasswordLength: 128,
    },
    disabledPaths: DISABLED_AUTH_PATHS,
    advanced: {
      ipAddress: { ipAddressHeaders: [CLIENT_ADDRESS_HEADER] },
      // `user_…` ids, like the rest of the panel's prefixed ids.
      database: {
        generateId: ({ model }) => (model === "user" ? newId("user") : randomShortId(32)),
      },
    },
    // In the database, so that every API instance counts against the same limits.
    rateLimit: { enabled: config.auth.rateLimit, window: 60, max: 100, storage: "database" },
    logger: {
      level: "error",
      log: (level, message, ...args) =>
        logger[authLogLevel(level, message, args)]({ args }, `better-auth: ${message}`),
    },
    plugins: [
      admin({ defaultRole: "user", adminRoles: [ADMIN_ROLE] }),
      apiKey({
        apiKeyHeaders: "x-api-key",
        defaultPrefix: API_KEY_PREFIX,
        startingCharactersConfig: { shouldStore: true, charactersLength: API_KEY_VISIBLE_CHARS },
        // The plugin's default (10 a day) suits nothing a script does; see README.
        rateLimit: {
          enabled: true,
          maxRequests: config.auth.apiKeyRateLimit.max,
          timeWindow: config.auth.apiKeyRateLimit.windowMs,
        },
      }),
      // Describes its endpoints for /api/openapi.json; its own reference page would load a CDN script.
      openAPI({ disableDefaultReference: true }),
    ],
  });
}

export type Auth = ReturnType<typeof createAuth>;
