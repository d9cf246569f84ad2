import { createDb, runMigrations } from "@panel/db";
import postgres from "postgres";
import type { TestProject } from "vitest/node";

declare module "vitest" {
  export interface ProvidedContext {
    databaseUrl: string | undefined;
  }
}

/**
 * With DATABASE_URL (or TEST_DATABASE_URL) set, the suite runs on a fresh PostgreSQL database
 * made for this run and dropped after it; otherwise every test file gets an in-memory PGlite.
 */
export default async function setup(project: TestProject) {
  const baseUrl = process.env.TEST_DATABASE_URL ?? process.env.DATABASE_URL;
  if (!baseUrl) {
    project.provide("databaseUrl", undefined);
    return;
  }
  const name = `panel_test_${process.pid}_${Date.now()}`;
  const admin = postgres(baseUrl, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database "${name}"`);
  const url = new URL(baseUrl);
  url.pathname = `/${name}`;
  const handle = createDb({ url: url.toString(), poolSize: 1 });
  await runMigrations(handle);
  await handle.close();
  project.provide("databaseUrl", url.toString());

  return async () => {
    await admin.unsafe(`drop database if exists "${name}" with (force)`);
    await admin.end();
  };
}
