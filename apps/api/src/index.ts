import { loadConfig } from "./env.ts";
import { createLogger } from "./logger.ts";
import { startServer } from "./server.ts";

// The heap-growth cap (`--heap-growing-percent`) is a Node flag on the command that starts this
// file (root `start` script, Dockerfile): V8 reads it before the heap exists.
const config = loadConfig();
const logger = createLogger(config.logLevel);
const running = await startServer(config, { logger });

for (const signal of ["SIGTERM", "SIGINT"] as const) {
  process.once(signal, async () => {
    logger.info({ signal }, "shutting down");
    await running.close();
    logger.info("bye");
    process.exit(0);
  });
}
