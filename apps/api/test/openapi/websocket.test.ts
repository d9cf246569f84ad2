import {
  clientMessageSchema,
  serverMessageSchema,
  UNSUBSCRIBE_REASONS,
  WS_CLOSE,
  WS_CLOSE_REASONS,
  WS_ERRORS,
  WS_UPGRADE_ERRORS,
} from "@panel/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { WebsocketDoc } from "../../src/openapi/websocket.ts";
import type { RunningServer } from "../../src/server.ts";
import { request } from "../support/factories.ts";
import { startTestServer } from "../support/server.ts";

const clientTypes = clientMessageSchema.options.map((o) => o.shape.type.value);
const serverTypes = serverMessageSchema.options.map((o) => o.shape.type.value);
const escapeHtml = (s: string) =>
  s.replace(
    /[&<>"']/g,
    (ch) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[ch] ?? ch,
  );

let srv: RunningServer;
let html: string;
let doc: WebsocketDoc;

beforeAll(async () => {
  srv = await startTestServer({ env: { WS_MAX_SUBSCRIPTIONS: "42" } });
  const page = await request(srv, "/api/docs/websocket");
  expect(page.status).toBe(200);
  expect(page.headers.get("content-type")).toMatch(/^text\/html/);
  html = await page.text();
  const json = await request(srv, "/api/docs/websocket.json");
  expect(json.status).toBe(200);
  doc = (await json.json()) as WebsocketDoc;
});
afterAll(() => srv.close());

describe("GET /api/docs/websocket", () => {
  it("lists every client -> server and server -> client message type", () => {
    expect(clientTypes.length).toBeGreaterThan(0);
    for (const type of [...clientTypes, ...serverTypes]) {
      expect(html, type).toContain(`<code>${escapeHtml(type)}</code>`);
    }
  });

  it("lists every error string and close code", () => {
    for (const error of Object.values(WS_ERRORS)) expect(html, error).toContain(escapeHtml(error));
    for (const code of Object.values(WS_CLOSE)) expect(html, String(code)).toContain(`<code>${code}</code>`);
    for (const reason of UNSUBSCRIBE_REASONS) expect(html).toContain(reason);
    for (const reason of Object.values(WS_CLOSE_REASONS)) expect(html, reason).toContain(escapeHtml(reason));
    for (const error of Object.values(WS_UPGRADE_ERRORS)) expect(html, error).toContain(escapeHtml(error));
  });

  it("describes the three ways to authenticate and the timings, from the running config", () => {
    expect(html).toContain("?token=");
    expect(html).toContain("auth_success");
    expect(html).toContain("10 s");
    expect(html).toContain("At most 42 subscriptions");
  });
});

describe("GET /api/docs/websocket.json", () => {
  it("has every message type, with a JSON Schema and an example the real schema accepts", () => {
    expect(doc.clientMessages.map((m) => m.type)).toEqual(clientTypes);
    expect(doc.serverMessages.map((m) => m.type)).toEqual(serverTypes);
    for (const m of doc.clientMessages) {
      expect(m.schema, m.type).toMatchObject({ type: "object", properties: { type: { const: m.type } } });
      expect(clientMessageSchema.parse(m.example).type).toBe(m.type);
      for (const reply of m.replies) expect(serverTypes).toContain(reply);
    }
    for (const m of doc.serverMessages) {
      expect(m.schema, m.type).toMatchObject({ type: "object", properties: { type: { const: m.type } } });
      expect(serverMessageSchema.parse(m.example).type).toBe(m.type);
    }
  });

  it("has every WS_ERRORS string and WS_CLOSE code", () => {
    expect(doc.errors.map((e) => e.error)).toEqual(Object.values(WS_ERRORS));
    expect(doc.closeCodes.map((c) => c.code)).toEqual(Object.values(WS_CLOSE));
    expect(doc.closeReasons.map((r) => r.reason)).toEqual(Object.values(WS_CLOSE_REASONS));
    expect(doc.upgradeErrors.map((u) => u.error)).toEqual(Object.values(WS_UPGRADE_ERRORS));
    expect(doc.limits).toMatchObject({ maxSubscriptions: 42, syncIntervalMs: 5000, authTimeoutMs: 10_000 });
  });
});
