import { mkdirSync } from "node:fs";
import { PGlite } from "@electric-sql/pglite";
import type { Logger } from "drizzle-orm";
import { drizzle as drizzlePglite } from "drizzle-orm/pglite";
import { drizzle as drizzlePostgres } from "drizzle-orm/postgres-js";
import postgres from "postgres";
import * as schema from "./schema/index.ts";

export type DbOptions = {
  /** PostgreSQL connection string; without it an embedded PGlite database is used. */
  url?: string | undefined;
  /** Where PGlite keeps its files; `memory://` keeps nothing. */
  dataDir?: string | undefined;
  poolSize?: number | undefined;
  /** Sees every query drizzle sends (tests count the sync's queries with it). */
  logger?: Logger | undefined;
};

function createPostgresDb(url: string, options: DbOptions) {
  const client = postgres(url, {
    max: options.poolSize ?? 10,
    onnotice: () => {},
    // a dropped connection is retried by the pool; fail fast instead of hanging requests
    connect_timeout: 5,
  });
  const db = drizzlePostgres({ client, schema, casing: "snake_case", logger: options.logger });
  return { db, kind: "postgres" as const, url, close: () => client.end({ timeout: 5 }) };
}

function createPgliteDb(options: DbOptions) {
  const dataDir = options.dataDir ?? "memory://";
  if (!dataDir.startsWith("memory://")) mkdirSync(dataDir, { recursive: true });
  const client = new PGlite(dataDir);
  const db = drizzlePglite({ client, schema, casing: "snake_case", logger: options.logger });
  return { db, kind: "pglite" as const, url: undefined, close: () => client.close() };
}

/** The one way the app opens its database: postgres.js for a URL, PGlite otherwise. */
export function createDb(options: DbOptions = {}) {
  const handle = options.url ? createPostgresDb(options.url, options) : createPgliteDb(options);
  // Both drivers speak the same drizzle pg dialect; callers see one database type.
  return handle as {
    db: Database;
    kind: "postgres" | "pglite";
    url: string | undefined;
    close: () => Promise<void>;
  };
}

export type Database = ReturnType<typeof createPostgresDb>["db"];
export type DbHandle = ReturnType<typeof createDb>;
export type Transaction = Parameters<Parameters<Database["transaction"]>[0]>[0];
