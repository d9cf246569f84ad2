import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { z } from "@hono/zod-openapi";
import type { AppDeps } from "../http/context.ts";
import { defineRoute, json, router } from "../http/define-route.ts";
import type { OpenApiDocument } from "../openapi/index.ts";
import { buildWebsocketDoc, renderWebsocketHtml, type WebsocketDoc } from "../openapi/websocket.ts";

/** The docs pages run only scripts served from here (no CDN, works offline); styles may be inline. */
const DOCS_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'none'",
].join("; ");

const REFERENCE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Game Panel API reference</title>
<link rel="stylesheet" href="/api/docs/assets/swagger-ui.css">
</head>
<body>
<div id="reference"></div>
<script src="/api/docs/assets/swagger-ui-bundle.js"></script>
<script src="/api/docs/assets/init.js"></script>
</body>
</html>`;

const INIT_SCRIPT = `window.ui = SwaggerUIBundle({ url: "/api/openapi.json", dom_id: "#reference", deepLinking: true });`;

/** The pinned swagger-ui-dist files the reference page loads, read once on first request. */
const ASSETS = {
  "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
  "swagger-ui.css": "text/css; charset=utf-8",
} as const;
type AssetName = keyof typeof ASSETS;

function assetLoader() {
  const root = dirname(createRequire(import.meta.url).resolve("swagger-ui-dist/package.json"));
  const cache = new Map<AssetName, Promise<Buffer>>();
  return (name: AssetName) => {
    let file = cache.get(name);
    if (!file) {
      file = readFile(join(root, name));
      cache.set(name, file);
    }
    return file;
  };
}

const isAsset = (name: string): name is AssetName => Object.hasOwn(ASSETS, name);

const jsonObject = z.record(z.string(), z.unknown());
const text = (contentType: string, description: string) => ({
  description,
  content: { [contentType]: { schema: z.string() } },
});

function declarations(deps: AppDeps) {
  const route = (
    path: string,
    summary: string,
    responses: Parameters<typeof defineRoute>[1]["responses"],
    extra: { description?: string } = {},
  ) =>
    defineRoute(deps, {
      method: "get",
      path,
      summary,
      tags: ["Docs"],
      access: "public",
      responses,
      ...extra,
    });
  return {
    document: route("/openapi.json", "This OpenAPI document", {
      200: json(jsonObject, "The OpenAPI 3.1 document."),
    }),
    reference: route("/docs", "API reference (HTML)", {
      200: text("text/html", "This document, rendered (swagger-ui)."),
    }),
    init: route("/docs/assets/init.js", "The reference page's start-up script", {
      200: text("text/javascript", "JavaScript."),
    }),
    asset: defineRoute(deps, {
      method: "get",
      path: "/docs/assets/{name}",
      summary: "The reference page's swagger-ui files",
      tags: ["Docs"],
      access: "public",
      request: { params: z.object({ name: z.string().openapi({ description: "The file's name." }) }) },
      responses: {
        200: text("text/css", "`swagger-ui.css` (CSS) or `swagger-ui-bundle.js` (JavaScript)."),
        404: json(z.object({ error: z.string() }), "No such file."),
      },
    }),
    websocket: route(
      "/docs/websocket",
      "WebSocket protocol (HTML)",
      { 200: text("text/html", "An HTML page.") },
      {
        description:
          "Every client→server and server→client message with its JSON Schema and an example, the error strings, close codes, auth flows and timings; generated from `@panel/protocol`.",
      },
    ),
    websocketJson: route(
      "/docs/websocket.json",
      "WebSocket protocol (JSON)",
      { 200: json(jsonObject, "The protocol description.") },
      { description: "The same as `/api/docs/websocket`, as JSON." },
    ),
  };
}

/**
 * `/api/openapi.json` (from `document`, built once on first request), its rendered reference at
 * `/api/docs` (swagger-ui, served from this API at a pinned version), and the WebSocket protocol
 * at `/api/docs/websocket` (HTML) and `/api/docs/websocket.json`, generated from
 * `@panel/protocol`. Public, like the contract they describe.
 */
export function docsRoutes(deps: AppDeps, document: () => Promise<OpenApiDocument>) {
  let openapi: Promise<OpenApiDocument> | undefined;
  let wsDoc: WebsocketDoc | undefined;
  let wsHtml: string | undefined;
  const websocket = () => {
    wsDoc ??= buildWebsocketDoc(deps.config.realtime);
    return wsDoc;
  };
  const websocketHtml = () => {
    wsHtml ??= renderWebsocketHtml(websocket());
    return wsHtml;
  };
  const asset = assetLoader();
  const routes = declarations(deps);

  return router()
    .openapi(routes.document, async (c) => {
      openapi ??= document().catch((err: unknown) => {
        openapi = undefined; // built again on the next request
        throw err;
      });
      return c.json((await openapi) as unknown as Record<string, unknown>, 200);
    })
    .openapi(routes.reference, (c) => {
      c.header("Content-Security-Policy", DOCS_CSP);
      return c.html(REFERENCE_HTML, 200);
    })
    .openapi(routes.init, (c) => {
      c.header("Content-Type", "text/javascript; charset=utf-8");
      return c.body(INIT_SCRIPT, 200);
    })
    .openapi(routes.asset, async (c) => {
      const { name } = c.req.valid("param");
      if (!isAsset(name)) return c.json({ error: "Not found" }, 404);
      c.header("Content-Type", ASSETS[name]);
      c.header("Cache-Control", "public, max-age=86400");
      return c.body(new Uint8Array(await asset(name)), 200);
    })
    .openapi(routes.websocket, (c) => {
      c.header("Content-Security-Policy", DOCS_CSP);
      return c.html(websocketHtml(), 200);
    })
    .openapi(routes.websocketJson, (c) => c.json(websocket() as unknown as Record<string, unknown>, 200));
}
