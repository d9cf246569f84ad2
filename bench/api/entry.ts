/**
 * The API as the bench runs it: the product's startServer with the bench's fan-outs in turn
 * (`--fanout fast,naive`, `alternate`, or one name) and its per-tick probe. Built by
 * bench/run.mjs with bench/api/tsup.config.mjs; the product's entry is apps/api/src/index.ts.
 */
import { loadConfig } from "../../apps/api/src/env.ts";
import { createLogger } from "../../apps/api/src/logger.ts";
import { startServer } from "../../apps/api/src/server.ts";
import { TickProbe } from "./probe.ts";
import { fanoutCycle, parseFanoutNames } from "./strategies.ts";

const at = process.argv.indexOf("--fanout");
const names = parseFanoutNames(at === -1 ? "fast" : (process.argv[at + 1] ?? "fast"));
const config = loadConfig();
const logger = createLogger(config.logLevel);
const probe = new TickProbe(logger);
const running = await startServer(config, { logger, sync: { fanout: fanoutCycle(names), observer: probe } });
probe.hub = running.hub;

for (const signal of ["SIGTERM", "SIGINT"] as const) {
  process.once(signal, async () => {
    await running.close();
    process.exit(0);
  });
}
