import { z } from "zod";
import { UNSUBSCRIBE_REASONS, WS_CLOSE, WS_CLOSE_REASONS, WS_ERRORS, WS_UPGRADE_ERRORS } from "./errors.ts";
import { serverSnapshotExample } from "./examples.ts";
import { clientMessageSchema, serverMessageSchema } from "./messages.ts";
import {
  authenticationDocs,
  CLIENT_BEHAVIOUR,
  CLIENT_MESSAGE_DOCS,
  LOSING_ACCESS,
  PROTOCOL_DEFAULTS,
  type ProtocolLimits,
  SERVER_FIELD_NOTES,
  SERVER_MESSAGE_DOCS,
  timingDocs,
  WS_CLOSE_DOCS,
  WS_CLOSE_REASON_DOCS,
  WS_ENDPOINT,
  WS_ERROR_DOCS,
  WS_UPGRADE_ERROR_DOCS,
} from "./reference.ts";
import {
  allocationSchema,
  blueprintSchema,
  locationSchema,
  nodeSchema,
  serverSnapshotSchema,
} from "./server.ts";

/** The command that rewrites docs/protocol.md; the staleness test prints it. */
export const PROTOCOL_DOC_COMMAND = "pnpm --filter @panel/protocol docs";

type JsonSchema = {
  type?: string | string[];
  const?: unknown;
  enum?: unknown[];
  format?: string;
  minLength?: number;
  maxLength?: number;
  items?: JsonSchema;
  properties?: Record<string, JsonSchema>;
  required?: string[];
};

/** Objects with their own table below: a field holding one links there instead of nesting. */
const NAMED_OBJECTS = new Map<z.ZodType, { title: string; anchor: string }>([
  [serverSnapshotSchema, { title: "server object", anchor: "the-server-object" }],
  [nodeSchema, { title: "node", anchor: "node" }],
  [locationSchema, { title: "location", anchor: "location" }],
  [allocationSchema, { title: "allocation", anchor: "allocation" }],
  [blueprintSchema, { title: "blueprint", anchor: "blueprint" }],
]);

const code = (s: string) => `\`${s}\``;
const cell = (s: string) => s.replace(/\|/g, "\\|").replace(/\n/g, " ");

function table(head: string[], rows: string[][]): string {
  return [
    `| ${head.join(" | ")} |`,
    `| ${head.map(() => "---").join(" | ")} |`,
    ...rows.map((r) => `| ${r.map(cell).join(" | ")} |`),
  ].join("\n");
}

function typeLabel(s: JsonSchema): string {
  if (s.const !== undefined) return code(JSON.stringify(s.const));
  if (s.enum) return s.enum.map((v) => code(JSON.stringify(v))).join(" | ");
  if (Array.isArray(s.type)) return s.type.map((t) => typeLabel({ ...s, type: t })).join(" | ");
  if (s.type === "array") return `${s.items ? typeLabel(s.items) : "any"}[]`;
  if (s.type === "integer") return "integer";
  if (s.type === "string") {
    if (s.format === "date-time") return "string (date-time)";
    if (s.maxLength !== undefined) {
      return s.minLength ? `string (${s.minLength}–${s.maxLength} chars)` : `string (≤ ${s.maxLength} chars)`;
    }
  }
  return s.type ?? "any";
}

function fieldType(field: z.ZodType, json: JsonSchema): string {
  const inner = field instanceof z.ZodOptional ? (field.unwrap() as z.ZodType) : field;
  const named = NAMED_OBJECTS.get(inner);
  if (named) return `[${named.title}](#${named.anchor})`;
  if (inner instanceof z.ZodArray) {
    const element = NAMED_OBJECTS.get(inner.element as z.ZodType);
    if (element) return `[${element.title}](#${element.anchor})[]`;
  }
  return typeLabel(json);
}

/** Message fields whose values are listed elsewhere in the page. */
const MESSAGE_FIELD_NOTES: Record<string, string> = {
  error: "one of the [error strings](#errors)",
  reason: "see [Losing access](#losing-access)",
};

function fieldsTable(schema: z.ZodObject, io: "input" | "output", notes = MESSAGE_FIELD_NOTES) {
  const json = z.toJSONSchema(schema, { io, unrepresentable: "any" }) as JsonSchema;
  const required = new Set(json.required ?? []);
  const rows = Object.entries(schema.shape).map(([name, field]) => [
    code(name),
    fieldType(field as z.ZodType, json.properties?.[name] ?? {}),
    required.has(name) ? "yes" : "no",
    notes[name] ?? "",
  ]);
  return table(["field", "type", "required", "notes"], rows);
}

const typeOf = (option: { shape: { type: { value: string } } }) => option.shape.type.value;
const example = (value: unknown) => ["```json", JSON.stringify(value), "```"].join("\n");

function clientMessagesSection() {
  return clientMessageSchema.options.map((option) => {
    const type = typeOf(option) as keyof typeof CLIENT_MESSAGE_DOCS;
    const doc = CLIENT_MESSAGE_DOCS[type];
    const replies = doc.replies.map((r) => code(r)).join(", ");
    return [
      `### ${code(type)}`,
      doc.description,
      `Replies: ${replies}.`,
      fieldsTable(option, "input"),
      example(doc.example),
    ].join("\n\n");
  });
}

function serverMessagesSection() {
  return serverMessageSchema.options.map((option) => {
    const type = typeOf(option) as keyof typeof SERVER_MESSAGE_DOCS;
    const doc = SERVER_MESSAGE_DOCS[type];
    // server:sync's example is the server object's, shown once in its own section.
    const shown = type === "server:sync" ? { ...doc.example, data: "<server object>" } : doc.example;
    return [`### ${code(type)}`, doc.description, fieldsTable(option, "output"), example(shown)].join("\n\n");
  });
}

function serverObjectSection() {
  const nested = [
    ["node", nodeSchema],
    ["location", locationSchema],
    ["allocation", allocationSchema],
    ["blueprint", blueprintSchema],
  ] as const;
  return [
    "## The server object",
    "The `data` of `server:sync`, and what `GET /api/servers/:id` returns. Numbers are JSON numbers, timestamps ISO-8601 UTC strings; keys come in this order.",
    fieldsTable(serverSnapshotSchema, "output", SERVER_FIELD_NOTES),
    ["```json", JSON.stringify(serverSnapshotExample, null, 2), "```"].join("\n"),
    ...nested.flatMap(([title, schema]) => [`### ${title}`, fieldsTable(schema, "output")]),
  ];
}

/** docs/protocol.md: the WebSocket contract, every table generated from this package. */
export function renderProtocolMarkdown(limits: ProtocolLimits = PROTOCOL_DEFAULTS): string {
  const auth = authenticationDocs(limits);
  const sections = [
    "# WebSocket protocol (`/api/ws`)",
    `<!-- Generated from packages/protocol (src/reference.ts, the zod schemas, the error maps) by \`${PROTOCOL_DOC_COMMAND}\`. Do not edit by hand: apps/api/test/docs/protocol-doc.test.ts fails when this file is stale. -->`,
    `The realtime contract between the panel API and its clients: the messages, error strings, close codes, auth flows and timings, with the defaults of a fresh install. A running API serves the same reference, with its own configuration's numbers, at \`/api/docs/websocket\` (JSON: \`/api/docs/websocket.json\`); the REST routes are at \`/api/docs\`.`,
    "## Contents",
    [
      "Connecting",
      "Authentication",
      "Client messages",
      "Server messages",
      "The server object",
      "Errors",
      "Close codes",
      "Losing access",
      "Timings and limits",
      "Client behaviour",
      "REST",
    ]
      .map((t) => `- [${t}](#${t.toLowerCase().replace(/ /g, "-")})`)
      .join("\n"),
    "## Connecting",
    `${code(WS_ENDPOINT.url)}. ${WS_ENDPOINT.framing}`,
    "## Authentication",
    "A connection authenticates in one of three ways:",
    auth.flows.map((f, i) => `${i + 1}. **${f.name}**: ${f.description}`).join("\n"),
    auth.ticket,
    auth.timeout,
    auth.origin,
    "### Upgrade refusals",
    "Refused before any WebSocket exists: a plain HTTP response with a JSON body.",
    table(
      ["status", "body", "when"],
      Object.entries(WS_UPGRADE_ERRORS).map(([key, error]) => {
        const doc = WS_UPGRADE_ERROR_DOCS[key as keyof typeof WS_UPGRADE_ERRORS];
        return [String(doc.status), code(JSON.stringify({ error })), doc.when];
      }),
    ),
    "## Client messages",
    ...clientMessagesSection(),
    "## Server messages",
    ...serverMessagesSection(),
    ...serverObjectSection(),
    "## Errors",
    'Sent as `{"type":"error","error":"…"}` (the connection stays open) or `{"type":"auth_error","error":"…"}`. Clients match on these strings exactly.',
    table(
      ["error", "sent as", "when"],
      Object.entries(WS_ERRORS).map(([key, error]) => {
        const doc = WS_ERROR_DOCS[key as keyof typeof WS_ERRORS];
        return [code(error), code(doc.sentAs), doc.when];
      }),
    ),
    "## Close codes",
    table(
      ["code", "name", "when"],
      Object.entries(WS_CLOSE).map(([name, value]) => [
        code(String(value)),
        name,
        WS_CLOSE_DOCS[name as keyof typeof WS_CLOSE],
      ]),
    ),
    "### Close reasons",
    "The reason text of every close the server initiates (1009 is sent by the WebSocket library, without a reason).",
    table(
      ["reason", "code", "when"],
      Object.entries(WS_CLOSE_REASONS).map(([key, reason]) => {
        const doc = WS_CLOSE_REASON_DOCS[key as keyof typeof WS_CLOSE_REASONS];
        return [code(reason), code(String(WS_CLOSE[doc.code])), doc.when];
      }),
    ),
    "## Losing access",
    LOSING_ACCESS.join("\n\n"),
    `Unsubscribe reasons: ${UNSUBSCRIBE_REASONS.map(code).join(", ")}.`,
    "## Timings and limits",
    timingDocs(limits)
      .map((t) => `- ${t}`)
      .join("\n"),
    "## Client behaviour",
    CLIENT_BEHAVIOUR,
    "## REST",
    'JSON in and out. Errors are `{"error":"<text>"}` with 400 (bad input, with the field named), 401 (no session/key: `Unauthorized`), 403 (signed in but not allowed), 404, 409 (conflict). Every route, with its auth, request and response schemas, is in the OpenAPI document a running API serves at `/api/openapi.json` (rendered at `/api/docs`).',
  ];
  return `${sections.join("\n\n")}\n`;
}
