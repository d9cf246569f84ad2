import type { Database } from "@panel/db";
import type { Principal } from "../auth/credentials.ts";
import { ApiError } from "../http/errors.ts";
import { canSee, loadServerRow, type ServerRow } from "./snapshots.ts";

/** The server if the caller may see it; a missing and a hidden server are the same 404. */
export async function visibleServer(db: Database, principal: Principal, id: string): Promise<ServerRow> {
  const row = await loadServerRow(db, id);
  if (!row || !canSee(row, principal.userId, principal.isAdmin)) throw ApiError.notFound("Server not found");
  return row;
}

/** Owner-level actions (managing subusers): the owner or an admin. */
export function assertManages(row: ServerRow, principal: Principal) {
  if (!principal.isAdmin && row.ownerId !== principal.userId) {
    throw ApiError.forbidden("Only the server's owner or an admin can do this");
  }
}
