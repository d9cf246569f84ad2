import {
  authenticationDocs,
  CLIENT_BEHAVIOUR,
  CLIENT_MESSAGE_DOCS,
  type ClientMessage,
  clientMessageSchema,
  LOSING_ACCESS,
  SERVER_MESSAGE_DOCS,
  type ServerMessage,
  serverMessageSchema,
  timingDocs,
  UNSUBSCRIBE_REASONS,
  WS_CLOSE,
  WS_CLOSE_DOCS,
  WS_CLOSE_REASON_DOCS,
  WS_CLOSE_REASONS,
  WS_ENDPOINT,
  WS_ERROR_DOCS,
  WS_ERRORS,
  WS_UPGRADE_ERROR_DOCS,
  WS_UPGRADE_ERRORS,
} from "@panel/protocol";
import { z } from "zod";
import type { Config } from "../env.ts";

/**
 * The WebSocket protocol as data, rendered from the same source as docs/protocol.md: the
 * message types are read off the `clientMessageSchema`/`serverMessageSchema` unions with their
 * JSON Schema, the strings and codes off `WS_ERRORS`/`WS_CLOSE`/`WS_CLOSE_REASONS`/
 * `WS_UPGRADE_ERRORS`, the prose off @panel/protocol's reference, and the numbers off the
 * running configuration (docs/protocol.md shows the defaults).
 */

type ClientType = ClientMessage["type"];
type ServerType = ServerMessage["type"];
type Realtime = Config["realtime"];

/** JSON Schema of one message (the client's as it may send it, the server's as it sends it). */
const schemaOf = (schema: z.ZodType, io: "input" | "output") => {
  const { $schema: _ignored, ...json } = z.toJSONSchema(schema, { io, unrepresentable: "any" });
  return json;
};

const typeOf = (option: { shape: { type: { value: string } } }) => option.shape.type.value;

const entriesOf = <K extends string, V>(record: Record<K, V>) => Object.entries(record) as [K, V][];

export function buildWebsocketDoc(realtime: Realtime) {
  const auth = authenticationDocs(realtime);
  return {
    title: "Game Panel WebSocket protocol",
    endpoint: WS_ENDPOINT.path,
    url: WS_ENDPOINT.url,
    description: `${WS_ENDPOINT.framing} Generated from the shared zod schemas in @panel/protocol.`,
    authentication: auth,
    limits: {
      syncIntervalMs: realtime.syncIntervalMs,
      authTimeoutMs: realtime.authTimeoutMs,
      ticketTtlMs: realtime.ticketTtlMs,
      heartbeatMs: realtime.heartbeatMs,
      maxSubscriptions: realtime.maxSubscriptions,
      rateBurst: realtime.rateBurst,
      ratePerSecond: realtime.ratePerSecond,
      maxPayloadBytes: realtime.maxPayloadBytes,
      maxSocketsPerApiKey: realtime.maxSocketsPerApiKey || null,
    },
    timings: timingDocs(realtime),
    losingAccess: LOSING_ACCESS,
    clientBehaviour: CLIENT_BEHAVIOUR,
    clientMessages: clientMessageSchema.options.map((option) => {
      const type = typeOf(option) as ClientType;
      return { type, ...CLIENT_MESSAGE_DOCS[type], schema: schemaOf(option, "input") };
    }),
    serverMessages: serverMessageSchema.options.map((option) => {
      const type = typeOf(option) as ServerType;
      return { type, ...SERVER_MESSAGE_DOCS[type], schema: schemaOf(option, "output") };
    }),
    errors: entriesOf(WS_ERRORS).map(([key, error]) => ({ key, error, ...WS_ERROR_DOCS[key] })),
    closeCodes: entriesOf(WS_CLOSE).map(([name, code]) => ({ name, code, when: WS_CLOSE_DOCS[name] })),
    closeReasons: entriesOf(WS_CLOSE_REASONS).map(([key, reason]) => ({
      key,
      reason,
      code: WS_CLOSE[WS_CLOSE_REASON_DOCS[key].code],
      when: WS_CLOSE_REASON_DOCS[key].when,
    })),
    upgradeErrors: entriesOf(WS_UPGRADE_ERRORS).map(([key, error]) => ({
      key,
      error,
      ...WS_UPGRADE_ERROR_DOCS[key],
    })),
    unsubscribeReasons: [...UNSUBSCRIBE_REASONS],
  };
}

export type WebsocketDoc = ReturnType<typeof buildWebsocketDoc>;

const escapeHtml = (s: string) =>
  s.replace(
    /[&<>"']/g,
    (ch) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[ch] ?? ch,
  );

/** `code` spans for backticks, everything else escaped. */
const prose = (s: string) =>
  escapeHtml(s).replace(/`([^`]+)`/g, (_, inner: string) => `<code>${inner}</code>`);

const json = (value: unknown) => `<pre><code>${escapeHtml(JSON.stringify(value, null, 2))}</code></pre>`;

function messageSection(
  m: { type: string; description: string; example: unknown; schema: unknown; replies?: string[] },
  direction: "client" | "server",
) {
  const replies = m.replies
    ? `<p>Replies: ${m.replies.map((r) => `<a href="#server-${escapeHtml(r)}"><code>${escapeHtml(r)}</code></a>`).join(", ")}</p>`
    : "";
  return `<section id="${direction}-${escapeHtml(m.type)}" class="message">
<h3><code>${escapeHtml(m.type)}</code></h3>
<p>${prose(m.description)}</p>${replies}
<h4>Example</h4>${json(m.example)}
<details><summary>JSON Schema</summary>${json(m.schema)}</details>
</section>`;
}

export function renderWebsocketHtml(doc: WebsocketDoc): string {
  const rows = (cells: string[][]) =>
    cells.map((c) => `<tr>${c.map((x) => `<td>${x}</td>`).join("")}</tr>`).join("\n");
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(doc.title)}</title>
<style>
body{font:15px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#1d1d1f}
code{font:13px ui-monospace,monospace;background:#f3f3f5;padding:0 .2em;border-radius:3px}
pre{background:#f6f8fa;padding:.75rem;overflow:auto;border-radius:6px}pre code{background:none;padding:0}
table{border-collapse:collapse;width:100%}td,th{border:1px solid #ddd;padding:.35rem .5rem;text-align:left;vertical-align:top}
.message{border-top:1px solid #eee;padding-top:.5rem}nav a{margin-right:1rem}
</style>
</head>
<body>
<nav><a href="/api/docs">REST reference</a><a href="/api/openapi.json">openapi.json</a><a href="/api/docs/websocket.json">websocket.json</a></nav>
<h1>${escapeHtml(doc.title)}</h1>
<p><code>${escapeHtml(doc.url)}</code></p>
<p>${prose(doc.description)}</p>

<h2 id="authentication">Authentication</h2>
<ol>${doc.authentication.flows.map((f) => `<li><strong>${escapeHtml(f.name)}</strong>: ${prose(f.description)}</li>`).join("")}</ol>
<p>${prose(doc.authentication.ticket)}</p>
<p>${prose(doc.authentication.timeout)}</p>
<p>${prose(doc.authentication.origin)}</p>
<h3 id="upgrade-refusals">Upgrade refusals</h3>
<table><thead><tr><th>status</th><th>body</th><th>when</th></tr></thead><tbody>
${rows(doc.upgradeErrors.map((u) => [String(u.status), `<code>${escapeHtml(JSON.stringify({ error: u.error }))}</code>`, prose(u.when)]))}
</tbody></table>

<h2 id="timings">Timings and limits</h2>
<ul>${doc.timings.map((t) => `<li>${prose(t)}</li>`).join("")}</ul>
<p>${prose(doc.clientBehaviour)}</p>

<h2 id="client-messages">Client → server messages</h2>
${doc.clientMessages.map((m) => messageSection(m, "client")).join("\n")}

<h2 id="server-messages">Server → client messages</h2>
${doc.serverMessages.map((m) => messageSection(m, "server")).join("\n")}

<h2 id="errors">Error strings</h2>
<p>Sent as <code>{"type":"error","error":"…"}</code> (or <code>auth_error</code>); clients match on them exactly.</p>
<table><thead><tr><th>error</th><th>sent as</th><th>when</th></tr></thead><tbody>
${rows(doc.errors.map((e) => [`<code>${escapeHtml(e.error)}</code>`, `<code>${e.sentAs}</code>`, prose(e.when)]))}
</tbody></table>

<h2 id="close-codes">Close codes</h2>
<table><thead><tr><th>code</th><th>name</th><th>when</th></tr></thead><tbody>
${rows(doc.closeCodes.map((c) => [`<code>${c.code}</code>`, escapeHtml(c.name), prose(c.when)]))}
</tbody></table>
<h3 id="close-reasons">Close reasons</h3>
<table><thead><tr><th>reason</th><th>code</th><th>when</th></tr></thead><tbody>
${rows(doc.closeReasons.map((r) => [`<code>${escapeHtml(r.reason)}</code>`, `<code>${r.code}</code>`, prose(r.when)]))}
</tbody></table>

<h2 id="losing-access">Losing access</h2>
${doc.losingAccess.map((p) => `<p>${prose(p)}</p>`).join("\n")}
<p>Unsubscribe reasons: ${doc.unsubscribeReasons.map((r) => `<code>${escapeHtml(r)}</code>`).join(", ")}.</p>
</body>
</html>
`;
}
