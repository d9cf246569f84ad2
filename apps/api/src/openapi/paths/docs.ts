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
    description: "This document, rendered (swagger-ui, served by the API at a pinned version).",
    tags: ["Docs"],
    access: "public",
    responses: { 200: { description: "An HTML page.", schema: html, contentType: "text/html" } },
  });
  registry.add({
    method: "get",
    path: "/api/docs/assets/init.js",
    summary: "API reference: its start-up script",
    tags: ["Docs"],
    access: "public",
    responses: { 200: { description: "JavaScript.", schema: html, contentType: "text/javascript" } },
  });
  registry.add({
    method: "get",
    path: "/api/docs/assets/{name}",
    summary: "API reference: swagger-ui's files",
    description: "`swagger-ui-bundle.js` and `swagger-ui.css`, from the pinned swagger-ui-dist package.",
    tags: ["Docs"],
    access: "public",
    params: { name: "`swagger-ui-bundle.js` or `swagger-ui.css`." },
    responses: { 200: { description: "The file.", schema: html, contentType: "text/plain" } },
    errors: { 404: "No such file." },
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
