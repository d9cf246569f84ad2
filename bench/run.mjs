#!/usr/bin/env node
// `pnpm bench [--preset smoke|10k|50k] [overrides]`: measures the 5-second sync fan-out.
//
// It runs in two phases, each with its own database and API process: `fast-only` (the fan-out
// users run; connect rate and memory come from here) and `alternating` (fast and naive fan-out
// on alternate ticks: same sockets, same data, same process, for the ratio and the wire check).
// `--fanout` runs a single phase with the strategies given. Each phase:
// 1. creates a fresh PostgreSQL database (under DATABASE_URL, default the local server),
// 2. starts the API against it as a child process, built from bench/api/entry.ts: the product's
//    startServer with the strategies under test (bench/api/strategies.ts) used in turn and a probe
//    (bench/api/probe.ts) that logs a structured `sync tick` line per tick: the fan-out's CPU and
//    the process's total CPU over the tick period. Node flags as the product's `start`,
// 3. inserts S servers, U users and one session per user with bulk SQL (fixture data only),
// 4. forks bench/loadgen.mjs, which mints one single-use ticket per connection with
//    GET /api/ws/token (session cookie), opens C WebSockets with ?token=, subscribes each to
//    k servers its user may see, and records every snapshot it receives,
// 5. runs warm-up + measured ticks, joins the server's tick lines with the client's arrivals,
//    prints a table and writes bench/results/<name>-<phase>-<date>.json.
// It exits non-zero when any snapshot is missed or duplicated, a connection fails, or the
// bytes on the wire differ between the fast and naive paths. Everything is bounded in time
// (--timeout) and loopback only.
import { execFileSync, spawn } from "node:child_process";
import { createHmac, randomBytes } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import os from "node:os";
import { dirname, join } from "node:path";
import readline from "node:readline";
import { fileURLToPath } from "node:url";
import { stormRows } from "./storm.mjs";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const require = createRequire(join(ROOT, "apps/api/package.json"));
const postgres = require("postgres");

const PRESETS = {
  smoke: { connections: 200, k: 5, servers: 100, users: 20, ticks: 6, interval: 1000 },
  "10k": { connections: 10_000, k: 5, servers: 1_000, users: 500, ticks: 6, interval: 5000 },
  "50k": { connections: 50_000, k: 5, servers: 5_000, users: 2_500, ticks: 6, interval: 5000 },
};

// ---- arguments -----------------------------------------------------------------------

function parseArgs(argv) {
  const args = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith("--")) continue;
    const eq = a.indexOf("=");
    const [key, inline] = eq === -1 ? [a.slice(2), undefined] : [a.slice(2, eq), a.slice(eq + 1)];
    const value = inline ?? (argv[i + 1] && !argv[i + 1].startsWith("--") ? argv[++i] : "true");
    args[key] = value;
  }
  return args;
}

const args = parseArgs(process.argv.slice(2));
if (args.help) {
  console.log(`usage: pnpm bench [--preset smoke|10k|50k] [--connections C] [--subs k] [--servers S]
  [--users U] [--ticks N (measured per strategy, >= 6)] [--warmup W] [--interval ms (SYNC_INTERVAL_MS)]
  [--fanout alternate|fast|naive|shared|uncorked|corked|gathered or a comma list, used in turn tick by tick: one phase] [--sources n (127.0.0.x source addresses)] [--name label]
  [--churn 0.1 (share of servers changed before each tick)] [--timeout s] [--keep-db] [--profile (CPU profile of the API over the recorded ticks)] [--pin true|false (API on CPU 0, load generator on CPU 1; default on 2+ cores)] [--api-cpus 0 (taskset list for the API when pinned)]
  [--steer-rx (loopback receive processing on the load generator's CPU; changes a kernel setting, needs root; off unless given)]
  [--api-node-flags="--flag ..." (extra Node/V8 flags for the API)]
  [--storm true|false (the reconnect storm after the first phase's ticks, bench/storm.mjs; default true)]`);
  process.exit(0);
}
const presetName = args.preset ?? "smoke";
const preset = PRESETS[presetName];
if (!preset) {
  console.error(`unknown preset ${presetName}; one of ${Object.keys(PRESETS).join(", ")}`);
  process.exit(2);
}
const num = (key, fallback) => (args[key] !== undefined ? Number(args[key]) : fallback);
const opts = {
  preset: presetName,
  connections: num("connections", preset.connections),
  k: num("subs", num("k", preset.k)),
  servers: num("servers", preset.servers),
  users: num("users", preset.users),
  ticks: Math.max(6, num("ticks", preset.ticks)),
  warmup: num("warmup", 2),
  interval: num("interval", preset.interval),
  fanout: args.fanout ?? "alternate",
  chunk: num("chunk", 5_000),
  keepDb: args["keep-db"] === "true",
  // the load generator stands in for remote clients: by default it gets a core of its own
  pin: (args.pin ?? String(os.cpus().length >= 2)) === "true",
  apiCpus: args["api-cpus"] ?? "0",
  // the clients' TCP receive work on the load generator's core too (see steerLoopbackRx): it
  // retunes the machine's loopback device, so only when asked
  steerRx: args["steer-rx"] === "true",
  // the share of servers whose row changes before each tick (so unchanged-row reuse is not flattered)
  churn: num("churn", 0.1),
  // extra Node/V8 flags for the API process, to measure their effect (e.g. GC tuning)
  apiNodeFlags: (args["api-node-flags"] ?? "").split(" ").filter(Boolean),
  // the reconnect storm (bench/storm.mjs), measured once, in the first phase
  storm: (args.storm ?? "true") === "true",
};
// Each source address has its own ephemeral ports: a few thousand connections per address
// keep the kernel's port search short (it slows down as a range fills, TIME_WAIT included).
opts.sources = num("sources", Math.max(1, Math.ceil(opts.connections / 2_000)));
opts.name = args.name ?? `${presetName}${args.connections ? `-c${opts.connections}` : ""}`;
if (opts.k > 31) throw new Error("--subs is at most 31");
// bench/api/strategies.ts: the API's own fan-out (fast) and the references it is measured against
const FANOUT_MODES = ["fast", "naive", "shared", "uncorked", "corked", "gathered"];
// what the root `start` script and the Dockerfile run the API with
const PRODUCT_NODE_FLAGS = ["--heap-growing-percent=50"];
const API_DIR = join(ROOT, "apps/api");
const BENCH_API = join(API_DIR, "node_modules/.cache/panel-bench/bench-api.js");

/** Builds bench/api/entry.ts (the API with the bench's strategies and probe) next to the API's dependencies. */
function buildBenchApi() {
  execFileSync(
    join(API_DIR, "node_modules/.bin/tsup"),
    ["--config", join(ROOT, "bench/api/tsup.config.mjs"), "--silent"],
    { cwd: API_DIR, stdio: ["ignore", "ignore", "inherit"] },
  );
}
/**
 * One API process per phase. Without --fanout a run has two: `fast-only` (what users run:
 * connect rate, memory and fan-out with no other strategy's garbage in the heap), then
 * `alternating` (fast and naive on alternate ticks: the side-by-side ratio and the wire check).
 */
function phase(label, fanout) {
  const modes = (fanout === "alternate" ? "fast,naive" : fanout).split(",");
  if (modes.some((m) => !FANOUT_MODES.includes(m)))
    throw new Error(`--fanout: alternate or a list of ${FANOUT_MODES.join("|")}`);
  const name = label ? `${opts.name}-${label}` : opts.name;
  return { label: label ?? fanout, fanout, modes, name, totalTicks: opts.warmup + opts.ticks * modes.length };
}
const phases =
  args.fanout === undefined
    ? [phase("fast-only", "fast"), phase("alternating", "alternate")]
    : [phase(undefined, opts.fanout)];
const stormTimeoutMs = 60_000 + opts.connections * 20;
const timeoutS = num(
  "timeout",
  phases.reduce(
    (sum, p) =>
      sum + Math.ceil(120 + opts.connections / 15 + ((p.totalTicks + 3) * opts.interval * 1.5) / 1000),
    opts.storm ? stormTimeoutMs / 1000 : 0,
  ),
);

// ---- helpers ---------------------------------------------------------------------------

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const wall = () => performance.timeOrigin + performance.now();
const log = (...m) => console.error(`[bench ${new Date().toISOString().slice(11, 19)}]`, ...m);

function percentile(values, p) {
  const sorted = [...values].filter((v) => v !== null && Number.isFinite(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return null;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i];
}
const median = (v) => percentile(v, 50);
function mean(values) {
  const finite = values.filter((v) => v !== null && Number.isFinite(v));
  return finite.length ? finite.reduce((a, b) => a + b, 0) / finite.length : null;
}
/** A figure for the printed tables: fixed decimals, "-" when missing. */
const fmtNum = (v, d = 1) =>
  v === null || v === undefined ? "-" : typeof v === "number" ? v.toFixed(d) : String(v);
const round = (v, d = 1) =>
  v === null || v === undefined || !Number.isFinite(v) ? null : Number(v.toFixed(d));

function procStatus(pid) {
  const text = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = (key) => Number(text.match(new RegExp(`^${key}:\\s+(\\d+)`, "m"))?.[1] ?? 0) * 1024;
  return { rss: kb("VmRSS"), hwm: kb("VmHWM") };
}
const CLK_TCK = 100;
/** Machine-wide busy and total CPU seconds (all cores), to see what else was running. */
function machineCpu() {
  const f = readFileSync("/proc/stat", "utf8").split("\n")[0].trim().split(/\s+/).slice(1).map(Number);
  const idle = f[3] + f[4];
  const total = f.slice(0, 8).reduce((a, b) => a + b, 0);
  return { busy: (total - idle) / CLK_TCK, total: total / CLK_TCK };
}
function procCpuSeconds(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / CLK_TCK; // utime + stime
}

/** A session on the API's inspector (loopback): `call(method, params)` sends one DevTools command. */
async function inspectorSession(url) {
  const { WebSocket } = require("ws");
  const ws = new WebSocket(url);
  await new Promise((resolve, reject) => {
    ws.once("open", resolve);
    ws.once("error", reject);
  });
  let id = 0;
  const call = (method, params = {}) =>
    new Promise((resolve, reject) => {
      const mine = ++id;
      const onMessage = (data) => {
        const reply = JSON.parse(data.toString());
        if (reply.id !== mine) return;
        ws.off("message", onMessage);
        if (reply.error) reject(new Error(`${method}: ${reply.error.message}`));
        else resolve(reply.result);
      };
      ws.on("message", onMessage);
      ws.send(JSON.stringify({ id: mine, method, params }));
    });
  return { call, close: () => ws.terminate() };
}

/**
 * A full garbage collection in the API through its inspector (HeapProfiler.collectGarbage),
 * then its RSS and V8 heap: memory held, without the garbage V8 has not collected yet.
 */
async function afterFullGc(url, pid) {
  if (!url) return null;
  let session;
  try {
    session = await inspectorSession(url);
    await session.call("HeapProfiler.collectGarbage");
    const usage = await session.call("Runtime.evaluate", {
      expression: "JSON.stringify(process.memoryUsage())",
      returnByValue: true,
    });
    await sleep(500); // let freed pages go back to the OS
    return { rss: procStatus(pid).rss, heapUsed: JSON.parse(usage.result.value).heapUsed };
  } catch (err) {
    log(`full-GC reading failed: ${err.message}`);
    return null;
  } finally {
    session?.close();
  }
}

/**
 * --profile: a V8 CPU profile of the API over the recorded ticks only (connecting and minting
 * would swamp them), sampled every 100 µs; `stop()` writes it under bench/results/profiles/.
 */
async function startTickProfile(url, file) {
  const session = await inspectorSession(url);
  await session.call("Profiler.enable");
  await session.call("Profiler.setSamplingInterval", { interval: 100 });
  await session.call("Profiler.start");
  return {
    async stop() {
      const { profile } = await session.call("Profiler.stop");
      session.close();
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, JSON.stringify(profile));
      log(`CPU profile of the recorded ticks: ${file} (node bench/profile-top.mjs ${file})`);
    },
  };
}

function fdLimitWrap(command, argv, need) {
  const soft = Number(spawnSyncText("sh", ["-c", "ulimit -n"]) || 1024);
  if (soft >= need) return { command, argv, raised: null };
  const hard = spawnSyncText("sh", ["-c", "ulimit -Hn"]);
  if (hard !== "unlimited" && Number(hard) < need)
    throw new Error(
      `${opts.connections} connections need ${need} open files per process, and this machine's hard limit ` +
        `is ${hard} (raise it, e.g. LimitNOFILE or ulimit -Hn as root, or use fewer --connections)`,
    );
  return {
    command: "sh",
    argv: ["-c", `ulimit -n ${need} && exec "$0" "$@"`, command, ...argv],
    raised: need,
  };
}
/** With --pin, the process may run only on these CPUs (`taskset`, same pid). */
function pinTo(cpus, { command, argv, ...rest }) {
  return opts.pin
    ? { command: "taskset", argv: ["-c", cpus, command, ...argv], ...rest }
    : { command, argv, ...rest };
}
function spawnSyncText(cmd, argv) {
  try {
    return execFileSync(cmd, argv, { encoding: "utf8" }).trim();
  } catch {
    return "";
  }
}

// ---- loopback receive steering ------------------------------------------------------------

const LO_RPS_CPUS = "/sys/class/net/lo/queues/rx-0/rps_cpus";
/**
 * On loopback the kernel runs each client's TCP receive processing inside the sender's write:
 * half of what a 10k fan-out costs in the kernel is the clients' work, which remote clients
 * do on their own machines. Receive packet steering of `lo` to the load generator's core puts
 * it there, as pinning does for the load generator's own CPU time. It needs write access to
 * sysfs (root); the mask found is put back when the bench exits.
 */
function steerLoopbackRx(cpu) {
  let before;
  try {
    before = readFileSync(LO_RPS_CPUS, "utf8").trim();
    writeFileSync(LO_RPS_CPUS, (1 << cpu).toString(16));
  } catch (err) {
    log(
      `loopback receive processing not steered (${err.code ?? err.message}): the API's writes include the clients' TCP receive`,
    );
    return null;
  }
  const restore = () => {
    try {
      writeFileSync(LO_RPS_CPUS, before);
    } catch {}
  };
  process.once("exit", restore);
  log(
    `loopback receive processing steered to CPU ${cpu} (${LO_RPS_CPUS}: ${before} -> ${(1 << cpu).toString(16)}, restored at exit)`,
  );
  return { cpu, before, restore };
}
let rxSteering = null;
const loopbackRxLabel = () => (rxSteering ? `steered to CPU ${rxSteering.cpu}` : "unsteered");

// ---- the run ---------------------------------------------------------------------------

const cleanup = [];
async function runCleanup() {
  for (const fn of cleanup.splice(0).reverse()) {
    try {
      await fn();
    } catch (err) {
      log("cleanup:", err.message);
    }
  }
}
let exiting = false;
async function shutdown(code) {
  if (exiting) return;
  exiting = true;
  await runCleanup();
  process.exit(code);
}
const deadline = setTimeout(() => {
  log(`timed out after ${timeoutS} s`);
  void shutdown(3);
}, timeoutS * 1000);
deadline.unref();
for (const sig of ["SIGINT", "SIGTERM"]) process.once(sig, () => void shutdown(130));

async function runPhase(run) {
  const { modes, totalTicks } = run;
  log(
    `${run.name}: C=${opts.connections} k=${opts.k} S=${opts.servers} U=${opts.users}`,
    `ticks=${opts.warmup}+${opts.ticks}x${modes.join("/")} interval=${opts.interval} ms churn=${opts.churn} timeout=${timeoutS} s`,
  );

  // 1. a fresh database
  const baseUrl = process.env.DATABASE_URL || "postgres://postgres@127.0.0.1:5432/postgres";
  const dbName = `panel_bench_${opts.preset.replace(/\W/g, "")}_${Date.now()}`;
  const admin = postgres(baseUrl, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database "${dbName}"`);
  const dbUrl = new URL(baseUrl);
  dbUrl.pathname = `/${dbName}`;
  cleanup.push(async () => {
    if (opts.keepDb) return log(`kept database ${dbName}`);
    await admin.unsafe(`drop database if exists "${dbName}" with (force)`);
    await admin.end({ timeout: 5 });
  });

  // 2. the built API
  const secret = randomBytes(32).toString("hex");
  const env = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    NODE_ENV: "production",
    PORT: "0",
    HOST: "127.0.0.1",
    DATABASE_URL: dbUrl.toString(),
    BETTER_AUTH_SECRET: secret,
    BETTER_AUTH_URL: "http://127.0.0.1:3001",
    LOG_LEVEL: "info",
    SEED_DEMO: "false",
    AUTH_RATE_LIMIT: "false",
    SYNC_INTERVAL_MS: String(opts.interval),
    // every ticket is minted before the first connection opens; on a busy machine minting 10,000
    // takes longer than a real client's mint-then-connect ever would
    WS_TICKET_TTL_MS: String(Math.max(60_000, opts.connections * 60)),
    WS_MAX_SUBSCRIPTIONS: String(Math.max(100, opts.k)),
    // The load generator has up to 128 sockets authenticating at once from one source address.
    WS_MAX_UNAUTHED_PER_ADDRESS: "256",
  };
  // The API's default socket cap keeps 10% of the open-file limit (at least 1024) for other files.
  const fdNeed = Math.max(opts.connections + 1024, Math.ceil(opts.connections / 0.9) + 1);
  // The inspector (loopback, random port) lets the bench ask for a full GC to measure what the
  // connections hold apart from garbage, and profile the ticks; nothing attaches to it until then.
  const nodeArgs = ["--inspect=127.0.0.1:0", ...PRODUCT_NODE_FLAGS, ...opts.apiNodeFlags];
  const serverCmd = pinTo(
    opts.apiCpus,
    fdLimitWrap(process.execPath, [...nodeArgs, BENCH_API, "--fanout", run.fanout], fdNeed),
  );
  const server = spawn(serverCmd.command, serverCmd.argv, { env, stdio: ["ignore", "pipe", "pipe"] });
  const serverExited = new Promise((r) => server.once("exit", (code, sig) => r({ code, sig })));
  cleanup.push(async () => {
    if (server.exitCode !== null || server.signalCode !== null) return;
    server.kill("SIGTERM");
    const t = setTimeout(() => server.kill("SIGKILL"), 15_000);
    await serverExited;
    clearTimeout(t);
  });
  const logPath = join(os.tmpdir(), `${dbName}.server.log`);
  const logLines = [];
  const ticks = [];
  let tickListener = null;
  let listening;
  const listeningP = new Promise((r) => (listening = r));
  readline.createInterface({ input: server.stdout }).on("line", (line) => {
    let rec;
    try {
      rec = JSON.parse(line);
    } catch {
      logLines.push(line);
      return;
    }
    if (rec.msg === "sync tick") {
      rec.procCpuS = procCpuSeconds(server.pid); // whole-process CPU when this tick was logged
      ticks.push(rec);
      tickListener?.(rec);
      return;
    }
    logLines.push(line);
    if (rec.msg?.startsWith("panel API listening")) listening(rec.port);
  });
  let inspectorUrl;
  server.stderr.on("data", (d) => {
    const text = d.toString();
    inspectorUrl ??= text.match(/Debugger listening on (ws:\/\/\S+)/)?.[1];
    logLines.push(text);
  });
  cleanup.push(async () => writeFileSync(logPath, logLines.join("\n")));
  const port = await Promise.race([
    listeningP,
    serverExited.then((e) => {
      throw new Error(`API exited (${JSON.stringify(e)}):\n${logLines.slice(-20).join("\n")}`);
    }),
    sleep(60_000).then(() => {
      throw new Error("API did not start within 60 s");
    }),
  ]);
  // the server's pid (behind `sh` when the fd limit was raised with exec: same pid)
  const pid = server.pid;
  log(
    `API pid ${pid} on 127.0.0.1:${port}${serverCmd.raised ? ` (nofile raised to ${serverCmd.raised})` : ""}`,
  );

  // 3. fixture data, straight into the database
  const db = postgres(dbUrl.toString(), { max: 4, onnotice: () => {} });
  cleanup.push(() => db.end({ timeout: 5 }));
  const t0 = wall();
  const { users, serverIds } = await insertFixtures(db, secret);
  log(`fixtures: ${opts.users} users, ${opts.servers} servers in ${Math.round(wall() - t0)} ms`);

  // one real ticket request checks the cookie before anything heavy
  const probe = await fetch(`http://127.0.0.1:${port}/api/ws/token`, {
    headers: { cookie: users[0].cookie },
  });
  if (probe.status !== 200)
    throw new Error(`GET /api/ws/token with a bench session: ${probe.status} ${await probe.text()}`);
  await sleep(Math.min(2000, opts.interval));
  const idle = procStatus(pid);
  const idleAfterGc = await afterFullGc(inspectorUrl, pid);
  log(`idle RSS ${(idle.rss / 2 ** 20).toFixed(1)} MiB`);

  // 4. the load generator
  const lgCmd = pinTo("1", fdLimitWrap(process.execPath, [join(ROOT, "bench/loadgen.mjs")], fdNeed));
  const loadgen = spawn(lgCmd.command, lgCmd.argv, { stdio: ["ignore", "inherit", "inherit", "ipc"] });
  const lgExited = new Promise((r) => loadgen.once("exit", (code, sig) => r({ code, sig })));
  cleanup.push(async () => {
    if (loadgen.exitCode !== null || loadgen.signalCode !== null) return;
    loadgen.kill("SIGKILL");
    await lgExited;
  });
  const inbox = [];
  const waiters = [];
  loadgen.on("message", (m) => {
    if (m.type === "progress") return log(`${m.phase} ${m.done}/${m.of}`);
    if (m.type === "failed") log(`loadgen failed: ${m.error}`);
    const w = waiters.findIndex((x) => x.type === m.type || m.type === "failed");
    if (w >= 0) waiters.splice(w, 1)[0].resolve(m);
    else inbox.push(m);
  });
  const expect = (type, ms) => {
    const i = inbox.findIndex((m) => m.type === type);
    if (i >= 0) return Promise.resolve(inbox.splice(i, 1)[0]);
    return Promise.race([
      new Promise((resolve) => waiters.push({ type, resolve })),
      lgExited.then((e) => ({ type: "failed", error: `loadgen exited ${JSON.stringify(e)}` })),
      sleep(ms).then(() => ({ type: "failed", error: `no ${type} from loadgen within ${ms} ms` })),
    ]).then((m) => {
      if (m.type === "failed") throw new Error(m.error);
      return m;
    });
  };
  await expect("ready", 30_000);
  const connectTimeoutMs = 60_000 + opts.connections * 60;
  loadgen.send({
    type: "start",
    config: {
      port,
      connections: opts.connections,
      k: opts.k,
      users,
      sources: Array.from({ length: opts.sources }, (_, i) => `127.0.0.${i + 1}`),
      chunk: opts.chunk,
      ticketConcurrency: 32,
      connectConcurrency: 128,
      subscribeConcurrency: 256,
      taps: 4,
      expectedTicks: totalTicks,
      connectTimeoutMs,
    },
  });
  const connected = await expect("connected", connectTimeoutMs + 10_000);
  const c = connected.connect;
  log(
    `connected ${c.connections - c.failedConnections}/${c.connections}: ${Math.round(c.connectPerSec)} conn/s`,
    `(p50 ${round(c.connectLatencyMs.p50)} ms, p99 ${round(c.connectLatencyMs.p99)} ms),`,
    `tickets ${Math.round(c.ticketsPerSec)}/s, subscribe ${Math.round(c.subscribePhaseMs)} ms`,
  );
  if (c.failedConnections) log(`failures: ${c.failureSamples.join("; ")}`);

  // 5. ticks: record from the next tick on; warm-up ticks first, then the measured ones
  const nextTick = () =>
    new Promise((resolve) => {
      tickListener = (t) => {
        tickListener = null;
        resolve(t);
      };
    });
  const tickTimeout = opts.interval * 3 + 30_000;
  const withTick = () =>
    Promise.race([
      nextTick(),
      sleep(tickTimeout).then(() => {
        throw new Error(`no sync tick within ${tickTimeout} ms`);
      }),
    ]);
  // Before each tick a rotating share of the servers changes (`--churn`), so a fan-out that
  // reuses unchanged snapshots is measured with changes to send; the wire check's servers stay.
  const tapped = new Set(c.tappedServers);
  const churnable = serverIds.filter((id) => !tapped.has(id));
  const churnPerTick = Math.min(churnable.length, Math.round(opts.churn * opts.servers));
  let churned = 0;
  const churn = async () => {
    if (!churnPerTick) return;
    const ids = Array.from({ length: churnPerTick }, (_, i) => churnable[(churned + i) % churnable.length]);
    churned += churnPerTick;
    await db`update servers set updated_at = now() where id = any(${ids})`;
  };
  await withTick(); // the tick in flight may predate some subscriptions: let it pass
  loadgen.send({ type: "record" });
  const recordingAt = (await expect("recording", 10_000)).at;
  const profile =
    args.profile && inspectorUrl
      ? await startTickProfile(inspectorUrl, join(ROOT, `bench/results/profiles/${run.name}.cpuprofile`))
      : undefined;
  const cpuAtStart = { machine: machineCpu(), server: procCpuSeconds(pid), load: os.loadavg() };
  const rssSamples = [];
  const sampler = setInterval(() => {
    try {
      rssSamples.push({ at: wall(), ...procStatus(pid) });
    } catch {}
  }, 100);
  cleanup.push(() => clearInterval(sampler));
  const recorded = [];
  await churn();
  while (recorded.length < totalTicks) {
    const t = await withTick();
    await churn();
    if (t.tickAt <= recordingAt) continue;
    recorded.push(t);
    log(
      `tick ${recorded.length}/${totalTicks} ${t.fanout}: ${t.frames} frames, query ${round(t.queryMs)} ms,`,
      `fan-out ${round(t.fanoutMs)} ms${recorded.length <= opts.warmup ? " (warm-up)" : ""}`,
    );
  }
  // let the last tick's frames arrive and one more period of RSS samples accumulate
  const windowEnd = recorded.at(-1).tickAt + opts.interval;
  await sleep(Math.max(0, windowEnd - wall() - 50));
  clearInterval(sampler);
  await profile?.stop();
  const m1 = machineCpu();
  const serverCpu = procCpuSeconds(pid) - cpuAtStart.server;
  const machineBusy = m1.busy - cpuAtStart.machine.busy;
  const contention = {
    loadAvgAtStart: cpuAtStart.load.map((v) => round(v, 2)),
    loadAvgAtEnd: os.loadavg().map((v) => round(v, 2)),
    machineBusyCores: round(machineBusy / ((wall() - recordingAt) / 1000), 2),
    serverCpuS: round(serverCpu, 2),
    // CPU used by everything but the API (load generator, PostgreSQL, and anything else on the machine)
    otherCpuS: round(machineBusy - serverCpu, 2),
  };
  const afterTicks = ticks.find((t) => t.tickAt > recorded.at(-1).tickAt);
  loadgen.send({
    type: "analyse",
    ticks: recorded.map((t) => ({ tickAt: t.tickAt, mode: t.fanout })),
    windowEnd: afterTicks ? afterTicks.tickAt : windowEnd,
  });
  const { analysis, wire, closes, arrivals } = await expect("analysis", 120_000);
  const loadedAfterGc = await afterFullGc(inspectorUrl, pid);
  const storm = opts.storm && run === phases[0] ? await reconnectStorm(loadgen, expect, pid) : null;
  loadgen.send({ type: "close" });
  await expect("closed", 30_000).catch((e) => log(e.message));

  // 6. join and report
  const clientByTick = new Map(analysis.ticks.map((t) => [t.tickAt, t]));
  const rows = recorded.map((t, i) => {
    const client = clientByTick.get(t.tickAt);
    const prev = i > 0 ? recorded[i - 1] : ticks[ticks.indexOf(t) - 1];
    // RSS between this tick and the next, in the quiet second half of the period
    const quiet = rssSamples.filter(
      (s) => s.at > t.tickAt + opts.interval / 2 && s.at < t.tickAt + opts.interval,
    );
    return {
      n: i + 1,
      warmup: i < opts.warmup,
      mode: t.fanout,
      frames: t.frames,
      servers: t.servers,
      skippedSockets: t.skippedSockets,
      revoked: t.revoked,
      queryMs: round(t.queryMs, 2),
      fanoutMs: round(t.fanoutMs, 2),
      tickMs: round(t.queryMs + t.fanoutMs, 2),
      fanoutCpuMs: round(t.cpuUserMs + t.cpuSystemMs, 2),
      fanoutCpuSystemMs: round(t.cpuSystemMs, 2),
      periodCpuS: prev?.procCpuS !== undefined ? round(t.procCpuS - prev.procCpuS, 3) : null,
      // the API process's CPU over the period ending with this tick's fan-out (all it does per tick)
      totalCpuMs: round(t.periodCpuMs, 2),
      // from the tick's start (credential check, query, decoding) to the end of its fan-out
      tickCpuMs: round(t.tickCpuMs, 2),
      gcMs: round(t.gcMs, 2),
      gcCount: t.gcCount,
      pendingBytes: t.pendingBytes,
      pendingSockets: t.pendingSockets,
      corked: t.corked,
      fallbacks: t.fallbacks,
      rssMiB: round(t.rss / 2 ** 20),
      heapUsedMiB: round(t.heapUsed / 2 ** 20),
      quietRssMiB: quiet.length ? round(median(quiet.map((s) => s.rss)) / 2 ** 20) : null,
      clientSpreadMs: round(client?.spreadMs, 2),
      clientLastAfterTickMs: round(client?.lastAfterTickMs, 2),
      expected: client?.expected ?? null,
      received: client?.received ?? null,
      missing: client?.missing ?? null,
      duplicates: client?.duplicates ?? null,
    };
  });
  const measured = rows.filter((r) => !r.warmup);
  const byMode = Object.fromEntries(
    modes.map((mode) => {
      const rs = measured.filter((r) => r.mode === mode);
      const pick = (key) => rs.map((r) => r[key]);
      return [
        mode,
        {
          ticks: rs.length,
          framesPerTick: median(pick("frames")),
          fanoutMs: {
            p50: round(median(pick("fanoutMs")), 2),
            p99: round(percentile(pick("fanoutMs"), 99), 2),
            max: round(Math.max(...pick("fanoutMs")), 2),
          },
          queryMs: { p50: round(median(pick("queryMs")), 2), p99: round(percentile(pick("queryMs"), 99), 2) },
          tickMs: { p50: round(median(pick("tickMs")), 2), p99: round(percentile(pick("tickMs"), 99), 2) },
          clientSpreadMs: {
            p50: round(median(pick("clientSpreadMs")), 2),
            p99: round(percentile(pick("clientSpreadMs"), 99), 2),
          },
          clientLastAfterTickMs: {
            p50: round(median(pick("clientLastAfterTickMs")), 2),
            p99: round(percentile(pick("clientLastAfterTickMs"), 99), 2),
          },
          fanoutCpuMs: round(median(pick("fanoutCpuMs")), 2),
          periodCpuS: round(median(pick("periodCpuS")), 3),
          totalCpuMs: round(median(pick("totalCpuMs")), 2),
          // every period counted, the heartbeat's and the major GCs' too
          totalCpuMeanMs: round(mean(pick("totalCpuMs")), 2),
          tickCpuMs: round(median(pick("tickCpuMs")), 2),
          gcMs: round(median(pick("gcMs")), 2),
          totalOverFanoutCpu: round(median(pick("totalCpuMs")) / median(pick("fanoutCpuMs")), 2),
          nsPerFrame: round((median(pick("fanoutMs")) * 1e6) / Math.max(1, median(pick("frames"))), 0),
          missing: rs.reduce((n, r) => n + (r.missing ?? 0), 0),
          duplicates: rs.reduce((n, r) => n + (r.duplicates ?? 0), 0),
          pendingBytesMax: Math.max(0, ...pick("pendingBytes")),
          fallbacks: rs.reduce((n, r) => n + (r.fallbacks ?? 0), 0),
        },
      ];
    }),
  );
  const quietRss =
    median(measured.map((r) => r.quietRssMiB).filter((v) => v !== null)) ??
    median(measured.map((r) => r.rssMiB));
  const live = c.connections - c.failedConnections;
  const perConnectionKiB = (loadedBytes, idleBytes) => round((loadedBytes - idleBytes) / live / 1024, 2);
  const memory = {
    idleRssMiB: round(idle.rss / 2 ** 20),
    loadedRssMiB: round(quietRss),
    peakRssMiB: round(Math.max(...rssSamples.map((s) => s.rss)) / 2 ** 20),
    heapUsedMiB: round(median(measured.map((r) => r.heapUsedMiB))),
    rssPerConnectionKiB: perConnectionKiB(quietRss * 2 ** 20, idle.rss),
    // both readings taken right after a full GC: what the connections hold, without garbage
    afterGc: idleAfterGc &&
      loadedAfterGc && {
        idleRssMiB: round(idleAfterGc.rss / 2 ** 20),
        loadedRssMiB: round(loadedAfterGc.rss / 2 ** 20),
        idleHeapUsedMiB: round(idleAfterGc.heapUsed / 2 ** 20),
        loadedHeapUsedMiB: round(loadedAfterGc.heapUsed / 2 ** 20),
        rssPerConnectionKiB: perConnectionKiB(loadedAfterGc.rss, idleAfterGc.rss),
        heapPerConnectionKiB: perConnectionKiB(loadedAfterGc.heapUsed, idleAfterGc.heapUsed),
      },
    loadgenRssMiB: round(connected.memory / 2 ** 20),
  };
  const ratio =
    byMode.fast && byMode.naive ? round(byMode.naive.fanoutMs.p50 / byMode.fast.fanoutMs.p50, 2) : null;
  // each strategy against fast: wall-clock fan-out (p50) and the fan-out's own CPU (p50)
  const vsFast = byMode.fast
    ? Object.fromEntries(
        Object.entries(byMode).map(([mode, m]) => [
          mode,
          {
            fanoutWall: round(m.fanoutMs.p50 / byMode.fast.fanoutMs.p50, 2),
            fanoutCpu: round(m.fanoutCpuMs / byMode.fast.fanoutCpuMs, 2),
          },
        ]),
      )
    : null;
  const totalMissing = measured.reduce((n, r) => n + (r.missing ?? 0), 0);
  const totalDup = measured.reduce((n, r) => n + (r.duplicates ?? 0), 0);
  const problems = [];
  if (c.failedConnections)
    problems.push(`${c.failedConnections} connections failed (${c.failureSamples.join("; ")})`);
  if (totalMissing) problems.push(`${totalMissing} snapshots missed`);
  if (totalDup) problems.push(`${totalDup} snapshots duplicated`);
  if (analysis.unexpected) problems.push(`${analysis.unexpected} snapshots for servers not subscribed`);
  if (wire.mismatches) problems.push(`${wire.mismatches} frames differ on the wire between ticks`);
  if (wire.frames === 0) problems.push("no frames tapped for the wire check");
  if (measured.some((r) => r.skippedSockets)) problems.push("slow readers were skipped");
  if (storm?.storm.failed || storm?.preMinted.failed)
    problems.push(
      `reconnect storm: ${storm.storm.failed} + ${storm.preMinted.failed} connections failed (${[...storm.storm.failureSamples, ...storm.preMinted.failureSamples].join("; ")})`,
    );
  const result = {
    preset: opts.preset,
    name: run.name,
    phase: run.label,
    date: new Date().toISOString(),
    machine: {
      cpus: os.cpus().length,
      cpuModel: os.cpus()[0]?.model,
      memGiB: round(os.totalmem() / 2 ** 30, 1),
      node: process.version,
      platform: `${os.platform()} ${os.release()}`,
      loopbackRx: loopbackRxLabel(),
    },
    params: { ...opts, fanout: run.fanout, totalTicks, syncIntervalMs: opts.interval },
    connect: c,
    storm,
    memory,
    byMode,
    naiveOverFast: ratio,
    vsFast,
    contention,
    completeness: {
      ticks: measured.length,
      expectedPerTick: measured[0]?.expected,
      missing: totalMissing,
      duplicates: totalDup,
      arrivals,
      arrivalsOutsideTicks: analysis.arrivalsOutsideTicks,
      unexpected: analysis.unexpected,
      otherMessages: analysis.otherMessages,
      loadgenCloses: closes,
    },
    wire,
    ticks: rows,
    problems,
    ok: problems.length === 0,
  };
  printReport(result, writeResult(run.name, result));
  return result;
}

/**
 * bench/storm.mjs in the load generator: its sockets close, then the same number of clients
 * reconnect with pre-minted tickets, then again each minting its own (the headline figure).
 */
async function reconnectStorm(loadgen, expect, pid) {
  log(`reconnect storm: ${opts.connections} clients, pre-minted tickets then minting their own`);
  const sourceSet = (block) => Array.from({ length: opts.sources }, (_, i) => `127.0.${block}.${i + 1}`);
  loadgen.send({
    type: "storm",
    config: {
      apiPid: pid,
      connections: opts.connections,
      inFlight: 128,
      mintInFlight: 32,
      preMintedSources: sourceSet(1),
      stormSources: sourceSet(2),
      timeoutMs: stormTimeoutMs,
    },
  });
  const { storm } = await expect("storm", stormTimeoutMs + 10_000);
  log(
    `reconnect storm: ${storm.storm.perSec} conn/s end to end, ${storm.preMinted.perSec} conn/s pre-minted`,
    `(${(100 * storm.stormOverPreMinted).toFixed(1)} %), minting alone ${storm.mint.perSec}/s`,
  );
  return storm;
}

async function main() {
  buildBenchApi();
  if (opts.steerRx) rxSteering = steerLoopbackRx(1);
  const results = [];
  for (const run of phases) {
    results.push(await runPhase(run));
    await runCleanup();
  }
  let floor = null;
  if (results.length > 1 && results[0].wire.meanFrameBytes) {
    await sleep(5000); // the last phase's 10,000s of sockets are still closing
    floor = measureFloor(results[0].wire.meanFrameBytes * opts.k);
    if (rxSteering && floor) {
      // and what the kernel costs the writer when the receivers' processing is not steered away
      rxSteering.restore();
      floor.unsteered = measureFloor(results[0].wire.meanFrameBytes * opts.k, "unsteered");
    }
  }
  if (results.length > 1) printSummary(results, floor);
  return results.every((r) => r.ok) ? 0 : 1;
}

/**
 * bench/floor.mjs with the same connection count and bytes per socket: plain loopback TCP, one
 * write per socket, no WebSocket or JSON. What the kernel alone costs on this machine right now.
 */
function measureFloor(bytesPerSocket, variant) {
  log(
    `floor: ${opts.connections} plain TCP sockets, ${bytesPerSocket} bytes each${variant ? ` (${variant})` : ""}`,
  );
  const floorArgs = ["--connections", String(opts.connections), "--bytes", String(bytesPerSocket)];
  if (opts.pin) floorArgs.push("--reader-cpu", "1");
  const writer = pinTo(
    opts.apiCpus,
    fdLimitWrap(process.execPath, [join(ROOT, "bench/floor.mjs"), ...floorArgs], opts.connections + 1024),
  );
  const out = spawnSyncText(writer.command, writer.argv);
  try {
    const floor = {
      ...JSON.parse(out.split("\n").at(-1)),
      loopbackRx: variant ?? loopbackRxLabel(),
      date: new Date().toISOString(),
    };
    writeResult(`${opts.name}-floor${variant ? `-${variant}` : ""}`, floor);
    return floor;
  } catch {
    log(`floor: no result (${out.slice(-200)})`);
    return null;
  }
}

/** bench/results/<name>-<date>.json; returns its path. */
function writeResult(name, data) {
  mkdirSync(join(ROOT, "bench/results"), { recursive: true });
  const file = join(ROOT, "bench/results", `${name}-${new Date().toISOString().slice(0, 10)}.json`);
  writeFileSync(file, `${JSON.stringify(data, null, 2)}\n`);
  return file;
}

/** The targets' figures, each from the phase that measures it. */
function printSummary([fastOnly, alternating], floor) {
  const f = fmtNum;
  const fast = fastOnly.byMode.fast;
  const c = fastOnly.connect;
  console.log(
    `\n## bench ${opts.name}: summary (fast-only phase, and the alternating phase for the ratio)\n`,
  );
  const rows = [
    ["fan-out p50 / p99 (fast-only)", `${f(fast.fanoutMs.p50)} / ${f(fast.fanoutMs.p99)} ms`],
    [
      "API CPU per tick: total / fan-out (fast-only, medians)",
      `${f(fast.totalCpuMs, 0)} / ${f(fast.fanoutCpuMs, 0)} ms = ${f(fast.totalOverFanoutCpu, 2)}x (target <= 1.25x)`,
    ],
    [
      "API CPU per tick, mean over all periods (heartbeats, major GCs)",
      `${f(fast.totalCpuMeanMs, 0)} ms = ${f(fast.totalCpuMeanMs / fast.fanoutCpuMs, 2)}x the fan-out's median`,
    ],
    [
      `kernel floor (plain TCP, same bytes; loopback receive ${loopbackRxLabel()})`,
      floor
        ? `${f(floor.wallMs)} ms (fast-only fan-out = ${f(fast.fanoutMs.p50 / floor.wallMs, 2)}x floor)`
        : "-",
    ],
    ...(floor?.unsteered
      ? [
          [
            "kernel floor, loopback receive unsteered",
            `${f(floor.unsteered.wallMs)} ms (the clients' receive work included)`,
          ],
        ]
      : []),
    [
      "fan-out p50 fast / naive (alternating)",
      `${f(alternating.byMode.fast?.fanoutMs.p50)} / ${f(alternating.byMode.naive?.fanoutMs.p50)} ms`,
    ],
    [
      "naive / fast (p50 wall, CPU)",
      `${f(alternating.vsFast?.naive?.fanoutWall, 2)}x, ${f(alternating.vsFast?.naive?.fanoutCpu, 2)}x`,
    ],
    ...(fastOnly.storm ? stormRows(fastOnly.storm) : []),
    [
      "connect + auth, initial connect (fast-only)",
      `${Math.round(c.connectPerSec)} conn/s, p99 ${f(c.connectLatencyMs.p99)} ms`,
    ],
    ["connect + auth (alternating)", `${Math.round(alternating.connect.connectPerSec)} conn/s`],
    ["RSS per connection (fast-only)", `${f(fastOnly.memory.rssPerConnectionKiB, 2)} KiB`],
    ["RSS per connection (alternating)", `${f(alternating.memory.rssPerConnectionKiB, 2)} KiB`],
    [
      "RSS per connection after a full GC (fast-only)",
      `${f(fastOnly.memory.afterGc?.rssPerConnectionKiB, 2)} KiB (V8 heap ${f(fastOnly.memory.afterGc?.heapPerConnectionKiB, 2)} KiB)`,
    ],
    ["missed snapshots", `${fastOnly.completeness.missing + alternating.completeness.missing} (both phases)`],
  ];
  const w = Math.max(...rows.map((r) => r[0].length));
  for (const [k, v] of rows) console.log(`${k.padStart(w)} | ${v}`);
}

// Users, one session each, a location, nodes, a blueprint, servers with one allocation, subusers.
// User u owns servers [u*S/U, (u+1)*S/U) and is a subuser of the next ones until it can see
// max(k, S/U) servers; connection i belongs to user i mod U.
async function insertFixtures(db, secret) {
  const { users: U, servers: S, k } = opts;
  const pad = (n) => String(n).padStart(6, "0");
  const userRows = [];
  const sessionRows = [];
  const cookies = [];
  const expires = new Date(Date.now() + 24 * 3600 * 1000);
  for (let u = 0; u < U; u++) {
    const id = `user_bench${pad(u)}`;
    userRows.push({
      id,
      name: `Bench ${u}`,
      email: `bench${u}@bench.invalid`,
      email_verified: true,
      role: "user",
    });
    const token = randomBytes(24).toString("base64url");
    sessionRows.push({ id: `bsess${pad(u)}`, token, user_id: id, expires_at: expires, user_agent: "bench" });
    const signature = createHmac("sha256", secret).update(token).digest("base64");
    cookies.push(`better-auth.session_token=${encodeURIComponent(`${token}.${signature}`)}`);
  }
  const NODES = 10;
  const serverRows = [];
  const allocationRows = [];
  const owner = (n) => Math.floor((n * U) / S);
  const visible = Array.from({ length: U }, () => []);
  const subuserRows = [];
  for (let n = 0; n < S; n++) {
    const shortId = `b${pad(n)}`;
    const id = `srv_${shortId}`;
    serverRows.push({
      id,
      short_id: shortId,
      name: `bench-server-${n}`,
      status: "running",
      container_id: `container_${shortId}`,
      memory: 2048,
      disk: 10240,
      cpu: 100,
      swap: 0,
      backup_limit: 5,
      node_id: `node_bench${n % NODES}`,
      blueprint_id: "bp_bench",
      owner_id: userRows[owner(n)].id,
    });
    allocationRows.push({
      id: `alloc_${shortId}`,
      node_id: `node_bench${n % NODES}`,
      server_id: id,
      ip: "0.0.0.0",
      port: 20_000 + Math.floor(n / NODES),
      is_primary: true,
    });
    visible[owner(n)].push(id);
  }
  for (let u = 0; u < U; u++) {
    let next = visible[u].length ? (Number(visible[u].at(-1).slice(5)) + 1) % S : Math.floor((u * S) / U) % S;
    while (visible[u].length < Math.min(k, S)) {
      const id = serverRows[next].id;
      if (!visible[u].includes(id)) {
        visible[u].push(id);
        subuserRows.push({ server_id: id, user_id: userRows[u].id });
      }
      next = (next + 1) % S;
    }
  }
  const batch = async (table, rows) => {
    for (let i = 0; i < rows.length; i += 2000)
      await db`insert into ${db(table)} ${db(rows.slice(i, i + 2000))}`;
  };
  await batch("user", userRows);
  await batch("session", sessionRows);
  await batch("locations", [{ id: "loc_bench", name: "Bench" }]);
  await batch(
    "nodes",
    Array.from({ length: NODES }, (_, i) => ({
      id: `node_bench${i}`,
      short_id: `nbench${i}`,
      display_name: `Bench ${i}`,
      fqdn: `node${i}.bench.invalid`,
      host: `node${i}.bench.invalid`,
      port: 443,
      protocol: "https",
      sftp_port: 2022,
      daemon_port: 8080,
      is_online: true,
      location_id: "loc_bench",
    })),
  );
  await batch("blueprints", [{ id: "bp_bench", name: "Bench blueprint" }]);
  await batch("servers", serverRows);
  await batch("allocations", allocationRows);
  await batch("server_subusers", subuserRows);
  await db`analyze`;
  return {
    users: cookies.map((cookie, u) => ({ cookie, visible: visible[u] })),
    serverIds: serverRows.map((r) => r.id),
  };
}

function printReport(r, file) {
  const f = fmtNum;
  const table = (head, lines) => {
    const widths = head.map((h, i) => Math.max(h.length, ...lines.map((l) => String(l[i]).length)));
    const fmt = (cells) => `| ${cells.map((c, i) => String(c).padStart(widths[i])).join(" | ")} |`;
    return [fmt(head), `|${widths.map((w) => `${"-".repeat(w + 1)}:`).join("|")}|`, ...lines.map(fmt)].join(
      "\n",
    );
  };
  const c = r.connect;
  console.log(
    `\n## bench ${r.name}: C=${r.params.connections}, k=${r.params.k}, S=${r.params.servers}, U=${r.params.users}, SYNC_INTERVAL_MS=${r.params.interval}`,
  );
  console.log(`${r.machine.cpus} cores (${r.machine.cpuModel}), Node ${r.machine.node}, ${r.date}\n`);
  console.log(
    table(
      [
        "tick",
        "fan-out",
        "frames",
        "query ms",
        "fan-out ms",
        "tick ms",
        "client spread ms",
        "last recv ms",
        "CPU ms (sys)",
        "total CPU ms",
        "RSS MiB",
        "heap MiB",
        "missed",
      ],
      r.ticks.map((t) => [
        `${t.n}${t.warmup ? "w" : ""}`,
        t.mode,
        t.frames,
        f(t.queryMs),
        f(t.fanoutMs),
        f(t.tickMs),
        f(t.clientSpreadMs),
        f(t.clientLastAfterTickMs),
        `${f(t.fanoutCpuMs, 0)} (${f(t.fanoutCpuSystemMs, 0)})`,
        f(t.totalCpuMs, 0),
        f(t.rssMiB),
        f(t.heapUsedMiB),
        t.missing ?? "-",
      ]),
    ),
  );
  console.log();
  console.log(
    table(
      [
        "strategy",
        "ticks",
        "frames/tick",
        "fan-out p50",
        "fan-out p99",
        "ns/frame",
        "query p50",
        "client spread p50",
        "CPU/tick (fan-out)",
        "CPU/tick (tick)",
        "CPU/tick (total)",
        "total, mean",
        "total ÷ fan-out",
        "GC pauses/tick",
        "missed",
      ],
      Object.entries(r.byMode).map(([mode, m]) => [
        mode,
        m.ticks,
        m.framesPerTick,
        `${f(m.fanoutMs.p50)} ms`,
        `${f(m.fanoutMs.p99)} ms`,
        m.nsPerFrame,
        `${f(m.queryMs.p50)} ms`,
        `${f(m.clientSpreadMs.p50)} ms`,
        `${f(m.fanoutCpuMs, 0)} ms`,
        `${f(m.tickCpuMs, 0)} ms`,
        `${f(m.totalCpuMs, 0)} ms`,
        `${f(m.totalCpuMeanMs, 0)} ms`,
        `${f(m.totalOverFanoutCpu, 2)}x`,
        `${f(m.gcMs, 0)} ms`,
        m.missing,
      ]),
    ),
  );
  console.log();
  console.log(
    table(
      ["metric", "value"],
      [
        ...(r.storm ? stormRows(r.storm) : []),
        [
          "initial connect: connect + auth (pre-minted)",
          `${Math.round(c.connectPerSec)} conn/s, p50 ${f(c.connectLatencyMs.p50)} ms, p99 ${f(c.connectLatencyMs.p99)} ms`,
        ],
        [
          "initial connect: minting (GET /api/ws/token)",
          `${Math.round(c.ticketsPerSec)} tickets/s, p50 ${f(c.ticketLatencyMs.p50)} ms, p99 ${f(c.ticketLatencyMs.p99)} ms`,
        ],
        ["initial connect: mint, then connect + auth", `${Math.round(c.endToEndPerSec)} conn/s`],
        ["connections ok / failed", `${c.connections - c.failedConnections} / ${c.failedConnections}`],
        [
          "RSS idle / loaded / peak",
          `${f(r.memory.idleRssMiB)} / ${f(r.memory.loadedRssMiB)} / ${f(r.memory.peakRssMiB)} MiB`,
        ],
        ["RSS per connection", `${f(r.memory.rssPerConnectionKiB, 2)} KiB`],
        [
          "after a full GC: RSS idle / loaded",
          r.memory.afterGc
            ? `${f(r.memory.afterGc.idleRssMiB)} / ${f(r.memory.afterGc.loadedRssMiB)} MiB`
            : "-",
        ],
        [
          "after a full GC: per connection",
          r.memory.afterGc
            ? `RSS ${f(r.memory.afterGc.rssPerConnectionKiB, 2)} KiB, V8 heap ${f(r.memory.afterGc.heapPerConnectionKiB, 2)} KiB`
            : "-",
        ],
        ...Object.entries(r.vsFast ?? {})
          .filter(([mode]) => mode !== "fast")
          .map(([mode, v]) => [
            `${mode} / fast fan-out (p50 wall, CPU)`,
            `${f(v.fanoutWall, 2)}x, ${f(v.fanoutCpu, 2)}x`,
          ]),
        [
          "machine during ticks",
          `${f(r.contention.machineBusyCores, 2)} of ${r.machine.cpus} cores busy; load avg ${r.contention.loadAvgAtStart[0]} -> ${r.contention.loadAvgAtEnd[0]}; API ${f(r.contention.serverCpuS, 2)} s CPU, others ${f(r.contention.otherCpuS, 2)} s`,
        ],
        [
          "completeness",
          `${r.completeness.missing} missed, ${r.completeness.duplicates} duplicated over ${r.completeness.ticks} ticks x ${r.completeness.expectedPerTick} snapshots`,
        ],
        [
          "wire check",
          `${r.wire.frames} tapped frames of ${r.wire.servers} servers, ${r.wire.mismatches} differ (${Object.entries(
            r.wire.framesByMode,
          )
            .map(([m, n]) => `${m} ${n}`)
            .join(", ")})`,
        ],
      ],
    ),
  );
  console.log(`\n${r.ok ? "OK" : `FAILED: ${r.problems.join("; ")}`} — ${file}`);
}

main()
  .then((code) => shutdown(code))
  .catch((err) => {
    log(err.stack ?? err);
    void shutdown(1);
  });
