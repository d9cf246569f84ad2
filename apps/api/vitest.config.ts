import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    globalSetup: ["./test/support/global-setup.ts"],
    include: ["test/**/*.test.ts"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // each file starts its own server; two at a time fits the 2-core machines
    maxWorkers: 2,
    pool: "forks",
    // A worker keeps its loaded modules from one file to the next: importing the API (hono,
    // better-auth, zod-openapi, drizzle) was half the suite's time. Every file still starts its
    // own server on its own data, and module-level caches are keyed by server (WeakMaps).
    isolate: false,
  },
});
