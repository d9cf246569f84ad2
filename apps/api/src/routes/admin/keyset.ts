import { z } from "@hono/zod-openapi";
import { ApiError } from "../../http/errors.ts";
import { isStorableText } from "../../http/hygiene.ts";

/**
 * Opaque keyset cursors: base64url JSON of `[tag, ...position]`. The tag names the ordering the
 * cursor belongs to, so a cursor minted for one sort is refused (400) under another.
 */
export function encodeKeyset(tag: string, position: readonly (string | number)[]): string {
  return Buffer.from(JSON.stringify([tag, ...position])).toString("base64url");
}

export function decodeKeyset(cursor: string, tag: string, shape: readonly ("string" | "date" | "int")[]) {
  let parts: unknown;
  try {
    parts = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
  } catch {
    parts = null;
  }
  if (!Array.isArray(parts) || parts.length !== shape.length + 1 || parts[0] !== tag) {
    throw ApiError.badRequest("Invalid cursor", "cursor");
  }
  return shape.map((kind, i) => {
    const v = parts[i + 1];
    if (kind === "int" && Number.isSafeInteger(v)) return v as number;
    // a cursor is client input like any other: its strings go into the query
    if (kind === "string" && typeof v === "string" && isStorableText(v)) return v;
    if (kind === "date" && typeof v === "string") {
      const iso = isoDate(v);
      if (iso) return iso;
    }
    throw ApiError.badRequest("Invalid cursor", "cursor");
  });
}

/** A date PostgreSQL's timestamptz takes (years 0000–9999, as ISO-8601), or undefined. */
function isoDate(value: string): string | undefined {
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) return undefined;
  const iso = date.toISOString();
  return /^\d{4}-/.test(iso) ? iso : undefined;
}

/** `limit` as a query parameter: plain decimal digits only (no "1e1", "0x10" or " 10"), then 1..max. */
export const limitParam = (max = 100, fallback = 50) =>
  z
    .string()
    .regex(/^\d{1,6}$/, "must be a whole number")
    .transform(Number)
    .pipe(z.number().int().min(1).max(max))
    .default(fallback)
    .openapi({ description: `Page size, 1–${max} (default ${fallback}).`, type: "string" });

/**
 * `cursor` as a query parameter, the one bound for every keyset listing: long enough for the
 * longest cursor any listing mints (a 100-character name of escaped control characters is
 * 600 bytes of JSON, some 850 characters of base64url).
 */
export const cursorParam = z
  .string()
  .max(1024)
  .optional()
  .openapi({ description: "The `nextCursor` of the previous page." });
export const idParam = z.string().min(1).max(128);

/** `%search%` for `ILIKE`, with the pattern characters of `search` itself escaped. */
export const containsPattern = (search: string) => `%${search.replace(/[\\%_]/g, (ch) => `\\${ch}`)}%`;

/** A page of `limit + 1` fetched rows: the page itself and whether there is more. */
export function pageOf<T>(rows: T[], limit: number, cursorOf: (last: T) => string) {
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  return { page, nextCursor: rows.length > limit && last ? cursorOf(last) : null };
}
