import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningServer } from "../../src/server.ts";
import { createServer, createUser, type TestUser } from "../support/factories.ts";
import { startTestServer } from "../support/server.ts";
import { apiKeyOf, auditCount, auditFor, bad, call, expectAdminOnly, json } from "./support.ts";

let srv: RunningServer;
let admin: TestUser;
let user: TestUser;
beforeAll(async () => {
  srv = await startTestServer();
  admin = await createUser(srv, { admin: true });
  user = await createUser(srv);
});
afterAll(() => srv.close());

const audit = (query: Record<string, string>, as: { fetch: TestUser["fetch"] } = admin) =>
  call(as.fetch(`/api/admin/audit?${new URLSearchParams(query)}`));

describe("subuser writes by owners and admins are audited", () => {
  it("add and remove by the owner, remove by an admin, leave by the subuser", async () => {
    const owner = await createUser(srv);
    const sub = await createUser(srv);
    const server = await createServer(srv, owner);
    const add = await owner.fetch(`/api/servers/${server.id}/subusers`, json("POST", { email: sub.email }));
    expect(add.status).toBe(201);
    const remove = await owner.fetch(`/api/servers/${server.id}/subusers/${sub.id}`, { method: "DELETE" });
    expect(remove.status).toBe(204);
    await owner.fetch(`/api/servers/${server.id}/subusers`, json("POST", { email: sub.email }));
    expect(
      (await admin.fetch(`/api/servers/${server.id}/subusers/${sub.id}`, { method: "DELETE" })).status,
    ).toBe(204);
    await owner.fetch(`/api/servers/${server.id}/subusers`, json("POST", { email: sub.email }));
    expect(
      (await sub.fetch(`/api/servers/${server.id}/subusers/${sub.id}`, { method: "DELETE" })).status,
    ).toBe(204);

    const rows = await auditFor(srv, "server", server.id);
    expect(rows.map((r) => [r.action, r.actorId, r.actorKind])).toEqual([
      ["subuser.leave", sub.id, "session"],
      ["subuser.add", owner.id, "session"],
      ["subuser.remove", admin.id, "session"],
      ["subuser.add", owner.id, "session"],
      ["subuser.remove", owner.id, "session"],
      ["subuser.add", owner.id, "session"],
    ]);
    expect(rows.at(-1)?.details).toEqual({ userId: sub.id, email: sub.email });
    expect(rows.at(-1)?.ip).toBe("127.0.0.1");

    // a refused add (409 already a subuser) leaves no row
    await owner.fetch(`/api/servers/${server.id}/subusers`, json("POST", { email: sub.email }));
    const before = await auditCount(srv, owner.id);
    const again = await owner.fetch(`/api/servers/${server.id}/subusers`, json("POST", { email: sub.email }));
    expect(again.status).toBe(409);
    expect(await auditCount(srv, owner.id)).toBe(before);
  });
});

describe("GET /api/admin/audit", () => {
  it("is admin-only (API key included)", async () => {
    await expectAdminOnly(srv, user, [["GET", "/api/admin/audit"]]);
    const key = await apiKeyOf(srv, admin);
    expect((await audit({}, key)).status).toBe(200);
  });

  it("filters by actor, action, target and time, newest first, with keyset pages", async () => {
    const actor = await createUser(srv, { admin: true });
    const t0 = new Date(Date.now() - 1000).toISOString();
    const made: string[] = [];
    for (const name of ["a1", "a2", "a3", "a4", "a5"]) {
      const res = await call(actor.fetch("/api/admin/locations", json("POST", { name })));
      made.push(res.body.id);
    }
    await call(actor.fetch(`/api/admin/locations/${made[0]}`, json("PATCH", { name: "renamed" })));

    const all = await audit({ actorId: actor.id });
    expect(all.status).toBe(200);
    expect(all.body.data.map((r: { action: string; targetId: string }) => [r.action, r.targetId])).toEqual([
      ["location.update", made[0]],
      ...[...made].reverse().map((id) => ["location.create", id]),
    ]);
    expect(all.body.data[0]).toEqual({
      id: expect.any(Number),
      actorId: actor.id,
      actorKind: "session",
      apiKeyId: null,
      action: "location.update",
      targetType: "location",
      targetId: made[0],
      ip: "127.0.0.1",
      details: { changes: { name: { from: "a1", to: "renamed" } } },
      createdAt: expect.any(String),
    });

    const creates = await audit({ actorId: actor.id, action: "location.create", limit: "2" });
    const seen: string[] = creates.body.data.map((r: { targetId: string }) => r.targetId);
    let cursor: string | null = creates.body.nextCursor;
    let pages = 1;
    while (cursor && pages < 10) {
      const res = await audit({ actorId: actor.id, action: "location.create", limit: "2", cursor });
      seen.push(...res.body.data.map((r: { targetId: string }) => r.targetId));
      cursor = res.body.nextCursor;
      pages++;
    }
    expect(pages).toBe(3);
    expect(seen).toEqual([...made].reverse());

    const target = await audit({ targetType: "location", targetId: made[0]! });
    expect(target.body.data.map((r: { action: string }) => r.action)).toEqual([
      "location.update",
      "location.create",
    ]);
    expect((await audit({ actorId: actor.id, since: t0 })).body.data).toHaveLength(6);
    expect((await audit({ actorId: actor.id, until: t0 })).body.data).toHaveLength(0);
    expect(
      (await audit({ actorId: actor.id, since: new Date(Date.now() + 60_000).toISOString() })).body.data,
    ).toEqual([]);
  });

  it("is 400 naming the parameter for bad queries", async () => {
    for (const [query, field] of [
      [{ since: "yesterday" }, "since"],
      [{ until: "2026-13-01" }, "until"],
      [{ limit: "500" }, "limit"],
      [{ cursor: "nope" }, "cursor"],
      [{ cursor: Buffer.from('["servers","x","y"]').toString("base64url") }, "cursor"],
    ] as const) {
      const res = await audit(query as Record<string, string>);
      expect(res.status, JSON.stringify(query)).toBe(400);
      expect(res.body).toEqual(bad(field));
    }
  });

  it("never records secrets", async () => {
    const owner = await createUser(srv);
    const server = await createServer(srv, owner);
    const res = await call(admin.fetch(`/api/admin/servers/${server.id}`, json("PATCH", { name: "x" })));
    expect(res.status).toBe(200);
    const rows = await auditFor(srv, "server", server.id);
    expect(JSON.stringify(rows)).not.toMatch(/password|session_token|pnl_/i);
  });
});

describe("the audited client address", () => {
  it("ignores x-forwarded-for unless TRUST_PROXY is on", async () => {
    const location = (a: TestUser) =>
      call(
        a.fetch("/api/admin/locations", {
          method: "POST",
          body: JSON.stringify({ name: "ip check" }),
          headers: { "x-forwarded-for": "203.0.113.7, 10.0.0.1" },
        }),
      );
    const direct = await location(admin);
    const [row] = await auditFor(srv, "location", (direct.body as { id: string }).id);
    expect(row?.ip).toBe("127.0.0.1");

    const proxied = await startTestServer({ env: { TRUST_PROXY: "true" } });
    try {
      const proxiedAdmin = await createUser(proxied, { admin: true });
      const res = await location(proxiedAdmin);
      const [viaProxy] = await auditFor(proxied, "location", (res.body as { id: string }).id);
      // the proxy appends the address it saw; what came before it the client wrote itself
      expect(viaProxy?.ip).toBe("10.0.0.1");
    } finally {
      await proxied.close();
    }
  });
});
