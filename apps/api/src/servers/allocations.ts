import { allocations, newId, type Transaction } from "@panel/db";
import { eq, sql } from "drizzle-orm";
import { z } from "zod";
import { ApiError } from "../http/errors.ts";

/**
 * One spelling per address ("::" = "0:0:0:0:0:0:0:0", "FE80::1" = "fe80::1"), so the unique
 * (node, ip, port) index really catches a port that is already allocated.
 */
export function canonicalIp(ip: string): string {
  if (!ip.includes(":")) return ip;
  try {
    return new URL(`http://[${ip}]/`).hostname.slice(1, -1);
  } catch {
    return ip.toLowerCase();
  }
}

export const ipSchema = z.union([z.ipv4(), z.ipv6()]).transform(canonicalIp);
export const portSchema = z.number().int().min(1).max(65535);

export const allocationInput = z.object({
  ip: ipSchema,
  port: portSchema,
  isPrimary: z.boolean().default(false),
});

/** A server's wanted allocations: 1..100, at most one primary, no ip:port twice. */
export const allocationListSchema = z
  .array(allocationInput)
  .min(1)
  .max(100)
  .refine((list) => list.filter((a) => a.isPrimary).length <= 1, "at most one allocation can be primary")
  .refine(
    (list) => new Set(list.map((a) => `${a.ip}:${a.port}`)).size === list.length,
    "the same ip:port is listed twice",
  );

export type WantedAllocation = z.infer<typeof allocationInput>;

/**
 * Gives `serverId` exactly these ip:ports on `nodeId`: creates them, or claims them if they
 * exist free on the node. One held by another server is a 409 (and the caller's transaction
 * rolls back, so nothing is half-claimed). The first allocation is primary when none is.
 */
export async function claimAllocations(
  tx: Transaction,
  serverId: string,
  nodeId: string,
  wanted: WantedAllocation[],
) {
  const primaryIndex = Math.max(
    0,
    wanted.findIndex((a) => a.isPrimary),
  );
  const claimed = await tx
    .insert(allocations)
    .values(
      wanted.map((a, i) => ({
        id: newId("allocation"),
        nodeId,
        serverId,
        ip: a.ip,
        port: a.port,
        isPrimary: i === primaryIndex,
      })),
    )
    .onConflictDoUpdate({
      target: [allocations.nodeId, allocations.ip, allocations.port],
      set: { serverId, isPrimary: sql`excluded.is_primary` },
      setWhere: sql`${allocations.serverId} is null`,
    })
    .returning({ ip: allocations.ip, port: allocations.port });
  if (claimed.length !== wanted.length) {
    const taken = wanted.find((a) => !claimed.some((k) => k.ip === a.ip && k.port === a.port));
    throw ApiError.conflict(
      `Allocation ${taken?.ip}:${taken?.port} is already in use on this node`,
      "allocations",
    );
  }
}

/** Returns all of a server's allocations to their node's free pool. */
export function releaseAllocations(tx: Transaction, serverId: string) {
  return tx
    .update(allocations)
    .set({ serverId: null, isPrimary: false })
    .where(eq(allocations.serverId, serverId))
    .returning({ id: allocations.id, ip: allocations.ip, port: allocations.port });
}
