import type { Database, DbHandle } from "@panel/db";
import type { Auth } from "../auth/auth.ts";
import type { Principal } from "../auth/credentials.ts";
import type { Config } from "../env.ts";
import type { Logger } from "../logger.ts";
import type { HubStats } from "../realtime/hub.ts";

/** What route modules are built with. */
export type AppDeps = {
  db: Database;
  dbHandle: DbHandle;
  auth: Auth;
  config: Config;
  logger: Logger;
  realtimeStats?: () => HubStats;
  /** This process's id in shared tables (realtime_instance). */
  instanceId?: string;
};

export type AppEnv = { Variables: { principal: Principal; clientIp: string | null } };
