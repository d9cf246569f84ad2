import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { formatRecord } from "../../src/logger.ts";

const apiDir = fileURLToPath(new URL("../../", import.meta.url));
const scratch = mkdtempSync(join(tmpdir(), "panel-first-contact-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

type Exit = { code: number | null; stdout: string; stderr: string };

/** The real entry (src/index.ts through tsx), as `pnpm dev` runs it, with a clean environment. */
function startEntry(env: Record<string, string>) {
  const child = spawn(process.execPath, ["--import", "tsx", "src/index.ts"], {
    cwd: apiDir,
    env: {
      ...process.env,
      DATABASE_URL: "", // the embedded database even when the suite runs on PostgreSQL
      NODE_ENV: "development",
      HOST: "127.0.0.1",
      SEED_DEMO: "false",
      LOG_LEVEL: "info",
      BETTER_AUTH_URL: "",
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const out = { stdout: "", stderr: "" };
  child.stdout?.on("data", (d: Buffer) => (out.stdout += d.toString()));
  child.stderr?.on("data", (d: Buffer) => (out.stderr += d.toString()));
  const exited = new Promise<Exit>((resolve) =>
    child.once("exit", (code) => resolve({ code, stdout: out.stdout, stderr: out.stderr })),
  );
  return { child, out, exited };
}

function occupy(): Promise<Server> {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, "127.0.0.1", () => resolve(server));
  });
}

const portOf = (server: Server) => (server.address() as { port: number }).port;

async function freePort() {
  const server = await occupy();
  const port = portOf(server);
  await new Promise((r) => server.close(r));
  return port;
}

async function until(check: () => boolean, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 50));
  }
}

const stop = (child: ChildProcess) => {
  if (child.exitCode === null) child.kill("SIGTERM");
};

describe("starting in production with a placeholder secret", () => {
  it("names the variable to set on stderr, without a stack trace, and exits 1", async () => {
    const { child, exited } = startEntry({
      NODE_ENV: "production",
      BETTER_AUTH_SECRET: "change-me-to-32-or-more-random-characters",
      PORT: String(await freePort()),
      DATA_DIR: join(scratch, "placeholder"),
    });
    const timer = setTimeout(() => stop(child), 20_000);
    const result = await exited;
    clearTimeout(timer);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe("");
    expect(result.stderr).toMatch(/^Invalid configuration:\n {2}BETTER_AUTH_SECRET: is a placeholder/);
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });
});

describe("starting on a busy port", () => {
  it("says so in one line on stderr and exits 1, before opening the database", async () => {
    const taken = await occupy();
    const port = portOf(taken);
    const dataDir = join(scratch, "busy");
    try {
      const { child, exited } = startEntry({ PORT: String(port), DATA_DIR: dataDir });
      const timer = setTimeout(() => stop(child), 20_000);
      const result = await exited;
      clearTimeout(timer);
      expect(result).toEqual({ code: 1, stdout: "", stderr: `port ${port} is in use; set PORT\n` });
      expect(existsSync(dataDir), "the embedded database was created").toBe(false);
    } finally {
      await new Promise((r) => taken.close(r));
    }
  }, 60_000);
});

describe("starting on a free port, stdout not a terminal", () => {
  it("logs JSON lines, the start line naming the URL to open, and stops on SIGTERM", async () => {
    const port = await freePort();
    const { child, out, exited } = startEntry({ PORT: String(port), DATA_DIR: "memory://" });
    try {
      await until(() => out.stdout.includes("panel API listening"), 100_000);
      const records = out.stdout
        .trim()
        .split("\n")
        .map((line) => JSON.parse(line) as { level: number; msg: string; port?: number });
      expect(records.find((r) => r.msg.startsWith("panel API listening"))).toMatchObject({
        level: 30,
        msg: `panel API listening on http://localhost:${port}`,
        port,
      });
      stop(child);
      expect((await exited).code).toBe(0);
    } finally {
      stop(child);
    }
  }, 120_000);
});

describe("logs at a terminal", () => {
  const line = (record: object) => JSON.stringify({ level: 30, time: "2026-03-01T12:00:01.234Z", ...record });

  it("are one readable line per record: time, level, message, then the fields", () => {
    const text = formatRecord(
      line({ msg: "panel API listening on http://localhost:3001", port: 3001, database: "pglite" }),
      false,
    );
    expect(text).toMatch(
      /^\d\d:\d\d:\d\d\.234 INFO {2}panel API listening on http:\/\/localhost:3001 port=3001 database=pglite\n$/,
    );
  });

  it("quote values with spaces, show objects as JSON and stack traces indented below", () => {
    const text = formatRecord(
      line({
        level: 50,
        msg: "websocket message handler failed",
        reason: "two words",
        admin: { email: "admin@demo.local" },
        err: { type: "Error", message: "boom", stack: "Error: boom\n    at here" },
      }),
      false,
    );
    expect(text.split("\n")).toEqual([
      expect.stringMatching(
        /ERROR websocket message handler failed reason="two words" admin=\{"email":"admin@demo.local"\}$/,
      ),
      "    Error: boom",
      "        at here",
      "",
    ]);
  });

  it("colour the level when the terminal has colours, and pass a non-JSON line through", () => {
    expect(formatRecord(line({ level: 40, msg: "careful" }), true)).toContain("\u001b[33mWARN \u001b[39m");
    expect(formatRecord("not json", true)).toBe("not json");
  });
});
