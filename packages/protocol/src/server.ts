import { z } from "zod";

export const SERVER_STATUSES = [
  "installing",
  "install_failed",
  "stopped",
  "starting",
  "running",
  "stopping",
  "restoring_backup",
  "transferring",
] as const;

export const serverStatusSchema = z.enum(SERVER_STATUSES);
export type ServerStatus = z.infer<typeof serverStatusSchema>;

export const locationSchema = z.object({ id: z.string(), name: z.string() });

export const nodeSchema = z.object({
  id: z.string(),
  shortId: z.string(),
  displayName: z.string(),
  host: z.string(),
  port: z.number().int(),
  protocol: z.enum(["http", "https"]),
  sftpPort: z.number().int(),
  isOnline: z.boolean(),
  fqdn: z.string(),
  daemonPort: z.number().int(),
  location: locationSchema,
});
export type NodeView = z.infer<typeof nodeSchema>;

export const allocationSchema = z.object({
  id: z.string(),
  ip: z.string(),
  port: z.number().int(),
  isPrimary: z.boolean(),
});

export const blueprintSchema = z.object({ id: z.string(), name: z.string() });

/** The server object of `server:sync` and of `GET /api/servers/:id` (docs/protocol.md#the-server-object). */
export const serverSnapshotSchema = z.object({
  id: z.string(),
  shortId: z.string(),
  name: z.string(),
  status: serverStatusSchema,
  suspended: z.boolean(),
  containerId: z.string().nullable(),
  memory: z.number().int(),
  disk: z.number().int(),
  cpu: z.number().int(),
  cpuPinning: z.string().nullable(),
  swap: z.number().int(),
  oomKillDisable: z.boolean(),
  backupLimit: z.number().int(),
  nodeId: z.string(),
  blueprintId: z.string(),
  ownerId: z.string(),
  createdAt: z.iso.datetime(),
  updatedAt: z.iso.datetime(),
  node: nodeSchema,
  allocations: z.array(allocationSchema),
  blueprint: blueprintSchema,
});
export type ServerSnapshot = z.infer<typeof serverSnapshotSchema>;
