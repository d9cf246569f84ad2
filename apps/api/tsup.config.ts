import { defineConfig } from "tsup";

export default defineConfig({
  entry: { index: "src/index.ts", migrate: "src/cli/migrate.ts", seed: "src/cli/seed.ts" },
  format: "esm",
  platform: "node",
  target: "node20",
  // workspace packages are TypeScript source: bundle them; npm dependencies stay external
  noExternal: [/^@panel\//],
  sourcemap: true,
  clean: true,
});
