import v8 from "node:v8";
import { loadConfig } from "./env.ts";
import { createLogger } from "./logger.ts";
import { startServer } from "./server.ts";

const config = loadConfig();
// A socket holds a few KiB, but a connect storm leaves far more garbage; V8's default lets the
// heap grow to several times live memory before collecting it, a cost every host sees as RSS.
if (config.heapGrowingPercent > 0)
  v8.setFlagsFromString(`--heap-growing-percent=${config.heapGrowingPercent}`);
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
