import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { createAdaptorServer } from "@hono/node-server";
import { createDb, type DbHandle, runMigrations } from "@panel/db";
import type { Logger as DrizzleLogger } from "drizzle-orm";
import { createApp } from "./app.ts";
import { ApiKeySockets } from "./auth/api-key-sockets.ts";
import { createAuth } from "./auth/auth.ts";
import { ensureAdmin } from "./auth/bootstrap.ts";
import type { Principal } from "./auth/credentials.ts";
import { redeemTickets } from "./auth/tickets.ts";
import type { Config } from "./env.ts";
import { createLogger, type Logger } from "./logger.ts";
import { BatchLoader } from "./realtime/batch-loader.ts";
import type { Connection } from "./realtime/connection.ts";
import { Gateway } from "./realtime/gateway.ts";
import { Hub } from "./realtime/hub.ts";
import { removeInstanceStats } from "./realtime/instance-stats.ts";
import { SyncLoop, type SyncLoopOptions } from "./realtime/sync-loop.ts";
import { seedDemo } from "./seed/demo.ts";
import { loadServerRows, type ServerRow } from "./servers/snapshots.ts";

export type StartOptions = {
  logger?: Logger;
  /** Sees every SQL statement (tests count the sync's queries). */
  queryLogger?: DrizzleLogger;
  /** Tests drive ticks themselves. */
  startSyncLoop?: boolean;
  /** The bench's seam: its reference fan-outs and per-tick probes (SyncLoopOptions). */
  sync?: SyncLoopOptions;
};

/** A per-key socket row not refreshed for this many sync periods belongs to a dead instance. */
const KEY_SOCKET_STALE_PERIODS = 3;

/** Where to point a browser: the public URL, with the bound port when PORT=0 let the OS pick it. */
function urlToOpen(config: Config, port: number) {
  const url = new URL(config.publicUrl);
  if (config.port === 0) url.port = String(port);
  return url.href.replace(/\/$/, "");
}

export async function openDatabase(config: Config, queryLogger?: DrizzleLogger): Promise<DbHandle> {
  const handle = createDb({ ...config.database, logger: queryLogger });
  await runMigrations(handle);
  return handle;
}

/**
 * The whole API: migrations, bootstrap admin, demo seed, HTTP, WebSocket upgrades and the
 * sync loop. Returns handles for tests and for graceful shutdown.
 */
export async function startServer(config: Config, options: StartOptions = {}) {
  const logger = options.logger ?? createLogger(config.logLevel);
  if (config.auth.usesDevSecret) logger.warn("BETTER_AUTH_SECRET is not set: using the development secret");
  const dbHandle = await openDatabase(config, options.queryLogger);
  const { db } = dbHandle;
  const auth = createAuth(db, config, logger);
  await ensureAdmin(auth, db, logger, config.admin);
  if (config.seedDemo)
    await seedDemo(auth, db, logger, config.admin && { ...config.admin, name: "Administrator" });

  const hub = new Hub();
  const { instanceId } = hub;
  const keySockets = new ApiKeySockets<Connection>({
    db,
    instanceId,
    maxPerKey: config.realtime.maxSocketsPerApiKey,
    staleMs: KEY_SOCKET_STALE_PERIODS * config.realtime.syncIntervalMs,
  });
  await keySockets.deleteStale();

  const serverRows = new BatchLoader<ServerRow>(async (ids) => {
    const rows = await loadServerRows(db, ids);
    return new Map(rows.map((r) => [r.id, r]));
  });
  const tickets = new BatchLoader<Principal>((tokens) => redeemTickets(db, config.auth.secret, tokens), {
    shareDuplicates: false,
  });
  const gateway = new Gateway({ hub, db, auth, config, logger, serverRows, tickets, keySockets });
  const sync = new SyncLoop(hub, db, config.realtime, logger, keySockets, options.sync);
  const app = createApp({ db, dbHandle, auth, config, logger, realtimeStats: () => hub.stats(), instanceId });

  const server = createAdaptorServer({ fetch: app.fetch }) as Server;
  server.on("upgrade", gateway.handleUpgrade);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(config.port, config.host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  gateway.start();
  if (options.startSyncLoop !== false) sync.start();
  logger.info({ port, database: dbHandle.kind }, `panel API listening on ${urlToOpen(config, port)}`);

  let closing: Promise<void> | undefined;
  /** Stop accepting, stop syncing, close sockets with 1001, drain HTTP, close the pool. */
  const close = () => {
    closing ??= (async () => {
      const httpClosed = new Promise<void>((resolve) => server.close(() => resolve()));
      await sync.stop();
      await gateway.close();
      await removeInstanceStats(db, instanceId).catch((err) =>
        logger.warn({ err }, "could not remove instance stats"),
      );
      await keySockets.releaseAll().catch((err) => logger.warn({ err }, "could not release API key sockets"));
      server.closeIdleConnections();
      await Promise.race([httpClosed, new Promise((r) => setTimeout(r, 5000).unref())]);
      server.closeAllConnections();
      await dbHandle.close();
    })();
    return closing;
  };

  return {
    app,
    server,
    port,
    url: `http://127.0.0.1:${port}`,
    db,
    dbHandle,
    auth,
    hub,
    gateway,
    sync,
    instanceId,
    keySockets,
    logger,
    close,
  };
}

export type RunningServer = Awaited<ReturnType<typeof startServer>>;
