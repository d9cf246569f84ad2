import { locations, newId } from "@panel/db";
import { Hono } from "hono";
import { z } from "zod";
import type { AppDeps, AppEnv } from "../../http/context.ts";
import { jsonBody } from "../../http/validate.ts";

export const nameSchema = z.string().trim().min(1).max(100);
const createLocationSchema = z.object({ name: nameSchema });

export function adminLocationRoutes(deps: AppDeps) {
  return new Hono<AppEnv>().post("/", async (c) => {
    const { name } = await jsonBody(c, createLocationSchema);
    const [created] = await deps.db
      .insert(locations)
      .values({ id: newId("location"), name })
      .returning({ id: locations.id, name: locations.name });
    return c.json(created, 201);
  });
}
