import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import { ApiError } from "./errors.ts";

/**
 * Input hygiene for every request, before any route (better-auth's included) sees it: text that
 * PostgreSQL cannot store (NUL; lone UTF-16 surrogates, which `text`/`jsonb` reject) and JSON
 * nested deep enough to hurt a recursive consumer are a 400 naming the field, never a 500.
 */

/** Deeper than any body or message the API accepts (a server with allocations is 3). */
export const MAX_JSON_DEPTH = 32;

const UNSTORABLE = /\0|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const UNSTORABLE_ALL = new RegExp(UNSTORABLE.source, "g");
const UNSTORABLE_MESSAGE = "must not contain NUL or unpaired surrogate characters";

/** True when PostgreSQL can store the string as text and inside jsonb. */
export function isStorableText(value: string): boolean {
  return !UNSTORABLE.test(value);
}

/** Whether `text`'s brackets (outside strings) nest deeper than `max`; a scan, no recursion. */
export function jsonNestsDeeperThan(text: string, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    if (inString) {
      if (ch === 0x5c)
        i++; // backslash: skip the escaped character
      else if (ch === 0x22) inString = false;
    } else if (ch === 0x22) inString = true;
    else if (ch === 0x5b || ch === 0x7b) {
      if (++depth > max) return true;
    } else if (ch === 0x5d || ch === 0x7d) depth--;
  }
  return false;
}

/**
 * The path (`["allocations", "0", "ip"]`) of the first key or string value in a parsed JSON value
 * that PostgreSQL cannot store, or undefined when there is none. `[]` is the value itself.
 */
export function unstorableStringPath(value: unknown): string[] | undefined {
  const stack: { value: unknown; path: string[] }[] = [{ value, path: [] }];
  for (let item = stack.pop(); item; item = stack.pop()) {
    const { value: v, path } = item;
    if (typeof v === "string") {
      if (!isStorableText(v)) return path;
    } else if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i--) stack.push({ value: v[i], path: [...path, String(i)] });
    } else if (v !== null && typeof v === "object") {
      const entries = Object.entries(v);
      // a bad key is named with its bad characters replaced, so the reply can echo it
      for (const [key] of entries)
        if (!isStorableText(key)) return [...path, key.replace(UNSTORABLE_ALL, "\uFFFD")];
      for (let i = entries.length - 1; i >= 0; i--) {
        const [key, child] = entries[i] as [string, unknown];
        stack.push({ value: child, path: [...path, key] });
      }
    }
  }
  return undefined;
}

const unstorable = (field: string) => ApiError.badRequest(`${field}: ${UNSTORABLE_MESSAGE}`, field);
const malformed = (field: string) => ApiError.badRequest(`${field}: malformed percent-encoding`, field);

function decodeComponent(raw: string, field: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    throw malformed(field);
  }
}

function checkPath(pathname: string) {
  for (const segment of pathname.split("/")) {
    if (!isStorableText(decodeComponent(segment, "path"))) throw unstorable("path");
  }
}

/** Query strings and form bodies: `a=1&b=2`, `+` for space. The field named is the parameter. */
function checkPairs(encoded: string, where: string) {
  for (const pair of encoded.split("&")) {
    if (pair === "") continue;
    const cut = pair.indexOf("=");
    const rawKey = (cut === -1 ? pair : pair.slice(0, cut)).replaceAll("+", " ");
    const key = decodeComponent(rawKey, where);
    if (!isStorableText(key)) throw unstorable(where);
    const value = cut === -1 ? "" : decodeComponent(pair.slice(cut + 1).replaceAll("+", " "), key);
    if (!isStorableText(value)) throw unstorable(key);
  }
}

function checkJson(text: string) {
  if (jsonNestsDeeperThan(text, MAX_JSON_DEPTH)) {
    throw ApiError.badRequest(`body: JSON nested deeper than ${MAX_JSON_DEPTH} levels`, "body");
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return; // not JSON: the route (or better-auth) refuses it with its own 400
  }
  const path = unstorableStringPath(parsed);
  if (path) throw unstorable(path.length > 0 ? path.join(".") : "body");
}

const BODYLESS_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

/** Reads the body once; the route reads it again from Hono's cache or a rebuilt raw request. */
async function checkBody(c: Context) {
  if (BODYLESS_METHODS.has(c.req.method) || !c.req.raw.body) return;
  const type = (c.req.header("content-type") ?? "").toLowerCase();
  if (type.startsWith("multipart/")) return; // no route takes uploads; never decode them as text
  let text: string;
  try {
    text = await c.req.text();
  } catch {
    throw ApiError.badRequest("Request body could not be read", "body");
  }
  // better-auth's handler reads `c.req.raw`, whose stream this has used up
  c.req.raw = new Request(c.req.raw, { body: text });
  if (text === "") return;
  if (type.startsWith("application/x-www-form-urlencoded")) checkPairs(text, "body");
  else checkJson(text);
}

/** 400 with the field named for a path, query string or body PostgreSQL could not take. */
export const inputHygiene = () =>
  createMiddleware(async (c, next) => {
    const url = new URL(c.req.url);
    checkPath(url.pathname);
    checkPairs(url.search.slice(1), "query");
    await checkBody(c);
    await next();
  });
