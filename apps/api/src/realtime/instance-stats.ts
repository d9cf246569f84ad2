import { type Database, realtimeInstance } from "@panel/db";
import { eq, gt, sql } from "drizzle-orm";
import type { Hub, HubStats } from "./hub.ts";

/** Rows not refreshed for this many sync periods belong to instances that are gone. */
export const INSTANCE_STALE_PERIODS = 3;

/** Upserts this instance's socket counters (one statement). */
export async function publishInstanceStats(db: Database, instanceId: string, stats: HubStats) {
  const values = {
    connections: stats.connections,
    authenticated: stats.authenticated,
    subscriptions: stats.subscriptions,
    updatedAt: sql`now()`,
  };
  await db
    .insert(realtimeInstance)
    .values({ id: instanceId, ...values })
    .onConflictDoUpdate({ target: realtimeInstance.id, set: values });
}

/** Once per sync tick: the hub's current counters, under its instance id. */
export function publishHubStats(db: Database, hub: Hub) {
  return publishInstanceStats(db, hub.instanceId, hub.stats());
}

/** On shutdown: this instance no longer counts. */
export async function removeInstanceStats(db: Database, instanceId: string) {
  await db.delete(realtimeInstance).where(eq(realtimeInstance.id, instanceId));
}

export type ClusterStats = {
  instances: number;
  connections: number;
  authenticated: number;
  subscriptions: number;
};

/**
 * The cluster's sockets now: every instance's row refreshed within `INSTANCE_STALE_PERIODS`
 * sync periods, with this instance's own live counters in place of its (up to a tick old) row.
 */
export async function clusterStats(
  db: Database,
  syncIntervalMs: number,
  self?: { instanceId: string; stats: HubStats },
): Promise<ClusterStats> {
  const rows = await db
    .select()
    .from(realtimeInstance)
    .where(
      gt(
        realtimeInstance.updatedAt,
        sql`now() - make_interval(secs => ${(INSTANCE_STALE_PERIODS * syncIntervalMs) / 1000}::double precision)`,
      ),
    );
  const total: ClusterStats = { instances: 0, connections: 0, authenticated: 0, subscriptions: 0 };
  const counted = self ? [...rows.filter((r) => r.id !== self.instanceId), self.stats] : rows;
  for (const r of counted) {
    total.instances++;
    total.connections += r.connections;
    total.authenticated += r.authenticated;
    total.subscriptions += r.subscriptions;
  }
  return total;
}
