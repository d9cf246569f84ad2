import { once } from "node:events";
import { mkdtempSync, writeFileSync } from "node:fs";
import http from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { addressGroup, defaultMaxSockets, readOpenFileLimit } from "../../src/realtime/socket-caps.ts";
import type { RunningServer } from "../../src/server.ts";
import { call, createKey, withKey } from "../api-keys/support.ts";
import { createUser, request, type TestUser, ticketFor } from "../support/factories.ts";
import { startTestServer } from "../support/server.ts";

const UNAUTHENTICATED_CAP = { error: "Too many unauthenticated connections from this address" };
const PROCESS_CAP = { error: "Too many connections; retry later" };
const TICKET_CAP = { error: "Too many tickets; retry later" };

type Refused = { status: number; retryAfter: string | undefined; body: unknown };
type Attempt = { ws: WebSocket; refused?: undefined } | { ws?: undefined; refused: Refused };

/** Every socket a test opened, closed after it. */
const opened = new Set<WebSocket>();
afterEach(() => {
  for (const ws of opened) ws.terminate();
  opened.clear();
});

/** An upgrade from a loopback source address: the open socket, or how the server refused it. */
function attempt(
  srv: RunningServer,
  localAddress: string,
  opts: { token?: string; headers?: Record<string, string> } = {},
): Promise<Attempt> {
  const url = new URL("/api/ws", srv.url.replace("http", "ws"));
  if (opts.token) url.searchParams.set("token", opts.token);
  const ws = new WebSocket(url, { localAddress, headers: opts.headers });
  // listening from the start: a reply can arrive in the same read as the handshake
  const inbox: unknown[] = [];
  inboxes.set(ws, inbox);
  ws.on("message", (data) => {
    inbox.push(JSON.parse(String(data)));
    ws.emit("inbox");
  });
  return new Promise((resolve, reject) => {
    ws.once("open", () => {
      opened.add(ws);
      resolve({ ws });
    });
    ws.once("unexpected-response", (_req, res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => {
        const retryAfter = res.headers["retry-after"];
        const body = JSON.parse(Buffer.concat(chunks).toString());
        resolve({ refused: { status: res.statusCode ?? 0, retryAfter, body } });
      });
    });
    ws.once("error", reject);
  });
}

async function open(srv: RunningServer, localAddress: string, opts: { token?: string } = {}) {
  const result = await attempt(srv, localAddress, opts);
  if (!result.ws) throw new Error(`upgrade refused: ${JSON.stringify(result.refused)}`);
  return result.ws;
}

async function refusal(srv: RunningServer, localAddress: string, headers?: Record<string, string>) {
  const result = await attempt(srv, localAddress, { headers });
  if (!result.refused) throw new Error("upgrade was not refused");
  return result.refused;
}

const inboxes = new WeakMap<WebSocket, unknown[]>();

async function nextMessage(ws: WebSocket) {
  const inbox = inboxes.get(ws) ?? [];
  while (inbox.length === 0) await once(ws, "inbox");
  return inbox.shift() as { type: string };
}

async function authenticate(ws: WebSocket, token: string) {
  ws.send(JSON.stringify({ type: "auth", token }));
  expect(await nextMessage(ws)).toMatchObject({ type: "auth_success" });
}

/** Waits (bounded) until the server has seen `count` sockets close: closing is asynchronous. */
async function untilOpenSockets(srv: RunningServer, count: number) {
  const deadline = Date.now() + 5000;
  while (srv.gateway.socketStats().open !== count) {
    if (Date.now() > deadline)
      throw new Error(`open sockets: ${srv.gateway.socketStats().open}, want ${count}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const closeAll = async (sockets: WebSocket[]) => {
  await Promise.all(
    sockets.map((ws) => {
      ws.close(1000);
      return once(ws, "close");
    }),
  );
};

describe("unauthenticated sockets per client address", () => {
  let srv: RunningServer;
  let user: TestUser;
  beforeAll(async () => {
    srv = await startTestServer({ env: { WS_MAX_UNAUTHED_PER_ADDRESS: "5" } });
    user = await createUser(srv);
  });
  afterAll(() => srv.close());

  it("one address over the cap is refused with 429 + Retry-After while another still connects", async () => {
    const sockets = await Promise.all(Array.from({ length: 5 }, () => open(srv, "127.0.0.7")));
    const over = await refusal(srv, "127.0.0.7");
    expect(over).toEqual({ status: 429, retryAfter: "2", body: UNAUTHENTICATED_CAP });
    const other = await open(srv, "127.0.0.8");
    expect(other.readyState).toBe(WebSocket.OPEN);

    // A socket that authenticates frees its address's slot; so does one that closes.
    await authenticate(sockets[0] as WebSocket, await ticketFor(srv, user));
    const afterAuth = await open(srv, "127.0.0.7");
    expect((await attempt(srv, "127.0.0.7")).refused?.status).toBe(429);
    await closeAll([afterAuth, sockets[1] as WebSocket]);
    await untilOpenSockets(srv, 5); // 4 of .7 (one authenticated) + 1 of .8
    await Promise.all([open(srv, "127.0.0.7"), open(srv, "127.0.0.7")]);
    expect((await attempt(srv, "127.0.0.7")).refused?.status).toBe(429);
  });

  it("authenticated sockets from one address are not capped by it", async () => {
    const batches = 4;
    const sockets: WebSocket[] = [];
    for (let b = 0; b < batches; b++) {
      const tickets = await Promise.all(Array.from({ length: 5 }, () => ticketFor(srv, user)));
      const batch = await Promise.all(tickets.map(() => open(srv, "127.0.0.9")));
      await Promise.all(batch.map((ws, i) => authenticate(ws, tickets[i] as string)));
      sockets.push(...batch);
    }
    expect(sockets.filter((ws) => ws.readyState === WebSocket.OPEN)).toHaveLength(20);
    // the unauthenticated cap still holds for that address
    await Promise.all(Array.from({ length: 5 }, () => open(srv, "127.0.0.9")));
    expect((await refusal(srv, "127.0.0.9")).status).toBe(429);
  });
});

describe("behind a trusted proxy", () => {
  let proxied: RunningServer;
  beforeAll(async () => {
    proxied = await startTestServer({
      env: { WS_MAX_UNAUTHED_PER_ADDRESS: "2", TRUST_PROXY: "true" },
    });
  });
  afterAll(() => proxied.close());

  it("the forwarded hop is the address; an IPv6 /64 is one address", async () => {
    const from = (hop: string) => ({ headers: { "x-forwarded-for": `203.0.113.99, ${hop}` } });
    for (const hop of ["198.51.100.1", "198.51.100.1", "2001:db8:1:2::1", "2001:db8:1:2:ffff::2"]) {
      expect((await attempt(proxied, "127.0.0.7", from(hop))).ws).toBeDefined();
    }
    expect((await attempt(proxied, "127.0.0.7", from("198.51.100.1"))).refused?.status).toBe(429);
    expect((await attempt(proxied, "127.0.0.7", from("2001:db8:1:2::3"))).refused?.status).toBe(429);
    // same proxy peer, other clients
    expect((await attempt(proxied, "127.0.0.7", from("198.51.100.2"))).ws).toBeDefined();
    expect((await attempt(proxied, "127.0.0.7", from("2001:db8:1:3::1"))).ws).toBeDefined();
  });
});

describe("with the defaults", () => {
  let srv: RunningServer;
  beforeAll(async () => {
    srv = await startTestServer();
  });
  afterAll(() => srv.close());

  it("a flood of 150 upgrades from one address gets 64 sockets; another address still connects", async () => {
    const results = await Promise.all(Array.from({ length: 150 }, () => attempt(srv, "127.0.0.10")));
    expect(results.filter((r) => r.ws)).toHaveLength(64);
    const refused = results.flatMap((r) => (r.refused ? [r.refused] : []));
    expect(refused).toHaveLength(86);
    for (const r of refused) expect(r).toEqual({ status: 429, retryAfter: "2", body: UNAUTHENTICATED_CAP });
    expect((await attempt(srv, "127.0.0.11")).ws).toBeDefined();
  });

  const mint = (user: TestUser) => call(request(srv, "/api/ws/token", {}, { cookie: user.cookie }));

  it("100 tickets at once pass; a steady flood beyond the budget gets 429 with Retry-After", {
    timeout: 90_000,
  }, async () => {
    const user = await createUser(srv);
    const started = Date.now();
    const burst = await Promise.all(Array.from({ length: 100 }, () => mint(user)));
    expect(burst.map((r) => r.status)).toEqual(Array(100).fill(200));

    let minted = 100;
    let over: Awaited<ReturnType<typeof mint>> | undefined;
    for (let i = 0; i < 200 && !over; i++) {
      const res = await mint(user);
      if (res.status === 200) minted++;
      else over = res;
    }
    const elapsedS = (Date.now() - started) / 1000;
    expect(over?.status).toBe(429);
    expect(over?.body).toEqual(TICKET_CAP);
    const retryAfter = Number(over?.headers.get("retry-after"));
    expect(Number.isInteger(retryAfter) && retryAfter >= 1).toBe(true);
    // the default budget: a burst of 120, then 2 tickets/s
    expect(minted).toBeGreaterThanOrEqual(120);
    expect(minted).toBeLessThanOrEqual(120 + Math.ceil(elapsedS * 2) + 1);

    // another credential of the same user has its own budget
    const key = await createKey(user);
    expect((await call(withKey(srv, key.key, "/api/ws/token"))).status).toBe(200);
    // and after Retry-After the flooding session may mint again
    await new Promise((r) => setTimeout(r, retryAfter * 1000));
    expect((await mint(user)).status).toBe(200);
  });
});

describe("sockets per process", () => {
  let srv: RunningServer;
  let user: TestUser;
  beforeAll(async () => {
    srv = await startTestServer({ env: { WS_MAX_SOCKETS: "6" } });
    user = await createUser(srv);
  });
  afterAll(() => srv.close());

  it("over the total, upgrades are answered 503 with Retry-After; closed sockets free their place", async () => {
    const authed = await open(srv, "127.0.0.7", { token: await ticketFor(srv, user) });
    expect(await nextMessage(authed)).toMatchObject({ type: "auth_success" });
    const rest = await Promise.all(
      ["127.0.0.7", "127.0.0.7", "127.0.0.8", "127.0.0.8", "127.0.0.9"].map((a) => open(srv, a)),
    );
    for (const address of ["127.0.0.7", "127.0.0.12"]) {
      expect(await refusal(srv, address)).toEqual({ status: 503, retryAfter: "10", body: PROCESS_CAP });
    }
    await closeAll([authed, rest[0] as WebSocket]);
    await untilOpenSockets(srv, 4);
    await Promise.all([open(srv, "127.0.0.12"), open(srv, "127.0.0.13")]);
    expect((await refusal(srv, "127.0.0.14")).status).toBe(503);
  });

  it("sockets the server closes itself (auth timeout) free their place too", async () => {
    await untilOpenSockets(srv, 0);
    const authed = await open(srv, "127.0.0.7", { token: await ticketFor(srv, user) });
    expect(await nextMessage(authed)).toMatchObject({ type: "auth_success" });
    const pending = await Promise.all(Array.from({ length: 5 }, () => open(srv, "127.0.0.8")));
    expect((await refusal(srv, "127.0.0.10")).status).toBe(503);
    srv.gateway.sweep(Date.now() + 60_000); // as if their auth deadline had passed
    const closes = await Promise.all(pending.map((ws) => once(ws, "close")));
    expect(closes.map(([code]) => code)).toEqual(Array(5).fill(4001));
    await untilOpenSockets(srv, 1);
    await Promise.all(Array.from({ length: 5 }, () => open(srv, "127.0.0.10")));
    expect((await refusal(srv, "127.0.0.10")).status).toBe(503);
  });

  it("the default total is derived from the open-file limit, with room for other files", () => {
    expect(defaultMaxSockets(20_000)).toBe(18_000);
    expect(defaultMaxSockets(1_048_576)).toBe(943_718);
    expect(defaultMaxSockets(4096)).toBe(3072);
    expect(defaultMaxSockets(1024)).toBe(512);
    expect(defaultMaxSockets(null)).toBe(512); // unreadable: assume the usual 1024
    const dir = mkdtempSync(join(tmpdir(), "limits-"));
    const file = join(dir, "limits");
    writeFileSync(
      file,
      [
        "Limit                     Soft Limit           Hard Limit           Units     ",
        "Max processes             63704                63704                processes ",
        "Max open files            20000                524288               files     ",
      ].join("\n"),
    );
    expect(readOpenFileLimit(file)).toBe(20_000);
    expect(readOpenFileLimit(join(dir, "missing"))).toBeNull();
    expect(addressGroup("2001:db8:1:2:3:4:5:6")).toBe(addressGroup("2001:0db8:1:2::9"));
    expect(addressGroup("2001:db8::1")).toBe("2001:db8:0:0::/64");
    expect(addressGroup("2001:db8:1:3::1")).not.toBe(addressGroup("2001:db8:1:2::1"));
    expect(addressGroup("127.0.0.7")).toBe("127.0.0.7");
  });
});

describe("every 429 carries Retry-After", () => {
  let srv: RunningServer;
  beforeAll(async () => {
    srv = await startTestServer({
      env: { API_KEY_RATE_LIMIT_MAX: "2", API_KEY_RATE_LIMIT_WINDOW_MS: "60000", AUTH_RATE_LIMIT: "true" },
    });
  });
  afterAll(() => srv.close());

  it("the API-key rate limit", async () => {
    const user = await createUser(srv);
    const { key } = await createKey(user);
    for (let i = 0; i < 2; i++) expect((await withKey(srv, key, "/api/servers")).status).toBe(200);
    for (const path of ["/api/servers", "/api/ws/token"]) {
      const over = await call(withKey(srv, key, path));
      expect(over).toMatchObject({ status: 429, body: { error: "API key rate limit exceeded" } });
      const retryAfter = Number(over.headers.get("retry-after"));
      expect(retryAfter).toBeGreaterThanOrEqual(1);
      expect(retryAfter).toBeLessThanOrEqual(60);
    }
  });

  it("better-auth's rate limit on /api/auth/*", async () => {
    const signIn = () => signInFrom(srv, "127.0.0.7");
    let over: Awaited<ReturnType<typeof signIn>> | undefined;
    for (let i = 0; i < 10 && !over; i++) {
      const res = await signIn();
      if (res.status === 429) over = res;
    }
    expect(over?.status).toBe(429);
    const retryAfter = Number(over?.headers["retry-after"]);
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(10);
    expect(String(retryAfter)).toBe(over?.headers["x-retry-after"]);
  });
});

/** A failing sign-in over node:http from a given loopback source address. */
function signInFrom(srv: RunningServer, localAddress: string) {
  const body = JSON.stringify({ email: "nobody@test.local", password: "wrong-password" });
  return new Promise<{ status: number; headers: http.IncomingHttpHeaders }>((resolve, reject) => {
    const req = http.request(
      `${srv.url}/api/auth/sign-in/email`,
      {
        method: "POST",
        localAddress,
        headers: {
          "content-type": "application/json",
          "content-length": Buffer.byteLength(body),
          // better-auth keys its limit by this header unless told otherwise; same client either way
          "x-forwarded-for": localAddress,
        },
      },
      (res) => {
        res.resume();
        res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers }));
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}
