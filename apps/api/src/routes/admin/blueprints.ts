import { blueprints, newId } from "@panel/db";
import { Hono } from "hono";
import { z } from "zod";
import type { AppDeps, AppEnv } from "../../http/context.ts";
import { jsonBody } from "../../http/validate.ts";
import { nameSchema } from "./locations.ts";

const createBlueprintSchema = z.object({ name: nameSchema });

export function adminBlueprintRoutes(deps: AppDeps) {
  return new Hono<AppEnv>().post("/", async (c) => {
    const { name } = await jsonBody(c, createBlueprintSchema);
    const [created] = await deps.db
      .insert(blueprints)
      .values({ id: newId("blueprint"), name })
      .returning({ id: blueprints.id, name: blueprints.name });
    return c.json(created, 201);
  });
}
