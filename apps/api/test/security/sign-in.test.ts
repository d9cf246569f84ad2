import { session } from "@panel/db";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningServer } from "../../src/server.ts";
import { createUser, type TestUser } from "../support/factories.ts";
import { requestFrom } from "../support/from-address.ts";
import { startTestServer } from "../support/server.ts";

const JSON_HEADERS = { "content-type": "application/json" };

function signInFrom(srv: RunningServer, address: string, email: string, password: string, headers = {}) {
  return requestFrom(address, `${srv.url}/api/auth/sign-in/email`, {
    method: "POST",
    headers: { ...JSON_HEADERS, ...headers },
    body: JSON.stringify({ email, password }),
  });
}

describe("sign-in throttling by the real client address (better-auth's limiter on)", () => {
  let srv: RunningServer;
  let victim: TestUser;
  let bystander: TestUser;

  beforeAll(async () => {
    srv = await startTestServer({ env: { AUTH_RATE_LIMIT: "true" } });
    victim = await createUser(srv, { label: "victim" });
    bystander = await createUser(srv, { label: "bystander" });
  });
  afterAll(() => srv.close());

  it("a rotating X-Forwarded-For does not escape the per-address limit", async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 8; i++) {
      const res = await signInFrom(srv, "127.0.0.21", victim.email, "wrong-password", {
        "x-forwarded-for": `203.0.113.${i + 1}`,
      });
      statuses.push(res.status);
      if (res.status === 429) expect(Number(res.headers["retry-after"])).toBeGreaterThan(0);
    }
    expect(statuses.slice(0, 3)).toEqual([401, 401, 401]);
    expect(statuses.slice(3).every((s) => s === 429)).toBe(true);
  });

  it("a flood from one address does not lock another out", async () => {
    for (let i = 0; i < 6; i++) await signInFrom(srv, "127.0.0.22", victim.email, "wrong-password");
    const victimElsewhere = await signInFrom(srv, "127.0.0.23", victim.email, victim.password);
    expect(victimElsewhere.status).toBe(200);
    const bystanderElsewhere = await signInFrom(srv, "127.0.0.24", bystander.email, bystander.password);
    expect(bystanderElsewhere.status).toBe(200);
  });

  it("records the socket's address on the session, not a spoofed header", async () => {
    const res = await signInFrom(srv, "127.0.0.25", bystander.email, bystander.password, {
      "x-forwarded-for": "198.51.100.7",
      "x-panel-client-address": "198.51.100.8",
    });
    expect(res.status).toBe(200);
    const { token } = JSON.parse(res.body) as { token: string };
    const [row] = await srv.db.select().from(session).where(eq(session.token, token));
    expect(row?.ipAddress).toBe("127.0.0.25");
  });
});

describe("sign-in failures per account (without better-auth's per-address limiter)", () => {
  let srv: RunningServer;
  let victim: TestUser;

  beforeAll(async () => {
    srv = await startTestServer({
      env: {
        AUTH_RATE_LIMIT: "false",
        SIGN_IN_MAX_FAILURES_PER_ADDRESS: "4",
        SIGN_IN_MAX_FAILURES_PER_ACCOUNT: "10",
      },
    });
    victim = await createUser(srv, { label: "victim" });
  });
  afterAll(() => srv.close());

  it("an address is cut off after its failures on an account, even with the right password", async () => {
    for (let i = 0; i < 4; i++) {
      expect((await signInFrom(srv, "127.0.0.31", victim.email, `guess-${i}-xx`)).status).toBe(401);
    }
    const refused = await signInFrom(srv, "127.0.0.31", victim.email, victim.password);
    expect(refused.status).toBe(429);
    expect(Number(refused.headers["retry-after"])).toBeGreaterThan(0);
    expect(JSON.parse(refused.body)).toEqual({ error: "Too many failed sign-ins; try again later" });
    // the owner, from their own address, still gets in
    expect((await signInFrom(srv, "127.0.0.32", victim.email, victim.password)).status).toBe(200);
  });

  it("parallel guesses from one address get no more than its limit, and lock nobody else out", async () => {
    const target = await createUser(srv, { label: "burst" });
    const burst = await Promise.all(
      Array.from({ length: 24 }, (_, i) => signInFrom(srv, "127.0.0.35", target.email, `burst-${i}-zz`)),
    );
    const guessed = burst.filter((r) => r.status === 401).length;
    expect(guessed).toBeLessThanOrEqual(4);
    expect(burst.every((r) => r.status === 401 || r.status === 429)).toBe(true);
    expect((await signInFrom(srv, "127.0.0.36", target.email, target.password)).status).toBe(200);
  });

  it("the account as a whole is limited once many addresses have failed on it", async () => {
    const other = await createUser(srv, { label: "target" });
    // 127.0.0.41-43: 4 + 4 + 2 failures = the account's 10
    for (const [address, count] of [
      ["127.0.0.41", 4],
      ["127.0.0.42", 4],
      ["127.0.0.43", 2],
    ] as const) {
      for (let i = 0; i < count; i++) await signInFrom(srv, address, other.email, `guess-${i}-yy`);
    }
    const res = await signInFrom(srv, "127.0.0.44", other.email, "another-guess");
    expect(res.status).toBe(429);
    // not other accounts
    expect((await signInFrom(srv, "127.0.0.44", victim.email, victim.password)).status).toBe(200);
  });

  it("X-Forwarded-For counts only with TRUST_PROXY, and then only the proxy's own hop", async () => {
    const proxied = await startTestServer({ env: { TRUST_PROXY: "true", AUTH_RATE_LIMIT: "false" } });
    try {
      const user = await createUser(proxied, { label: "proxied" });
      const res = await signInFrom(proxied, "127.0.0.51", user.email, user.password, {
        "x-forwarded-for": "198.51.100.1, 192.0.2.9",
      });
      expect(res.status).toBe(200);
      const { token } = JSON.parse(res.body) as { token: string };
      const [row] = await proxied.db.select().from(session).where(eq(session.token, token));
      expect(row?.ipAddress).toBe("192.0.2.9");
    } finally {
      await proxied.close();
    }
  });
});
