import { CLIENT_MESSAGE_TYPES, type ClientMessage, clientMessageSchema, WS_ERRORS } from "@panel/protocol";
import type { RawData } from "ws";
import { jsonNestsDeeperThan, MAX_JSON_DEPTH, unstorableStringPath } from "../http/hygiene.ts";

export type ParsedMessage = { ok: true; message: ClientMessage } | { ok: false; error: string };

const invalid: ParsedMessage = { ok: false, error: WS_ERRORS.invalidMessage };
const unknownType: ParsedMessage = { ok: false, error: WS_ERRORS.unknownType };

function toText(data: RawData): string {
  if (Buffer.isBuffer(data)) return data.toString("utf8");
  if (Array.isArray(data)) return Buffer.concat(data).toString("utf8");
  return Buffer.from(data).toString("utf8");
}

/** Never throws: every malformed input maps to one of the contract's error strings. */
export function parseClientMessage(data: RawData): ParsedMessage {
  const text = toText(data);
  if (jsonNestsDeeperThan(text, MAX_JSON_DEPTH)) return invalid;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return invalid;
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) return invalid;
  // an id or token with NUL or a lone surrogate could only fail in the database
  if (unstorableStringPath(value)) return invalid;
  const type = (value as { type?: unknown }).type;
  if (typeof type !== "string") return invalid;
  if (!(CLIENT_MESSAGE_TYPES as readonly string[]).includes(type)) return unknownType;
  const parsed = clientMessageSchema.safeParse(value);
  return parsed.success ? { ok: true, message: parsed.data } : invalid;
}
