import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningServer } from "../../src/server.ts";
import { createUser } from "../support/factories.ts";
import { startTestServer } from "../support/server.ts";
import { anonymous, call } from "./support.ts";

let srv: RunningServer;
beforeAll(async () => {
  srv = await startTestServer();
});
afterAll(() => srv.close());

describe("GET /api/health", () => {
  it("answers 200 {status:ok} to anyone while the database answers", async () => {
    const res = await call(anonymous(srv, "/api/health"));
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: "ok" });
    expect(res.headers.get("content-type")).toMatch(/^application\/json/);
  });

  it("answers the same to a signed-in user", async () => {
    const user = await createUser(srv);
    const res = await call(user.fetch("/api/health"));
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: "ok" });
  });

  it("only answers GET", async () => {
    const res = await call(anonymous(srv, "/api/health", { method: "POST" }));
    expect(res.status).toBe(404);
    expect(res.body).toEqual({ error: "Not found" });
  });

  it("answers 503 with a JSON error once the database is gone", async () => {
    // a dedicated server: closing its database must not disturb the one above
    const doomed = await startTestServer();
    try {
      expect((await call(anonymous(doomed, "/api/health"))).status).toBe(200);
      await doomed.dbHandle.close();
      const res = await call(anonymous(doomed, "/api/health"));
      expect(res.status).toBe(503);
      expect(res.body).toMatchObject({ error: expect.any(String) });
      expect(res.body.status).not.toBe("ok");
    } finally {
      // its database is already closed; closing it again may reject
      await doomed.close().catch(() => {});
    }
  });
});

describe("unknown routes", () => {
  it("are a JSON 404", async () => {
    const res = await call(anonymous(srv, "/api/nope"));
    expect(res.status).toBe(404);
    expect(res.body).toEqual({ error: "Not found" });
  });
});

describe("request bodies", () => {
  it("refuses a body over 256 KiB with 413 before reading it into a route", async () => {
    const admin = await createUser(srv, { admin: true });
    const res = await call(
      admin.fetch("/api/admin/locations", {
        method: "POST",
        body: JSON.stringify({ name: "x".repeat(300 * 1024) }),
      }),
    );
    expect(res.status).toBe(413);
    expect(res.body).toEqual({ error: "Request body over 256 KiB" });
  });
});
