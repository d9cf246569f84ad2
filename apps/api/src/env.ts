import { z } from "zod";
import { FANOUT_MODES } from "./realtime/fanout-modes.ts";

const DEV_SECRET = "dev-only-secret-change-me-dev-only-secret";

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
    HOST: z.string().default("0.0.0.0"),
    LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
    // How far V8 lets the heap grow past live memory before the next full collection, in
    // percent: a fixed factor in place of V8's own (1.1x-4x; 4x after bursts such as thousands
    // of sockets connecting, which leaves the process holding mostly garbage). 0 keeps V8's.
    HEAP_GROWING_PERCENT: z.coerce.number().int().min(0).max(300).default(50),
    DATABASE_URL: z.url().optional(),
    DATABASE_POOL_SIZE: z.coerce.number().int().min(1).max(200).default(10),
    DATA_DIR: z.string().default("./.data"),
    BETTER_AUTH_SECRET: z.string().min(32).optional(),
    BETTER_AUTH_URL: z.url().optional(),
    ALLOWED_ORIGINS: list.optional(),
    ADMIN_EMAIL: z.email().optional(),
    ADMIN_PASSWORD: z.string().min(8).optional(),
    SEED_DEMO: bool.optional(),
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
    // Bench only: the sync fan-out strategy, or several used in turn tick by tick (`fast,naive`;
    // `alternate` is short for that) so the bench compares them on the same sockets and data;
    // and a structured `sync tick` line at info level.
    SYNC_FANOUT: z
      .string()
      .default("fast")
      .transform((v) => (v === "alternate" ? "fast,naive" : v).split(",").map((s) => s.trim()))
      .pipe(z.array(z.enum(FANOUT_MODES)).min(1)),
    SYNC_METRICS: bool.optional(),
  })
  .refine((e) => e.NODE_ENV !== "production" || e.BETTER_AUTH_SECRET, {
    message: "BETTER_AUTH_SECRET (32+ characters) is required when NODE_ENV=production",
    path: ["BETTER_AUTH_SECRET"],
  })
  .refine((e) => !e.ADMIN_EMAIL === !e.ADMIN_PASSWORD, {
    message: "ADMIN_EMAIL and ADMIN_PASSWORD go together",
    path: ["ADMIN_PASSWORD"],
  });

export type Config = ReturnType<typeof toConfig>;

function toConfig(e: z.infer<typeof envSchema>) {
  const publicUrl = e.BETTER_AUTH_URL ?? `http://localhost:${e.PORT || 3001}`;
  const embedded = !e.DATABASE_URL;
  return {
    env: e.NODE_ENV,
    port: e.PORT,
    host: e.HOST,
    logLevel: e.LOG_LEVEL,
    heapGrowingPercent: e.HEAP_GROWING_PERCENT,
    publicUrl,
    database: { url: e.DATABASE_URL, poolSize: e.DATABASE_POOL_SIZE, dataDir: e.DATA_DIR },
    auth: {
      secret: e.BETTER_AUTH_SECRET ?? DEV_SECRET,
      usesDevSecret: !e.BETTER_AUTH_SECRET,
      rateLimit: e.AUTH_RATE_LIMIT ?? e.NODE_ENV === "production",
      apiKeyRateLimit: { max: e.API_KEY_RATE_LIMIT_MAX, windowMs: e.API_KEY_RATE_LIMIT_WINDOW_MS },
    },
    /** Behind a reverse proxy: take the client address from `x-forwarded-for`. */
    trustProxy: e.TRUST_PROXY,
    allowedOrigins: e.ALLOWED_ORIGINS ?? [new URL(publicUrl).origin, "http://localhost:3000"],
    admin:
      e.ADMIN_EMAIL && e.ADMIN_PASSWORD ? { email: e.ADMIN_EMAIL, password: e.ADMIN_PASSWORD } : undefined,
    // The embedded database is for trying the panel out, so it starts with demo data.
    seedDemo: e.SEED_DEMO ?? embedded,
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
      fanout: e.SYNC_FANOUT,
      tickMetrics: e.SYNC_METRICS ?? false,
    },
  };
}

/** Reads and validates configuration once; the only place that looks at the environment. */
export function loadConfig(source: Record<string, string | undefined> = process.env): Config {
  const cleaned = Object.fromEntries(Object.entries(source).filter(([, v]) => v !== ""));
  const parsed = envSchema.safeParse(cleaned);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `  ${i.path.join(".")}: ${i.message}`);
    throw new Error(`Invalid configuration:\n${problems.join("\n")}`);
  }
  return toConfig(parsed.data);
}
