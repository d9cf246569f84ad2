export * from "./errors.ts";
export * from "./examples.ts";
export * from "./markdown.ts";
export * from "./messages.ts";
export * from "./reference.ts";
export * from "./server.ts";
