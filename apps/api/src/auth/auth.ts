import { apiKey } from "@better-auth/api-key";
import { type Database, newId, randomShortId, schema } from "@panel/db";
import { betterAuth } from "better-auth";
import { drizzleAdapter } from "better-auth/adapters/drizzle";
import { admin } from "better-auth/plugins";
import type { Config } from "../env.ts";
import type { Logger } from "../logger.ts";
import { API_KEY_PREFIX, API_KEY_VISIBLE_CHARS } from "./api-keys.ts";

export const ADMIN_ROLE = "admin";

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
      },
    }),
    emailAndPassword: { enabled: true, minPasswordLength: 8, maxPasswordLength: 128 },
    advanced: {
      // `user_…` ids, like the rest of the panel's prefixed ids.
      database: {
        generateId: ({ model }) => (model === "user" ? newId("user") : randomShortId(32)),
      },
    },
    rateLimit: { enabled: config.auth.rateLimit, window: 60, max: 100 },
    logger: {
      level: "error",
      log: (level, message, ...args) => logger[level]({ args }, `better-auth: ${message}`),
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
    ],
  });
}

export type Auth = ReturnType<typeof createAuth>;
