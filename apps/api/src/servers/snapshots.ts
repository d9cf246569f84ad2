import { type Database, serverSubusers, servers } from "@panel/db";
import type { ServerSnapshot } from "@panel/protocol";
import { asc, desc, eq, exists, or, type SQL, sql } from "drizzle-orm";
import { anyOf } from "../auth/credentials.ts";

type FindManyArgs = NonNullable<Parameters<Database["query"]["servers"]["findMany"]>[0]>;

/**
 * Everything a snapshot needs, fetched by drizzle as ONE statement (relations become
 * lateral json sub-selects), for any number of servers.
 */
function findServerRows(db: Database, where: SQL, extra: Pick<FindManyArgs, "limit" | "orderBy"> = {}) {
  return db.query.servers.findMany({
    where,
    ...extra,
    with: {
      node: {
        columns: {
          id: true,
          shortId: true,
          displayName: true,
          host: true,
          port: true,
          protocol: true,
          sftpPort: true,
          isOnline: true,
          fqdn: true,
          daemonPort: true,
        },
        with: { location: { columns: { id: true, name: true } } },
      },
      allocations: {
        columns: { id: true, ip: true, port: true, isPrimary: true },
        orderBy: (a) => [desc(a.isPrimary), asc(a.ip), asc(a.port)],
      },
      blueprint: { columns: { id: true, name: true } },
      subusers: { columns: { userId: true } },
    },
  });
}

export type ServerRow = Awaited<ReturnType<typeof findServerRows>>[number];

/** The wire shape of docs/protocol.md#the-server-object, keys in the documented order. */
export function toSnapshot(row: ServerRow): ServerSnapshot {
  return {
    id: row.id,
    shortId: row.shortId,
    name: row.name,
    status: row.status,
    suspended: row.suspended,
    containerId: row.containerId,
    memory: row.memory,
    disk: row.disk,
    cpu: row.cpu,
    cpuPinning: row.cpuPinning,
    swap: row.swap,
    oomKillDisable: row.oomKillDisable,
    backupLimit: row.backupLimit,
    nodeId: row.nodeId,
    blueprintId: row.blueprintId,
    ownerId: row.ownerId,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
    node: {
      id: row.node.id,
      shortId: row.node.shortId,
      displayName: row.node.displayName,
      host: row.node.host,
      port: row.node.port,
      protocol: row.node.protocol,
      sftpPort: row.node.sftpPort,
      isOnline: row.node.isOnline,
      fqdn: row.node.fqdn,
      daemonPort: row.node.daemonPort,
      location: { id: row.node.location.id, name: row.node.location.name },
    },
    allocations: row.allocations.map((a) => ({ id: a.id, ip: a.ip, port: a.port, isPrimary: a.isPrimary })),
    blueprint: { id: row.blueprint.id, name: row.blueprint.name },
  };
}

/**
 * Whether two reads of a server hold the same data (plain values, Dates, arrays and objects, as
 * drizzle returns them), so the snapshot of the older one is still the snapshot of the newer.
 */
export function sameRowData(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (a instanceof Date) return b instanceof Date && a.getTime() === b.getTime();
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!sameRowData(a[i], b[i])) return false;
    return true;
  }
  if (Array.isArray(b) || b instanceof Date) return false;
  const keys = Object.keys(a);
  if (keys.length !== Object.keys(b).length) return false;
  for (const key of keys) {
    if (!Object.hasOwn(b, key)) return false;
    if (!sameRowData((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key])) return false;
  }
  return true;
}

/** The users who may see a server besides admins: its owner and its subusers (docs/protocol.md#client-messages). */
export function viewersOf(row: ServerRow): string[] {
  return [row.ownerId, ...row.subusers.map((s) => s.userId)];
}

/** Owner, subusers and admins may see a server (docs/protocol.md#client-messages). */
export function canSee(row: ServerRow, userId: string, isAdmin: boolean): boolean {
  return isAdmin || viewersOf(row).includes(userId);
}

export function loadServerRows(db: Database, ids: readonly string[]): Promise<ServerRow[]> {
  return ids.length === 0 ? Promise.resolve([]) : findServerRows(db, anyOf(servers.id, ids));
}

export async function loadServerRow(db: Database, id: string): Promise<ServerRow | undefined> {
  return (await findServerRows(db, eq(servers.id, id), { limit: 1 }))[0];
}

/** Servers a user owns or is a subuser of, oldest first. */
export function loadServersVisibleTo(db: Database, userId: string): Promise<ServerRow[]> {
  const isSubuser = exists(
    db
      .select({ one: sql`1` })
      .from(serverSubusers)
      .where(sql`${serverSubusers.serverId} = ${servers.id} and ${serverSubusers.userId} = ${userId}`),
  );
  return findServerRows(db, or(eq(servers.ownerId, userId), isSubuser) as SQL, {
    orderBy: [asc(servers.createdAt), asc(servers.id)],
  });
}

export { findServerRows };
