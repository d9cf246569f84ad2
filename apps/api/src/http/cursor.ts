import { ApiError } from "./errors.ts";

/** Keyset position (createdAt, id) as an opaque string. */
export type Position = { createdAt: Date; id: string };

export function encodeCursor(p: Position): string {
  return Buffer.from(JSON.stringify([p.createdAt.toISOString(), p.id])).toString("base64url");
}

export function decodeCursor(cursor: string): Position {
  try {
    const [createdAt, id] = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8")) as unknown[];
    const date = new Date(String(createdAt));
    if (typeof id === "string" && typeof createdAt === "string" && !Number.isNaN(date.getTime())) {
      return { createdAt: date, id };
    }
  } catch {
    // fall through
  }
  throw ApiError.badRequest("Invalid cursor", "cursor");
}
