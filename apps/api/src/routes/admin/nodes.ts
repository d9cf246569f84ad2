import { locations, newId, nodes, randomShortId } from "@panel/db";
import type { NodeView } from "@panel/protocol";
import { eq } from "drizzle-orm";
import { Hono } from "hono";
import { z } from "zod";
import type { AppDeps, AppEnv } from "../../http/context.ts";
import { ApiError } from "../../http/errors.ts";
import { jsonBody } from "../../http/validate.ts";

const port = z.number().int().min(1).max(65535);
const hostname = z
  .string()
  .trim()
  .min(1)
  .max(253)
  .regex(/^[A-Za-z0-9.\-:[\]]+$/, "must be a hostname or IP address");

const createNodeSchema = z.object({
  displayName: z.string().trim().min(1).max(100),
  fqdn: hostname,
  host: hostname,
  port,
  protocol: z.enum(["http", "https"]),
  sftpPort: port,
  daemonPort: port,
  locationId: z.string().min(1).max(128),
});

export function adminNodeRoutes(deps: AppDeps) {
  return new Hono<AppEnv>().post("/", async (c) => {
    const input = await jsonBody(c, createNodeSchema);
    const view = await deps.db.transaction(async (tx) => {
      const [location] = await tx
        .select({ id: locations.id, name: locations.name })
        .from(locations)
        .where(eq(locations.id, input.locationId))
        .for("share");
      if (!location) throw ApiError.badRequest("Location not found", "locationId");
      const short = randomShortId(8);
      const [node] = await tx
        .insert(nodes)
        .values({ ...input, id: newId("node", short), shortId: short })
        .returning();
      if (!node) throw new Error("node insert returned nothing");
      return {
        id: node.id,
        shortId: node.shortId,
        displayName: node.displayName,
        host: node.host,
        port: node.port,
        protocol: node.protocol,
        sftpPort: node.sftpPort,
        isOnline: node.isOnline,
        fqdn: node.fqdn,
        daemonPort: node.daemonPort,
        location,
      } satisfies NodeView;
    });
    return c.json(view, 201);
  });
}
