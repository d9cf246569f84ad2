import { defineConfig } from "drizzle-kit";

// Only `generate` is used: migrations are applied by the app itself (see src/migrate.ts).
export default defineConfig({
  dialect: "postgresql",
  schema: "./src/schema/index.ts",
  out: "../../drizzle",
  casing: "snake_case",
});
