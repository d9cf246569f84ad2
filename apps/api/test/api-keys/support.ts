import { apiKeySocket } from "@panel/db";
import { eq } from "drizzle-orm";
import { expect } from "vitest";
import type { RunningServer } from "../../src/server.ts";
import { request, type TestUser } from "../support/factories.ts";
import { connect, type TestSocket } from "../support/ws-client.ts";

export type CreatedKey = {
  id: string;
  name: string;
  start: string;
  prefix: string;
  readOnly: boolean;
  key: string;
  createdAt: string;
  expiresAt: string | null;
};

/** Status + parsed JSON body (null when empty). */
export async function call(res: Response | Promise<Response>) {
  const r = await res;
  const text = await r.text();
  // biome-ignore lint/suspicious/noExplicitAny: test bodies are inspected dynamically
  const body: any = text ? JSON.parse(text) : null;
  return { status: r.status, body, headers: r.headers };
}

export const json = (method: string, body: unknown): RequestInit => ({
  method,
  body: typeof body === "string" ? body : JSON.stringify(body),
  headers: { "content-type": "application/json" },
});

/** `POST /api/api-keys` with the user's session; fails the test unless it is a 201. */
export async function createKey(
  user: TestUser,
  body: { name?: string; readOnly?: boolean; expiresInDays?: number } = {},
): Promise<CreatedKey> {
  const res = await call(user.fetch("/api/api-keys", json("POST", { name: "script", ...body })));
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body as CreatedKey;
}

/** A request authenticated only by the API key. */
export const withKey = (srv: RunningServer, key: string, path: string, init: RequestInit = {}) =>
  request(srv, path, init, { "x-api-key": key });

/** A fresh ticket minted with the API key. */
export async function keyTicket(srv: RunningServer, key: string): Promise<string> {
  const res = await call(withKey(srv, key, "/api/ws/token"));
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body.token as string;
}

/** Connects with a ticket minted by the key and returns the socket with its first reply. */
export async function connectWithKey(srv: RunningServer, key: string) {
  const ws = await connect(srv, { token: await keyTicket(srv, key) });
  return { ws, reply: await ws.next() };
}

export async function keySocketRows(srv: RunningServer, apiKeyId: string) {
  return srv.db.select().from(apiKeySocket).where(eq(apiKeySocket.apiKeyId, apiKeyId));
}

/** Polls until `check` holds (the server frees a slot when it sees the close). */
export async function eventually(check: () => Promise<boolean> | boolean, timeoutMs = 3000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 20));
  }
}

export async function closeAll(...sockets: TestSocket[]) {
  for (const ws of sockets) ws.close();
  await Promise.all(sockets.map((ws) => ws.closed));
}
