import v8 from "node:v8";
import { loadConfig } from "./env.ts";
import { exitWith, listenProblem, probeListen } from "./listen-errors.ts";
import { createLogger } from "./logger.ts";

const config = loadConfig();
// A socket holds a few KiB, but a connect storm leaves far more garbage; V8's default lets the
// heap grow to several times live memory before collecting it, a cost every host sees as RSS.
if (config.heapGrowingPercent > 0)
  v8.setFlagsFromString(`--heap-growing-percent=${config.heapGrowingPercent}`);
const logger = createLogger(config.logLevel);
const addressProblem = await probeListen(config.host, config.port);
if (addressProblem) exitWith(addressProblem);
// Loaded only now: a busy port is reported without waiting for the whole API to load.
const { startServer } = await import("./server.ts");
const running = await startServer(config, { logger }).catch((err: unknown) => {
  // taken between the probe and the listen
  const problem = listenProblem(err, config.host, config.port);
  if (problem) exitWith(problem);
  throw err;
});

for (const signal of ["SIGTERM", "SIGINT"] as const) {
  process.once(signal, async () => {
    logger.info({ signal }, "shutting down");
    await running.close();
    logger.info("bye");
    process.exit(0);
  });
}
