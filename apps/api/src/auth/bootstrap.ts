import { type Database, user } from "@panel/db";
import { eq } from "drizzle-orm";
import type { Logger } from "../logger.ts";
import { ADMIN_ROLE, type Auth } from "./auth.ts";

export type Account = { email: string; password: string; name: string; role?: "admin" | "user" };

/** Creates the account unless a user with that email exists; returns the user's id. */
export async function ensureAccount(auth: Auth, db: Database, account: Account): Promise<string> {
  const email = account.email.toLowerCase();
  const [existing] = await db.select({ id: user.id }).from(user).where(eq(user.email, email)).limit(1);
  if (existing) return existing.id;
  const created = await auth.api.createUser({
    body: { email, password: account.password, name: account.name, role: account.role ?? "user" },
  });
  return created.user.id;
}

/** The admin named by ADMIN_EMAIL / ADMIN_PASSWORD, created on start if missing. */
export async function ensureAdmin(
  auth: Auth,
  db: Database,
  logger: Logger,
  admin?: { email: string; password: string },
) {
  if (!admin) return undefined;
  const id = await ensureAccount(auth, db, { ...admin, name: "Administrator", role: ADMIN_ROLE });
  logger.info({ email: admin.email }, "bootstrap admin ready");
  return id;
}
