export * from "./auth.ts";
export * from "./panel.ts";
export * from "./relations.ts";
