import { z } from "zod";

const DEV_SECRET = "dev-only-secret-change-me-dev-only-secret";
/** Values copied from examples (docker-compose.yml, the README) that must never reach production. */
const PLACEHOLDER = /change-?me|changeme|example-secret|^dev-only-secret/i;
/** Where a browser dev server runs while developing the dashboard. */
const DEV_DASHBOARD_ORIGIN = "http://localhost:3000";

const bool = z.enum(["true", "false", "1", "0"]).transform((v) => v === "true" || v === "1");
const list = z.string().transform((v) =>
  v
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean),
);

const envSchema = z
  .object({
    NODE_ENV: z.enum(["development", "production", "test"]).default("development"),
    PORT: z.coerce.number().int().min(0).max(65535).default(3001),
    HOST: z.string().optional(),
    LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
    DATABASE_URL: z.url().optional(),
    DATABASE_POOL_SIZE: z.coerce.number().int().min(1).max(200).default(10),
    DATA_DIR: z.string().default("./.data"),
    BETTER_AUTH_SECRET: z.string().min(32).optional(),
    BETTER_AUTH_URL: z.url().optional(),
    ALLOWED_ORIGINS: list.optional(),
    ADMIN_EMAIL: z.email().optional(),
    ADMIN_PASSWORD: z.string().min(8).optional(),
    SEED_DEMO: bool.optional(),
    ALLOW_SIGN_UP: bool.default(false),
    SIGN_IN_FAILURE_WINDOW_MS: z.coerce
      .number()
      .int()
      .min(1000)
      .default(15 * 60_000),
    SIGN_IN_MAX_FAILURES_PER_ADDRESS: z.coerce.number().int().min(1).default(5),
    SIGN_IN_MAX_FAILURES_PER_ACCOUNT: z.coerce.number().int().min(1).default(30),
    TRUST_PROXY: bool.default(false),
    AUTH_RATE_LIMIT: bool.optional(),
    API_KEY_RATE_LIMIT_MAX: z.coerce.number().int().min(1).default(600),
    API_KEY_RATE_LIMIT_WINDOW_MS: z.coerce.number().int().min(1000).default(60_000),
    SYNC_INTERVAL_MS: z.coerce.number().int().min(50).default(5000),
    WS_AUTH_TIMEOUT_MS: z.coerce.number().int().min(100).default(10_000),
    WS_HEARTBEAT_MS: z.coerce.number().int().min(100).default(30_000),
    WS_MAX_SUBSCRIPTIONS: z.coerce.number().int().min(1).default(100),
    WS_RATE_BURST: z.coerce.number().int().min(1).default(120),
    WS_RATE_PER_SECOND: z.coerce.number().min(0.1).default(20),
    WS_MAX_BUFFERED_BYTES: z.coerce
      .number()
      .int()
      .min(1024)
      .default(1024 * 1024),
    WS_TICKET_TTL_MS: z.coerce.number().int().min(1000).default(60_000),
    // Concurrent sockets one API key may hold across all instances; 0 = unlimited.
    WS_MAX_SOCKETS_PER_API_KEY: z.coerce.number().int().min(0).default(0),
    // Unset: derived from the open-file limit at start (realtime/socket-caps.ts).
    WS_MAX_SOCKETS: z.coerce.number().int().min(1).optional(),
    WS_MAX_UNAUTHED_PER_ADDRESS: z.coerce.number().int().min(1).default(64),
    WS_TICKET_BURST: z.coerce.number().int().min(1).default(120),
    WS_TICKET_PER_SECOND: z.coerce.number().min(0.01).default(2),
  })
  .superRefine(refuseUnsafeProduction)
  .refine((e) => !e.ADMIN_EMAIL === !e.ADMIN_PASSWORD, {
    message: "ADMIN_EMAIL and ADMIN_PASSWORD go together",
    path: ["ADMIN_PASSWORD"],
  });

type Env = z.infer<typeof envSchema>;

/**
 * Production refuses what is only safe on a developer's machine: the built-in or a copied
 * placeholder secret or admin password, and demo accounts with published passwords.
 */
function refuseUnsafeProduction(
  e: {
    NODE_ENV: string;
    BETTER_AUTH_SECRET?: string | undefined;
    ADMIN_PASSWORD?: string | undefined;
    SEED_DEMO?: boolean | undefined;
  },
  ctx: z.RefinementCtx,
) {
  if (e.NODE_ENV !== "production") return;
  const refuse = (path: string, message: string) => ctx.addIssue({ code: "custom", path: [path], message });
  if (!e.BETTER_AUTH_SECRET) {
    refuse("BETTER_AUTH_SECRET", "is required when NODE_ENV=production: set it to 32+ random characters");
  } else if (e.BETTER_AUTH_SECRET === DEV_SECRET || PLACEHOLDER.test(e.BETTER_AUTH_SECRET)) {
    refuse(
      "BETTER_AUTH_SECRET",
      "is a placeholder: set it to 32+ random characters (e.g. `openssl rand -base64 32`)",
    );
  }
  if (e.ADMIN_PASSWORD && PLACEHOLDER.test(e.ADMIN_PASSWORD)) {
    refuse("ADMIN_PASSWORD", "is a placeholder: set a real password for the admin account");
  }
  if (e.SEED_DEMO)
    refuse("SEED_DEMO", "demo data (published passwords) is never seeded when NODE_ENV=production");
}

export type Config = ReturnType<typeof toConfig>;

function toConfig(e: Env) {
  const publicUrl = e.BETTER_AUTH_URL ?? `http://localhost:${e.PORT || 3001}`;
  const embedded = !e.DATABASE_URL;
  return {
    env: e.NODE_ENV,
    port: e.PORT,
    // The embedded database is a demo with published passwords: only this machine reaches it.
    host: e.HOST ?? (embedded ? "127.0.0.1" : "0.0.0.0"),
    logLevel: e.LOG_LEVEL,
    publicUrl,
    database: { url: e.DATABASE_URL, poolSize: e.DATABASE_POOL_SIZE, dataDir: e.DATA_DIR },
    auth: {
      secret: e.BETTER_AUTH_SECRET ?? DEV_SECRET,
      usesDevSecret: !e.BETTER_AUTH_SECRET,
      rateLimit: e.AUTH_RATE_LIMIT ?? e.NODE_ENV === "production",
      allowSignUp: e.ALLOW_SIGN_UP,
      signInFailures: {
        windowMs: e.SIGN_IN_FAILURE_WINDOW_MS,
        perAddress: e.SIGN_IN_MAX_FAILURES_PER_ADDRESS,
        perAccount: e.SIGN_IN_MAX_FAILURES_PER_ACCOUNT,
      },
      apiKeyRateLimit: { max: e.API_KEY_RATE_LIMIT_MAX, windowMs: e.API_KEY_RATE_LIMIT_WINDOW_MS },
    },
    /** Behind a reverse proxy: take the client address from `x-forwarded-for`. */
    trustProxy: e.TRUST_PROXY,
    allowedOrigins: e.ALLOWED_ORIGINS ?? defaultOrigins(publicUrl, e.NODE_ENV),
    admin:
      e.ADMIN_EMAIL && e.ADMIN_PASSWORD ? { email: e.ADMIN_EMAIL, password: e.ADMIN_PASSWORD } : undefined,
    // The embedded database is for trying the panel out, so it starts with demo data.
    seedDemo: e.SEED_DEMO ?? (embedded && e.NODE_ENV !== "production"),
    realtime: {
      syncIntervalMs: e.SYNC_INTERVAL_MS,
      authTimeoutMs: e.WS_AUTH_TIMEOUT_MS,
      heartbeatMs: e.WS_HEARTBEAT_MS,
      maxSubscriptions: e.WS_MAX_SUBSCRIPTIONS,
      rateBurst: e.WS_RATE_BURST,
      ratePerSecond: e.WS_RATE_PER_SECOND,
      maxBufferedBytes: e.WS_MAX_BUFFERED_BYTES,
      ticketTtlMs: e.WS_TICKET_TTL_MS,
      maxSocketsPerApiKey: e.WS_MAX_SOCKETS_PER_API_KEY,
      maxSockets: e.WS_MAX_SOCKETS,
      maxUnauthenticatedPerAddress: e.WS_MAX_UNAUTHED_PER_ADDRESS,
      ticketRate: { burst: e.WS_TICKET_BURST, perSecond: e.WS_TICKET_PER_SECOND },
      maxPayloadBytes: 64 * 1024,
    },
  };
}

function defaultOrigins(publicUrl: string, env: Env["NODE_ENV"]): string[] {
  const own = new URL(publicUrl).origin;
  return env === "development" && own !== DEV_DASHBOARD_ORIGIN ? [own, DEV_DASHBOARD_ORIGIN] : [own];
}

/** A configuration a person fixes by setting a variable: the entry prints it, without a stack. */
export class ConfigError extends Error {}

/** Reads and validates configuration once; the only place that looks at the environment. */
export function loadConfig(source: Record<string, string | undefined> = process.env): Config {
  const cleaned = Object.fromEntries(Object.entries(source).filter(([, v]) => v !== ""));
  const parsed = envSchema.safeParse(cleaned);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `  ${i.path.join(".")}: ${i.message}`);
    throw new ConfigError(`Invalid configuration:\n${problems.join("\n")}`);
  }
  return toConfig(parsed.data);
}
