import { loadConfig } from "./env.ts";
import { createLogger } from "./logger.ts";
import { startServer } from "./server.ts";

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
