import { locations, nodes, servers } from "@panel/db";
import { SERVER_STATUSES, type ServerStatus } from "@panel/protocol";
import { asc, count, eq, sql } from "drizzle-orm";
import type { AppDeps } from "../../http/context.ts";
import { defineRoute, json, router } from "../../http/define-route.ts";
import { overviewSchema } from "../../openapi/schemas.ts";
import { clusterStats } from "../../realtime/instance-stats.ts";

/**
 * `GET /api/admin/overview`: servers by status, each node's load against its capacity, and the
 * cluster's open sockets (every instance's published counters, this one's live).
 */
export function adminOverviewRoutes(deps: AppDeps) {
  const { db } = deps;
  const overview = defineRoute(deps, {
    method: "get",
    path: "/",
    summary: "Overview",
    description:
      "Servers by status (and suspended), per node: servers, memory/disk allocated vs. capacity, online; sockets connected and subscriptions now.",
    tags: ["Admin: overview"],
    access: "admin",
    responses: { 200: json(overviewSchema, "The overview.") },
  });
  return router().openapi(overview, async (c) => {
    const [statusRows, suspendedRows, nodeRows, realtime] = await Promise.all([
      db.select({ status: servers.status, n: count() }).from(servers).groupBy(servers.status),
      db.select({ n: count() }).from(servers).where(eq(servers.suspended, true)),
      db
        .select({
          id: nodes.id,
          displayName: nodes.displayName,
          isOnline: nodes.isOnline,
          location: { id: locations.id, name: locations.name },
          memoryTotal: nodes.memory,
          diskTotal: nodes.disk,
          servers: sql<number>`count(${servers.id})::int`,
          memoryAllocated: sql<number>`coalesce(sum(${servers.memory}), 0)::bigint`,
          diskAllocated: sql<number>`coalesce(sum(${servers.disk}), 0)::bigint`,
        })
        .from(nodes)
        .innerJoin(locations, eq(locations.id, nodes.locationId))
        .leftJoin(servers, eq(servers.nodeId, nodes.id))
        .groupBy(nodes.id, locations.id)
        .orderBy(asc(nodes.displayName), asc(nodes.id)),
      clusterStats(
        db,
        deps.config.realtime.syncIntervalMs,
        deps.instanceId && deps.realtimeStats
          ? { instanceId: deps.instanceId, stats: deps.realtimeStats() }
          : undefined,
      ),
    ]);
    const byStatus = Object.fromEntries(SERVER_STATUSES.map((s) => [s, 0])) as Record<ServerStatus, number>;
    for (const row of statusRows) byStatus[row.status] = Number(row.n);
    return c.json(
      {
        servers: {
          total: Object.values(byStatus).reduce((a, b) => a + b, 0),
          suspended: Number(suspendedRows[0]?.n ?? 0),
          byStatus,
        },
        nodes: nodeRows.map((n) => ({
          id: n.id,
          displayName: n.displayName,
          location: n.location,
          isOnline: n.isOnline,
          servers: Number(n.servers),
          memory: { allocated: Number(n.memoryAllocated), total: n.memoryTotal },
          disk: { allocated: Number(n.diskAllocated), total: n.diskTotal },
        })),
        realtime: {
          instances: realtime.instances,
          connections: realtime.connections,
          authenticated: realtime.authenticated,
          subscriptions: realtime.subscriptions,
        },
      },
      200,
    );
  });
}
