import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { migrate as migratePglite } from "drizzle-orm/pglite/migrator";
import { drizzle } from "drizzle-orm/postgres-js";
import { migrate as migratePostgres } from "drizzle-orm/postgres-js/migrator";
import postgres from "postgres";
import type { DbHandle } from "./client.ts";

/**
 * The committed `drizzle/` folder, found by walking up from this module (source, bundle or
 * container image all keep it at the repository root) or from the working directory.
 */
export function findMigrationsFolder(): string {
  const starts = [dirname(fileURLToPath(import.meta.url)), process.cwd()];
  for (const start of starts) {
    let dir = resolve(start);
    for (;;) {
      const candidate = join(dir, "drizzle");
      if (existsSync(join(candidate, "meta", "_journal.json"))) return candidate;
      const parent = dirname(dir);
      if (parent === dir) break;
      dir = parent;
    }
  }
  throw new Error("drizzle/ migrations folder not found");
}

// Arbitrary constant: every API instance takes the same lock so only one migrates at a time.
const MIGRATION_LOCK = 7_242_001;

export async function runMigrations(handle: DbHandle, migrationsFolder = findMigrationsFolder()) {
  if (!handle.url) {
    await migratePglite(handle.db as never, { migrationsFolder });
    return;
  }
  // An advisory lock belongs to one connection, so migrate over a dedicated one.
  const client = postgres(handle.url, { max: 1, onnotice: () => {} });
  try {
    await client`select pg_advisory_lock(${MIGRATION_LOCK})`;
    await migratePostgres(drizzle({ client }), { migrationsFolder });
  } finally {
    await client.end({ timeout: 5 });
  }
}
