import { type Config, ConfigError, loadConfig } from "./env.ts";
import { exitWith, listenProblem, probeListen } from "./listen-errors.ts";
import { createLogger } from "./logger.ts";

// The heap-growth cap (`--heap-growing-percent`) is a Node flag on the command that starts this
// file (root `start` script, Dockerfile): V8 reads it before the heap exists.
function configOrExit(): Config {
  try {
    return loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) exitWith(err.message);
    throw err;
  }
}

const config = configOrExit();
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
