import { Scalar } from "@scalar/hono-api-reference";
import { Hono } from "hono";
import type { AppDeps } from "../http/context.ts";
import { openApiDocument } from "../openapi/index.ts";
import { buildWebsocketDoc, renderWebsocketHtml, type WebsocketDoc } from "../openapi/websocket.ts";

/**
 * `/api/openapi.json`, its rendered reference at `/api/docs` (Scalar; the page loads its script
 * from a CDN in the reader's browser), and the WebSocket protocol at `/api/docs/websocket`
 * (HTML) and `/api/docs/websocket.json`, generated from `@panel/protocol`. Public, like the
 * contract they describe. Built once, on first request.
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

  return new Hono()
    .get("/openapi.json", (c) => c.json(openApiDocument()))
    .get(
      "/docs",
      Scalar({
        url: "/api/openapi.json",
        pageTitle: "Game Panel API reference",
      }),
    )
    .get("/docs/websocket", (c) => c.html(websocketHtml()))
    .get("/docs/websocket.json", (c) => c.json(websocket()));
}
