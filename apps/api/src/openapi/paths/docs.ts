import { z } from "zod";
import type { OpenApiRegistry } from "../registry.ts";

const html = z.string();
const jsonObject = z.record(z.string(), z.unknown());

export function registerDocs(registry: OpenApiRegistry) {
  registry.tag("Docs", "This reference, and the WebSocket protocol beside it.");
  registry.add({
    method: "get",
    path: "/api/openapi.json",
    summary: "This OpenAPI document",
    tags: ["Docs"],
    access: "public",
    responses: { 200: { description: "The OpenAPI 3.1 document.", schema: jsonObject } },
  });
  registry.add({
    method: "get",
    path: "/api/docs",
    summary: "API reference (HTML)",
    description: "This document, rendered (Scalar).",
    tags: ["Docs"],
    access: "public",
    responses: { 200: { description: "An HTML page.", schema: html, contentType: "text/html" } },
  });
  registry.add({
    method: "get",
    path: "/api/docs/websocket",
    summary: "WebSocket protocol (HTML)",
    description:
      "Every client→server and server→client message with its JSON Schema and an example, the error strings, close codes, auth flows and timings; generated from `@panel/protocol`.",
    tags: ["Docs"],
    access: "public",
    responses: { 200: { description: "An HTML page.", schema: html, contentType: "text/html" } },
  });
  registry.add({
    method: "get",
    path: "/api/docs/websocket.json",
    summary: "WebSocket protocol (JSON)",
    description: "The same as `/api/docs/websocket`, as JSON.",
    tags: ["Docs"],
    access: "public",
    responses: { 200: { description: "The protocol description.", schema: jsonObject } },
  });
}
