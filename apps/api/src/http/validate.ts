import type { Context } from "hono";
import type { z } from "zod";
import { ApiError, fromZodError } from "./errors.ts";
import { type IdShape, isIdOf } from "./ids.ts";

/** The request's JSON body, validated; 400 naming the field otherwise. */
export async function jsonBody<S extends z.ZodType>(c: Context, schema: S): Promise<z.infer<S>> {
  let body: unknown;
  try {
    body = await c.req.json();
  } catch {
    throw ApiError.badRequest("Request body must be valid JSON", "body");
  }
  const parsed = schema.safeParse(body);
  if (!parsed.success) throw fromZodError(parsed.error, "body");
  return parsed.data;
}

/**
 * The query string, validated; 400 naming the parameter otherwise. An empty parameter
 * (`?status=&limit=`, as forms and the documented URL shape send) counts as not given.
 */
export function queryParams<S extends z.ZodType>(c: Context, schema: S): z.infer<S> {
  const given = Object.fromEntries(Object.entries(c.req.query()).filter(([, value]) => value !== ""));
  const parsed = schema.safeParse(given);
  if (!parsed.success) throw fromZodError(parsed.error, "query");
  return parsed.data;
}

/** A path parameter that must be an id of one kind: 400 naming it otherwise, before any query. */
export function pathId(c: Context, name: string, shape: IdShape): string {
  const value = c.req.param(name) ?? "";
  if (!isIdOf(shape, value)) throw ApiError.badRequest(`${name}: invalid id`, name);
  return value;
}
