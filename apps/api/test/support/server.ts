import type { Logger as DrizzleLogger } from "drizzle-orm";
import { inject } from "vitest";
import { loadConfig } from "../../src/env.ts";
import { createLogger, type Logger } from "../../src/logger.ts";
import { type RunningServer, startServer } from "../../src/server.ts";

/** The browser origin test servers allow; cookie requests from the test "browser" carry it. */
export const TEST_ORIGIN = "http://dashboard.test";

export const usesPostgres = () => inject("databaseUrl") !== undefined;

export type TestServerOptions = {
  env?: Record<string, string>;
  queryLogger?: DrizzleLogger;
  /** Off by default: tests call `srv.sync.tick()` themselves unless they test the timer. */
  syncLoop?: boolean;
  databaseUrl?: string;
  /** Defaults to one at `TEST_LOG_LEVEL` (silent); tests that assert on log lines pass their own. */
  logger?: Logger;
};

/** The real API (HTTP + WebSocket + sync) on port 0, on the run's database. */
export async function startTestServer(options: TestServerOptions = {}): Promise<RunningServer> {
  const databaseUrl = options.databaseUrl ?? inject("databaseUrl");
  const config = loadConfig({
    NODE_ENV: "test",
    PORT: "0",
    HOST: "127.0.0.1",
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? "silent",
    DATA_DIR: "memory://",
    SEED_DEMO: "false",
    DATABASE_POOL_SIZE: "4",
    BETTER_AUTH_SECRET: "test-secret-test-secret-test-secret-42",
    BETTER_AUTH_URL: "http://127.0.0.1:3001",
    ALLOWED_ORIGINS: TEST_ORIGIN,
    ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}),
    ...options.env,
  });
  return startServer(config, {
    logger: options.logger ?? createLogger(config.logLevel),
    queryLogger: options.queryLogger,
    startSyncLoop: options.syncLoop ?? false,
  });
}
