import { defineConfig } from "tsup";

export default defineConfig({
  entry: { index: "src/index.ts", migrate: "src/cli/migrate.ts", seed: "src/cli/seed.ts" },
  format: "esm",
  platform: "node",
  target: "node20",
  // Workspace packages are TypeScript source, so they are bundled; npm packages stay external
  // (PGlite must: it loads its .wasm and data files from next to its own module).
  noExternal: [/^@panel\//],
  external: ["@electric-sql/pglite", "postgres", "drizzle-orm"],
  sourcemap: true,
  clean: true,
});
