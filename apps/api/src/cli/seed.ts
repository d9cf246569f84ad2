import { createAuth } from "../auth/auth.ts";
import { loadConfig } from "../env.ts";
import { createLogger } from "../logger.ts";
import { seedDemo } from "../seed/demo.ts";
import { openDatabase } from "../server.ts";

const config = loadConfig();
const logger = createLogger(config.logLevel);
if (config.env === "production") {
  logger.fatal("demo data has published passwords and is never seeded when NODE_ENV=production");
  process.exit(1);
}
const handle = await openDatabase(config);
const auth = createAuth(handle.db, config, logger);
await seedDemo(auth, handle.db, logger, config.admin && { ...config.admin, name: "Administrator" });
await handle.close();
