import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { Hono } from "hono";
import type { AppDeps } from "../http/context.ts";
import { openApiDocument } from "../openapi/index.ts";
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

/**
 * `/api/openapi.json`, its rendered reference at `/api/docs` (swagger-ui, served from this API
 * at a pinned version), and the WebSocket protocol at `/api/docs/websocket` (HTML) and
 * `/api/docs/websocket.json`, generated from `@panel/protocol`. Public, like the contract they
 * describe. Built once, on first request.
 */
export function docsRoutes(deps: AppDeps) {
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

  return new Hono()
    .get("/openapi.json", (c) => c.json(openApiDocument()))
    .get("/docs", (c) => {
      c.header("Content-Security-Policy", DOCS_CSP);
      return c.html(REFERENCE_HTML);
    })
    .get("/docs/assets/init.js", (c) => {
      c.header("Content-Type", "text/javascript; charset=utf-8");
      return c.body(INIT_SCRIPT);
    })
    .get("/docs/assets/:name", async (c) => {
      const name = c.req.param("name");
      if (!isAsset(name)) return c.json({ error: "Not found" }, 404);
      c.header("Content-Type", ASSETS[name]);
      c.header("Cache-Control", "public, max-age=86400");
      return c.body(new Uint8Array(await asset(name)));
    })
    .get("/docs/websocket", (c) => {
      c.header("Content-Security-Policy", DOCS_CSP);
      return c.html(websocketHtml());
    })
    .get("/docs/websocket.json", (c) => c.json(websocket()));
}
