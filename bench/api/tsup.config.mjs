// Run from apps/api (bench/run.mjs does), so the API's dependencies stay external as in its
// own build and resolve from apps/api/node_modules, next to which the bundle is written.
/** @type {import("tsup").Options} */
export default {
  entry: { "bench-api": "../../bench/api/entry.ts" },
  outDir: "node_modules/.cache/panel-bench",
  format: "esm",
  platform: "node",
  target: "node20",
  noExternal: [/^@panel\//],
  external: ["@electric-sql/pglite", "postgres", "drizzle-orm"],
  sourcemap: true,
  clean: true,
};
