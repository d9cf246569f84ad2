import { user } from "@panel/db";
import { eq } from "drizzle-orm";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/env.ts";
import type { RunningServer } from "../../src/server.ts";
import { createUser, type TestUser, uniqueEmail } from "../support/factories.ts";
import { startTestServer } from "../support/server.ts";

const PRODUCTION = {
  NODE_ENV: "production",
  BETTER_AUTH_SECRET: "a-real-secret-of-thirty-two-chars-or-more",
  DATABASE_URL: "postgres://db.internal/panel",
};

function configProblem(env: Record<string, string>): string {
  try {
    loadConfig(env);
  } catch (err) {
    return (err as Error).message;
  }
  return "";
}

describe("production refuses unsafe configuration, naming the variable", () => {
  it.each([
    ["no secret", { BETTER_AUTH_SECRET: "" }, "BETTER_AUTH_SECRET"],
    [
      "the development secret",
      { BETTER_AUTH_SECRET: "dev-only-secret-change-me-dev-only-secret" },
      "BETTER_AUTH_SECRET",
    ],
    [
      "docker-compose's placeholder",
      { BETTER_AUTH_SECRET: "change-me-to-32-or-more-random-characters" },
      "BETTER_AUTH_SECRET",
    ],
    [
      "a placeholder admin password",
      { ADMIN_EMAIL: "a@b.co", ADMIN_PASSWORD: "change-me-please" },
      "ADMIN_PASSWORD",
    ],
    ["demo data", { SEED_DEMO: "true" }, "SEED_DEMO"],
  ])("%s", (_label, override, variable) => {
    expect(configProblem({ ...PRODUCTION, ...override })).toContain(`${variable}:`);
  });

  it("accepts a real configuration, without demo data or the development origin", () => {
    const config = loadConfig({ ...PRODUCTION, BETTER_AUTH_URL: "https://panel.example.com" });
    expect(config.seedDemo).toBe(false);
    expect(config.allowedOrigins).toEqual(["https://panel.example.com"]);
    expect(config.auth.allowSignUp).toBe(false);
  });

  it("never seeds the embedded database's demo data in production", () => {
    const { DATABASE_URL: _, ...embedded } = PRODUCTION;
    expect(loadConfig(embedded).seedDemo).toBe(false);
  });

  it("listens on 127.0.0.1 for the embedded demo unless HOST says otherwise", () => {
    expect(loadConfig({}).host).toBe("127.0.0.1");
    expect(loadConfig({ HOST: "0.0.0.0" }).host).toBe("0.0.0.0");
    expect(loadConfig({ DATABASE_URL: "postgres://db/panel" }).host).toBe("0.0.0.0");
  });

  it("trusts http://localhost:3000 only in development", () => {
    expect(loadConfig({}).allowedOrigins).toContain("http://localhost:3000");
    expect(loadConfig({ NODE_ENV: "test" }).allowedOrigins).not.toContain("http://localhost:3000");
  });
});

describe("safe defaults of a running API", () => {
  let srv: RunningServer;
  let member: TestUser;

  beforeAll(async () => {
    srv = await startTestServer();
    member = await createUser(srv);
  });
  afterAll(() => srv.close());

  it("sends security headers on JSON, error and 404 responses", async () => {
    for (const path of ["/api/health", "/api/servers", "/api/nope", "/nope"]) {
      const res = await fetch(`${srv.url}${path}`);
      expect(res.headers.get("x-content-type-options"), path).toBe("nosniff");
      expect(res.headers.get("x-frame-options"), path).toBe("DENY");
      expect(res.headers.get("referrer-policy"), path).toBe("no-referrer");
      expect(res.headers.get("content-security-policy"), path).toContain("frame-ancestors 'none'");
      expect(res.headers.get("strict-transport-security"), path).toBeNull(); // plain http
    }
  });

  it("adds HSTS when the panel is served over https", async () => {
    const https = await startTestServer({ env: { BETTER_AUTH_URL: "https://panel.example.com" } });
    try {
      const res = await fetch(`${https.url}/api/health`);
      expect(res.headers.get("strict-transport-security")).toBe("max-age=31536000; includeSubDomains");
    } finally {
      await https.close();
    }
  });

  it("serves /api/docs with only its own scripts, under a CSP", async () => {
    const res = await fetch(`${srv.url}/api/docs`);
    expect(res.status).toBe(200);
    const html = await res.text();
    const scripts = [...html.matchAll(/<script[^>]*src="([^"]+)"/g)].map((m) => m[1]);
    expect(scripts.length).toBeGreaterThan(0);
    for (const src of scripts) {
      expect(src).toMatch(/^\/api\/docs\/assets\//);
      const asset = await fetch(`${srv.url}${src}`);
      expect(asset.status).toBe(200);
      expect(asset.headers.get("content-type")).toContain("javascript");
    }
    expect(html).not.toMatch(/https?:\/\//);
    expect(html).not.toMatch(/<script>(?!<\/script>)/);
    expect(res.headers.get("content-security-policy")).toContain("script-src 'self'");
    expect((await fetch(`${srv.url}/api/docs/assets/..%2Fpackage.json`)).status).toBe(404);
  });

  it("has sign-up off, answering alike for new and existing emails", async () => {
    const tryUp = (email: string) =>
      fetch(`${srv.url}/api/auth/sign-up/email`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ email, password: "a-long-password", name: "Someone" }),
      });
    const fresh = uniqueEmail("walk-in");
    const [forNew, forExisting] = await Promise.all([tryUp(fresh), tryUp(member.email)]);
    expect(forNew.status).toBeGreaterThanOrEqual(400);
    expect(forNew.status).toBe(forExisting.status);
    expect(await forNew.text()).toBe(await forExisting.text());
    expect(await srv.db.select().from(user).where(eq(user.email, fresh))).toEqual([]);
  });

  it("refuses the api-key plugin's own create and update endpoints", async () => {
    for (const path of ["/api/auth/api-key/create", "/api/auth/api-key/update"]) {
      const res = await member.fetch(path, {
        method: "POST",
        body: JSON.stringify({ name: "x", prefix: "ghp_" }),
      });
      expect(res.status, path).toBe(404);
    }
  });
});

describe("client mistakes are not errors", () => {
  it("an invalid API key or a forged Origin logs below error level", async () => {
    const errors: string[] = [];
    const logger = pino(
      { level: "info" },
      { write: (line: string) => void (JSON.parse(line).level >= 50 && errors.push(line)) },
    );
    const srv = await startTestServer({ logger });
    try {
      const member = await createUser(srv);
      const bad = await fetch(`${srv.url}/api/servers`, { headers: { "x-api-key": "pnl_not-a-real-key" } });
      expect(bad.status).toBe(401);
      const forged = await fetch(`${srv.url}/api/auth/sign-out`, {
        method: "POST",
        headers: {
          cookie: member.cookie,
          origin: "https://evil.example",
          "content-type": "application/json",
        },
        body: "{}",
      });
      expect(forged.status).toBe(403);
      expect(errors).toEqual([]);
    } finally {
      await srv.close();
    }
  });
});

describe("sign-up when the operator allows it", () => {
  let srv: RunningServer;
  beforeAll(async () => {
    srv = await startTestServer({ env: { ALLOW_SIGN_UP: "true" } });
  });
  afterAll(() => srv.close());

  it("creates an account", async () => {
    const res = await fetch(`${srv.url}/api/auth/sign-up/email`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ email: uniqueEmail("signup"), password: "a-long-password", name: "New" }),
    });
    expect(res.status).toBe(200);
  });
});
