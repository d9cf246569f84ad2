import {
  allocations,
  blueprints,
  type Database,
  locations,
  newId,
  nodes,
  randomShortId,
  servers,
} from "@panel/db";
import type { ServerStatus } from "@panel/protocol";
import type { Auth } from "../auth/auth.ts";
import { ensureAccount } from "../auth/bootstrap.ts";
import type { Logger } from "../logger.ts";

export const DEMO_ADMIN = { email: "admin@demo.local", password: "demo-admin-password", name: "Demo Admin" };
export const DEMO_USER = { email: "player@demo.local", password: "demo-user-password", name: "Demo Player" };

const DEMO_SERVERS: { name: string; blueprint: number; node: number; status: ServerStatus; port: number }[] =
  [
    { name: "Survival SMP", blueprint: 0, node: 0, status: "running", port: 25565 },
    { name: "Creative Build", blueprint: 0, node: 0, status: "stopped", port: 25566 },
    { name: "Bedrock Friends", blueprint: 1, node: 1, status: "running", port: 19132 },
    { name: "Valheim Vikings", blueprint: 2, node: 1, status: "installing", port: 2456 },
  ];

/**
 * Demo data for trying the panel: a location, two nodes, blueprints and a few servers owned
 * by a demo player. Does nothing if the database already has locations.
 */
export async function seedDemo(auth: Auth, db: Database, logger: Logger, admin = DEMO_ADMIN) {
  const existing = await db.select({ id: locations.id }).from(locations).limit(1);
  if (existing.length > 0) {
    logger.info("demo seed skipped: the database already has data");
    return false;
  }
  await ensureAccount(auth, db, { ...admin, name: "Demo Admin", role: "admin" });
  const ownerId = await ensureAccount(auth, db, DEMO_USER);

  await db.transaction(async (tx) => {
    const locationId = newId("location");
    await tx.insert(locations).values({ id: locationId, name: "Demo — EU West" });
    const nodeIds = ["eu-west-1", "eu-west-2"].map((name, i) => {
      const short = randomShortId(8);
      return { id: newId("node", short), shortId: short, name, index: i };
    });
    await tx.insert(nodes).values(
      nodeIds.map((n) => ({
        id: n.id,
        shortId: n.shortId,
        displayName: n.name.toUpperCase(),
        fqdn: `${n.name}.demo.local`,
        host: `${n.name}.demo.local`,
        port: 443,
        protocol: "https" as const,
        sftpPort: 2022,
        daemonPort: 8080,
        isOnline: n.index === 0,
        locationId,
      })),
    );
    const blueprintRows = ["Minecraft Java", "Minecraft Bedrock", "Valheim"].map((name) => ({
      id: newId("blueprint"),
      name,
    }));
    await tx.insert(blueprints).values(blueprintRows);
    for (const s of DEMO_SERVERS) {
      const short = randomShortId(8);
      const serverId = newId("server", short);
      const nodeId = nodeIds[s.node]?.id ?? "";
      await tx.insert(servers).values({
        id: serverId,
        shortId: short,
        name: s.name,
        status: s.status,
        containerId: s.status === "installing" ? null : `container_${short}`,
        memory: 2048,
        disk: 10240,
        cpu: 100,
        backupLimit: 3,
        nodeId,
        blueprintId: blueprintRows[s.blueprint]?.id ?? "",
        ownerId,
      });
      await tx
        .insert(allocations)
        .values({ id: newId("allocation"), nodeId, serverId, ip: "0.0.0.0", port: s.port, isPrimary: true });
    }
  });

  logger.info(
    {
      admin: { email: admin.email, password: admin.password },
      user: { email: DEMO_USER.email, password: DEMO_USER.password },
    },
    "demo data seeded; sign in with these accounts",
  );
  return true;
}
