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

/** The wire shape of SPEC §4, keys in the documented order. */
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

/** Owner, subusers and admins may see a server (SPEC §3). */
export function canSee(row: ServerRow, userId: string, isAdmin: boolean): boolean {
  return isAdmin || row.ownerId === userId || row.subusers.some((s) => s.userId === userId);
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
