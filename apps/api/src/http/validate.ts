import type { Context } from "hono";
import type { z } from "zod";
import { ApiError, fromZodError } from "./errors.ts";

/** The request's JSON body, validated; 400 naming the field otherwise. */
export async function jsonBody<S extends z.ZodType>(c: Context, schema: S): Promise<z.infer<S>> {
  let body: unknown;
  try {
    body = await c.req.json();
  } catch {
    throw ApiError.badRequest("Request body must be valid JSON");
  }
  const parsed = schema.safeParse(body);
  if (!parsed.success) throw fromZodError(parsed.error, "body");
  return parsed.data;
}

export function queryParams<S extends z.ZodType>(c: Context, schema: S): z.infer<S> {
  const parsed = schema.safeParse(c.req.query());
  if (!parsed.success) throw fromZodError(parsed.error, "query");
  return parsed.data;
}
