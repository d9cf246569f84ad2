export * from "./audit.ts";
export * from "./auth.ts";
export * from "./panel.ts";
export * from "./realtime.ts";
export * from "./relations.ts";
