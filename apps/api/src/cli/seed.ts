import { createAuth } from "../auth/auth.ts";
import { loadConfig } from "../env.ts";
import { createLogger } from "../logger.ts";
import { seedDemo } from "../seed/demo.ts";
import { openDatabase } from "../server.ts";

const config = loadConfig();
const logger = createLogger(config.logLevel);
const handle = await openDatabase(config);
const auth = createAuth(handle.db, config, logger);
await seedDemo(auth, handle.db, logger, config.admin && { ...config.admin, name: "Administrator" });
await handle.close();
