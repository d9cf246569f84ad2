import { locations, serverSubusers } from "@panel/db";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningServer } from "../../src/server.ts";
import { createServer, createUser, type TestUser } from "../support/factories.ts";
import { startTestServer, TEST_ORIGIN } from "../support/server.ts";

type Caller = { cookie: string };

/** A cookie request as a browser on some page would send it; `origin: null` sends none. */
function browserPost(
  srv: RunningServer,
  who: Caller,
  path: string,
  body: unknown,
  origin: string | null,
  contentType = "application/json",
) {
  const headers: Record<string, string> = { cookie: who.cookie, "content-type": contentType };
  if (origin !== null) headers.origin = origin;
  return fetch(`${srv.url}${path}`, { method: "POST", headers, body: JSON.stringify(body) });
}

const FOREIGN_ORIGINS: [string, string | null][] = [
  ["a foreign Origin", "https://evil.example"],
  ["a missing Origin", null],
  ["a null Origin", "null"],
];

describe("CSRF: cookie requests that change state need an allowed Origin", () => {
  let srv: RunningServer;
  let owner: TestUser;
  let admin: TestUser;
  let friend: TestUser;
  let serverId: string;

  beforeAll(async () => {
    srv = await startTestServer();
    owner = await createUser(srv, { label: "owner" });
    admin = await createUser(srv, { admin: true });
    friend = await createUser(srv, { label: "friend" });
    serverId = (await createServer(srv, owner)).id;
  });
  afterAll(() => srv.close());

  describe.each(FOREIGN_ORIGINS)("with %s", (_label, origin) => {
    it("refuses an owner route and adds no subuser", async () => {
      const res = await browserPost(
        srv,
        owner,
        `/api/servers/${serverId}/subusers`,
        { email: friend.email },
        origin,
      );
      expect(res.status).toBe(403);
      const rows = await srv.db.select().from(serverSubusers).where(eq(serverSubusers.serverId, serverId));
      expect(rows).toEqual([]);
    });

    it("refuses an admin route and creates no location", async () => {
      const name = `csrf-${Math.random()}`;
      const res = await browserPost(srv, admin, "/api/admin/locations", { name }, origin);
      expect(res.status).toBe(403);
      expect(await srv.db.select().from(locations).where(eq(locations.name, name))).toEqual([]);
    });

    it("refuses creating an API key", async () => {
      const res = await browserPost(srv, owner, "/api/api-keys", { name: "stolen" }, origin);
      expect(res.status).toBe(403);
      const list = await owner.fetch("/api/api-keys");
      expect(((await list.json()) as { data: unknown[] }).data).toEqual([]);
    });

    it("refuses better-auth's own routes (sign-out)", async () => {
      const res = await browserPost(srv, owner, "/api/auth/sign-out", {}, origin);
      expect(res.status).toBe(403);
      expect((await owner.fetch("/api/servers")).status).toBe(200);
    });
  });

  it("accepts the same requests from the allowed origin", async () => {
    const res = await browserPost(
      srv,
      admin,
      "/api/admin/locations",
      { name: `ok-${Math.random()}` },
      TEST_ORIGIN,
    );
    expect(res.status).toBe(201);
  });

  it("refuses text/plain and form bodies with 415, before anything is written", async () => {
    for (const type of [
      "text/plain",
      "application/x-www-form-urlencoded",
      "multipart/form-data; boundary=x",
    ]) {
      const name = `plain-${Math.random()}`;
      const res = await browserPost(srv, admin, "/api/admin/locations", { name }, TEST_ORIGIN, type);
      expect(res.status).toBe(415);
      expect(await res.json()).toEqual({
        error: "Request body must be application/json",
        field: "content-type",
      });
      expect(await srv.db.select().from(locations).where(eq(locations.name, name))).toEqual([]);
    }
  });

  it("lets API-key requests through without an Origin (no ambient credential)", async () => {
    const created = await owner.fetch("/api/api-keys", {
      method: "POST",
      body: JSON.stringify({ name: "script" }),
    });
    expect(created.status).toBe(201);
    const { key } = (await created.json()) as { key: string };
    const res = await fetch(`${srv.url}/api/servers/${serverId}/subusers`, {
      method: "POST",
      headers: { "x-api-key": key, "content-type": "application/json" },
      body: JSON.stringify({ email: friend.email }),
    });
    expect(res.status).toBe(201);
  });

  it("treats an empty x-api-key header as no key: the cookie request still needs its Origin", async () => {
    const name = `empty-key-${Math.random()}`;
    const res = await fetch(`${srv.url}/api/admin/locations`, {
      method: "POST",
      headers: {
        cookie: admin.cookie,
        "x-api-key": "",
        origin: "https://evil.example",
        "content-type": "application/json",
      },
      body: JSON.stringify({ name }),
    });
    expect(res.status).toBe(403);
    expect(await srv.db.select().from(locations).where(eq(locations.name, name))).toEqual([]);
  });

  it("ignores cookie-less requests (nothing ambient to forge)", async () => {
    const res = await fetch(`${srv.url}/api/admin/locations`, {
      method: "POST",
      headers: { origin: "https://evil.example", "content-type": "application/json" },
      body: JSON.stringify({ name: "anon" }),
    });
    expect(res.status).toBe(401);
  });
});
