import { loadConfig } from "../env.ts";
import { createLogger } from "../logger.ts";
import { openDatabase } from "../server.ts";

const config = loadConfig();
const logger = createLogger(config.logLevel);
const handle = await openDatabase(config);
logger.info({ database: handle.kind }, "migrations applied");
await handle.close();
