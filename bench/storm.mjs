// The reconnect storm, for bench/run.mjs: what 10,000 scripts reconnecting after a deploy
// see. Runs inside the load generator (bench/loadgen.mjs) once the fan-out measurement is
// done and its sockets are closed, against the same API process, in three steps:
// 1. mint C tickets (GET /api/ws/token, nothing else): the minting rate alone,
// 2. connect + auth with those pre-minted tickets: the rate the WebSocket side sustains,
// 3. the storm: C clients, each minting its own ticket and connecting with it at once:
//    mint + connect + auth end to end, the headline connect rate.
// Steps 2 and 3 keep the same number of clients in flight and come from their own source
// addresses (fresh ephemeral port ranges); each closes its sockets before the next starts.
// Each step also reports the API's CPU per connection (from /proc), which the machine's
// other load does not move as much as it moves the rates. Bounded in count and time.
import { readFileSync } from "node:fs";
import http from "node:http";
import { createRequire } from "node:module";

const require = createRequire(new URL("../apps/api/package.json", import.meta.url));
const { WebSocket } = require("ws");

const now = () => performance.timeOrigin + performance.now();
const CLK_TCK = 100;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** utime + stime of a process in ms, or null if it cannot be read. */
function cpuMsOf(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLK_TCK;
  } catch {
    return null;
  }
}
/** Machine-wide busy and total CPU seconds. */
function machineCpu() {
  const f = readFileSync("/proc/stat", "utf8").split("\n")[0].trim().split(/\s+/).slice(1).map(Number);
  const total = f.slice(0, 8).reduce((a, b) => a + b, 0);
  return { busy: (total - f[3] - f[4]) / CLK_TCK, total: total / CLK_TCK };
}

function percentile(sorted, p) {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}
const round = (v, d = 1) => (v === null || !Number.isFinite(v) ? null : Number(v.toFixed(d)));

/** Runs `task(i)` for i in [0, n) with at most `limit` in flight. */
async function pool(n, limit, task) {
  let next = 0;
  const worker = async () => {
    while (next < n) await task(next++);
  };
  await Promise.all(Array.from({ length: Math.min(limit, n) }, worker));
}

/** GET /api/ws/token with a session cookie: the ticket. */
export function mint(cfg, agent, cookie) {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: "127.0.0.1",
        port: cfg.port,
        path: "/api/ws/token",
        agent,
        headers: { cookie },
        timeout: 30_000,
      },
      (res) => {
        const chunks = [];
        res.on("data", (c) => chunks.push(c));
        res.on("end", () => {
          if (res.statusCode !== 200) return reject(new Error(`GET /api/ws/token: ${res.statusCode}`));
          resolve(JSON.parse(Buffer.concat(chunks).toString()).token);
        });
      },
    );
    req.on("timeout", () => req.destroy(new Error("ticket request timed out")));
    req.on("error", reject);
    req.end();
  });
}

/** Opens one socket with `?token=`; resolves with it once authenticated, or with the reason it was not. */
function connect(cfg, token, source) {
  return new Promise((resolve) => {
    const ws = new WebSocket(`ws://127.0.0.1:${cfg.port}/api/ws?token=${encodeURIComponent(token)}`, {
      perMessageDeflate: false,
      localAddress: source,
      handshakeTimeout: 30_000,
    });
    const done = (failure) => {
      ws.removeAllListeners("message");
      resolve({ ws, failure });
    };
    ws.on("message", (data) => {
      const type = JSON.parse(data.toString()).type;
      done(type === "auth_success" ? null : type);
    });
    ws.on("close", (code) => done(`closed ${code}`));
    ws.on("error", (err) => done(`error ${err.code ?? err.message}`));
  });
}

async function closeAll(sockets) {
  const open = sockets.filter((ws) => ws.readyState === WebSocket.OPEN);
  const closed = Promise.all(
    open.map(
      (ws) =>
        new Promise((resolve) => {
          ws.once("close", resolve);
          ws.close(1000, "storm step done");
        }),
    ),
  );
  if ((await Promise.race([closed.then(() => true), sleep(15_000)])) !== true)
    for (const ws of sockets) ws.terminate();
  await sleep(1000); // let the API finish its side of the closes before the next step
}

/** Runs `fn` and measures its wall time, the API's CPU and the machine's busy cores. */
async function measured(cfg, count, fn) {
  const cpu0 = cpuMsOf(cfg.apiPid);
  const m0 = machineCpu();
  const t0 = now();
  const out = await fn();
  const ms = now() - t0;
  const cpu1 = cpuMsOf(cfg.apiPid);
  const m1 = machineCpu();
  return {
    out,
    stats: {
      ms: round(ms, 0),
      perSec: round((count * 1000) / ms, 0),
      apiCpuMsPerConnection: cpu0 === null || cpu1 === null ? null : round((cpu1 - cpu0) / count, 3),
      machineBusyCores: round((m1.busy - m0.busy) / (ms / 1000), 2),
    },
  };
}

function failuresOf(results) {
  const failed = results.filter((r) => r.failure);
  return { failed: failed.length, failureSamples: [...new Set(failed.map((r) => r.failure))].slice(0, 5) };
}

/** Steps 1–3 above; `cfg`: port, apiPid, users (cookies), connections, inFlight, mintInFlight, sources. */
export async function runStorm(cfg) {
  const C = cfg.connections;
  const cookieOf = (i) => cfg.users[i % cfg.users.length].cookie;
  const sourceOf = (set, i) => set[i % set.length];
  const agent = new http.Agent({ keepAlive: true, maxSockets: cfg.mintInFlight });
  const tokens = new Array(C);
  const minting = await measured(cfg, C, () =>
    pool(C, cfg.mintInFlight, async (i) => {
      tokens[i] = await mint(cfg, agent, cookieOf(i));
    }),
  );

  const authMs = (results) => Float64Array.from(results.filter((r) => !r.failure).map((r) => r.ms)).sort();
  const step = async (sources, open) => {
    const results = new Array(C);
    const { stats } = await measured(cfg, C, () =>
      pool(C, cfg.inFlight, async (i) => {
        const t0 = now();
        results[i] = { ...(await open(i, sourceOf(sources, i))), ms: 0 };
        results[i].ms = now() - t0;
      }),
    );
    await closeAll(results.map((r) => r.ws).filter(Boolean));
    const sorted = authMs(results);
    return {
      ...stats,
      latencyMs: { p50: round(percentile(sorted, 50)), p99: round(percentile(sorted, 99)) },
      ...failuresOf(results),
    };
  };

  const preMinted = await step(cfg.preMintedSources, (i, source) => connect(cfg, tokens[i], source));
  const storm = await step(cfg.stormSources, async (i, source) => {
    let token;
    try {
      token = await mint(cfg, agent, cookieOf(i));
    } catch (err) {
      return { ws: null, failure: err.message };
    }
    return connect(cfg, token, source);
  });
  agent.destroy();
  return {
    connections: C,
    inFlight: cfg.inFlight,
    mint: { ...minting.stats, inFlight: cfg.mintInFlight },
    preMinted,
    storm,
    stormOverPreMinted: round(storm.perSec / preMinted.perSec, 3),
  };
}

/** The storm's lines for bench/run.mjs's tables: [label, value]. */
export function stormRows(s) {
  const cpu = (step) =>
    step.apiCpuMsPerConnection === null ? "" : `, API CPU ${step.apiCpuMsPerConnection} ms/conn`;
  const busy = (step) => `, machine ${step.machineBusyCores} cores busy`;
  return [
    [
      "reconnect storm: mint + connect + auth, end to end",
      `${s.storm.perSec} conn/s (${s.connections} in ${(s.storm.ms / 1000).toFixed(2)} s), p50 ${s.storm.latencyMs.p50} ms, p99 ${s.storm.latencyMs.p99} ms${cpu(s.storm)}${busy(s.storm)}`,
    ],
    [
      "same run: connect + auth, tickets pre-minted",
      `${s.preMinted.perSec} conn/s, p50 ${s.preMinted.latencyMs.p50} ms, p99 ${s.preMinted.latencyMs.p99} ms${cpu(s.preMinted)}${busy(s.preMinted)}`,
    ],
    ["storm / pre-minted", `${(100 * s.stormOverPreMinted).toFixed(1)} %`],
    ["same run: minting alone (GET /api/ws/token)", `${s.mint.perSec} tickets/s${cpu(s.mint)}`],
    ["storm failures (storm / pre-minted)", `${s.storm.failed} / ${s.preMinted.failed}`],
  ];
}
