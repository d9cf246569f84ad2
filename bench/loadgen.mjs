// Load generator for bench/run.mjs: a separate process (forked, IPC channel) that mints
// tickets over HTTP, opens C WebSocket connections with them, subscribes each to k servers,
// records every `server:sync` arrival, and later attributes them to the server's ticks.
// Every step is bounded in count and time; the process exits on its own when told or when
// its parent goes away.
import http from "node:http";
import { createRequire } from "node:module";
import { mint, runStorm } from "./storm.mjs";

const require = createRequire(new URL("../apps/api/package.json", import.meta.url));
const { WebSocket } = require("ws");

const now = () => performance.timeOrigin + performance.now();
const SYNC_PREFIX = Buffer.from('{"type":"server:sync","serverId":"');
const QUOTE = 0x22;

/** @type {any} */
let cfg;
/** @type {Conn[]} */
const conns = [];
let recording = false;
// Arrivals while recording: wall time, connection index, subscription index (k <= 255).
let cap = 0;
let used = 0;
let tTimes = new Float64Array(0);
let tConn = new Uint32Array(0);
let tSub = new Uint8Array(0);
let unexpected = 0; // server:sync for a server the connection did not subscribe to
let otherWhileRecording = {}; // message types seen while recording, besides server:sync
const closes = { count: 0, codes: {} };
// Raw-byte taps (first few connections): every chunk as it came off the TCP socket.
const taps = [];

function grow(min) {
  const next = Math.max(min, cap * 2, 1024);
  const t = new Float64Array(next);
  t.set(tTimes.subarray(0, used));
  const c = new Uint32Array(next);
  c.set(tConn.subarray(0, used));
  const s = new Uint8Array(next);
  s.set(tSub.subarray(0, used));
  tTimes = t;
  tConn = c;
  tSub = s;
  cap = next;
}

class Conn {
  constructor(index, subs) {
    this.index = index;
    this.subs = subs; // server ids
    this.ws = null;
    this.startedAt = 0;
    this.authMs = -1;
    this.subscribed = 0;
    this.initialSyncs = 0;
    this.onAuth = null;
    this.onReady = null;
    this.failed = null;
  }
}

function subIndex(conn, data) {
  // `{"type":"server:sync","serverId":"<id>",...`: read the id without parsing the snapshot.
  const start = SYNC_PREFIX.length;
  const end = data.indexOf(QUOTE, start);
  const id = data.toString("latin1", start, end);
  return conn.subs.indexOf(id);
}

function isSync(data) {
  return (
    data.length > SYNC_PREFIX.length &&
    data.compare(SYNC_PREFIX, 0, SYNC_PREFIX.length, 0, SYNC_PREFIX.length) === 0
  );
}

// One listener shared by every socket; the connection hangs off the socket.
function onMessage(data) {
  const conn = this.__conn;
  if (isSync(data)) {
    const j = subIndex(conn, data);
    if (j < 0) {
      unexpected++;
      return;
    }
    if (recording) {
      if (used === cap) grow(used + 1);
      tTimes[used] = now();
      tConn[used] = conn.index;
      tSub[used] = j;
      used++;
    } else {
      conn.initialSyncs++;
      if (conn.initialSyncs >= conn.subs.length && conn.subscribed === conn.subs.length) conn.onReady?.();
    }
    return;
  }
  let msg;
  try {
    msg = JSON.parse(data.toString());
  } catch {
    msg = { type: "unparsable" };
  }
  if (recording) otherWhileRecording[msg.type] = (otherWhileRecording[msg.type] ?? 0) + 1;
  switch (msg.type) {
    case "auth_success":
      conn.authMs = now() - conn.startedAt;
      conn.onAuth?.();
      break;
    case "subscribed":
      conn.subscribed++;
      if (conn.initialSyncs >= conn.subs.length && conn.subscribed === conn.subs.length) conn.onReady?.();
      break;
    case "auth_error":
    case "error":
    case "unsubscribed":
      conn.failed = `${msg.type}: ${msg.error ?? msg.reason ?? ""}`;
      conn.onAuth?.();
      conn.onReady?.();
      break;
  }
}

function onClose(code) {
  const conn = this.__conn;
  closes.count++;
  closes.codes[code] = (closes.codes[code] ?? 0) + 1;
  conn.failed ??= `closed ${code}`;
  conn.onAuth?.();
  conn.onReady?.();
}

function onError(err) {
  const conn = this.__conn;
  conn.failed ??= `error ${err.code ?? err.message}`;
}

function percentile(sorted, p) {
  if (sorted.length === 0) return null;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i];
}

function latencyStats(values) {
  const sorted = Float64Array.from(values).sort();
  return {
    n: sorted.length,
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    max: sorted.length ? sorted[sorted.length - 1] : null,
  };
}

/** Runs `task(i)` for i in [from, to) with at most `limit` in flight. */
async function pool(from, to, limit, task) {
  let next = from;
  const worker = async () => {
    while (next < to) await task(next++);
  };
  await Promise.all(Array.from({ length: Math.min(limit, to - from) }, worker));
}

function withTimeout(promise, ms, what) {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });

const mintTicket = (cookie) => mint(cfg, agent, cookie);

function openSocket(conn, token) {
  return new Promise((resolve) => {
    conn.startedAt = now();
    conn.onAuth = () => {
      conn.onAuth = null;
      resolve();
    };
    const source = cfg.sources[conn.index % cfg.sources.length];
    const ws = new WebSocket(`ws://127.0.0.1:${cfg.port}/api/ws?token=${encodeURIComponent(token)}`, {
      perMessageDeflate: false,
      localAddress: source,
      handshakeTimeout: 30_000,
    });
    ws.__conn = conn;
    conn.ws = ws;
    ws.on("message", onMessage);
    ws.on("close", onClose);
    ws.on("error", onError);
    if (conn.index < cfg.taps) {
      const tap = { conn: conn.index, chunks: [] };
      taps.push(tap);
      ws.once("open", () => {
        ws._socket.on("data", (chunk) => {
          if (recording) tap.chunks.push({ at: now(), chunk });
        });
      });
    }
  });
}

function subscribeAll(conn) {
  return new Promise((resolve) => {
    if (conn.failed) return resolve();
    conn.onReady = () => {
      conn.onReady = null;
      resolve();
    };
    for (const serverId of conn.subs) conn.ws.send(JSON.stringify({ type: "subscribe", serverId }));
  });
}

async function connectAll() {
  const { connections: C, users, k, chunk, ticketConcurrency, connectConcurrency } = cfg;
  for (let i = 0; i < C; i++) {
    const user = users[i % users.length];
    const offset = Math.floor(i / users.length);
    const subs = [];
    for (let j = 0; j < k; j++) subs.push(user.visible[(offset * k + j) % user.visible.length]);
    conns.push(new Conn(i, [...new Set(subs)]));
  }
  const ticketMs = [];
  let mintTime = 0;
  let connectTime = 0;
  const failures = [];
  for (let from = 0; from < C; from += chunk) {
    const to = Math.min(C, from + chunk);
    const tokens = new Array(to - from);
    const t0 = now();
    await pool(from, to, ticketConcurrency, async (i) => {
      const s = now();
      tokens[i - from] = await mintTicket(users[i % users.length].cookie);
      ticketMs.push(now() - s);
    });
    const t1 = now();
    await pool(from, to, connectConcurrency, (i) => openSocket(conns[i], tokens[i - from]));
    const t2 = now();
    mintTime += t1 - t0;
    connectTime += t2 - t1;
    process.send({ type: "progress", phase: "connect", done: to, of: C });
  }
  const authMs = [];
  for (const c of conns) {
    if (c.failed || c.authMs < 0) failures.push(c.failed ?? "no auth_success");
    else authMs.push(c.authMs);
  }
  const s0 = now();
  await pool(0, C, cfg.subscribeConcurrency, (i) => subscribeAll(conns[i]));
  const subscribeTime = now() - s0;
  for (const c of conns) if (c.failed && !failures.includes(c.failed)) failures.push(c.failed);
  const failedConns = conns.filter((c) => c.failed).length;
  return {
    connections: C,
    failedConnections: failedConns,
    failureSamples: [...new Set(failures)].slice(0, 5),
    ticketsPerSec: C / (mintTime / 1000),
    ticketLatencyMs: latencyStats(ticketMs),
    ticketPhaseMs: mintTime,
    connectPerSec: authMs.length / (connectTime / 1000),
    connectLatencyMs: latencyStats(authMs),
    connectPhaseMs: connectTime,
    endToEndPerSec: authMs.length / ((mintTime + connectTime) / 1000),
    subscribePhaseMs: subscribeTime,
    subscriptions: conns.reduce((n, c) => n + (c.failed ? 0 : c.subs.length), 0),
    // the servers whose frames the wire check compares tick after tick: the bench leaves them unchanged
    tappedServers: [...new Set(conns.slice(0, cfg.taps).flatMap((c) => c.subs))],
  };
}

/** Attributes recorded arrivals to the server's ticks ([tickAt, next tickAt)) and checks completeness. */
function analyse(ticks, windowEnd) {
  const starts = ticks.map((t) => t.tickAt);
  const ends = ticks.map((_, i) => (i + 1 < ticks.length ? ticks[i + 1].tickAt : windowEnd));
  const per = ticks.map(() => ({ received: 0, duplicates: 0, first: Infinity, last: -Infinity }));
  const masks = ticks.map(() => new Uint32Array(conns.length));
  let outside = 0;
  for (let n = 0; n < used; n++) {
    const t = tTimes[n];
    // binary search: last tick starting at or before t
    let lo = 0;
    let hi = starts.length - 1;
    let at = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (starts[mid] <= t) {
        at = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    if (at < 0 || t >= ends[at]) {
      outside++;
      continue;
    }
    const bit = 1 << tSub[n];
    const mask = masks[at];
    const p = per[at];
    if (mask[tConn[n]] & bit) p.duplicates++;
    else {
      mask[tConn[n]] |= bit;
      p.received++;
    }
    if (t < p.first) p.first = t;
    if (t > p.last) p.last = t;
  }
  const results = ticks.map((tick, i) => {
    let expected = 0;
    let missing = 0;
    let incomplete = 0;
    for (const c of conns) {
      if (c.failed) continue;
      expected += c.subs.length;
      const full = (1 << c.subs.length) - 1;
      const got = masks[i][c.index];
      if (got !== full) {
        incomplete++;
        for (let j = 0; j < c.subs.length; j++) if (!(got & (1 << j))) missing++;
      }
    }
    const p = per[i];
    return {
      tickAt: tick.tickAt,
      mode: tick.mode,
      expected,
      received: p.received,
      missing,
      incompleteConnections: incomplete,
      duplicates: p.duplicates,
      spreadMs: p.received ? p.last - p.first : null,
      firstAfterTickMs: p.received ? p.first - tick.tickAt : null,
      lastAfterTickMs: p.received ? p.last - tick.tickAt : null,
    };
  });
  return { ticks: results, arrivalsOutsideTicks: outside, unexpected, otherMessages: otherWhileRecording };
}

/** Parses the tapped raw bytes into frames and checks every server:sync frame of a server is byte-identical. */
function wireCheck(ticks, windowEnd) {
  const byServer = new Map(); // serverId -> first frame bytes
  let frames = 0;
  let frameBytes = 0;
  let identical = 0;
  const mismatches = [];
  const byMode = {};
  const modeAt = (t) => {
    let mode = null;
    for (const tick of ticks) if (tick.tickAt <= t && t < windowEnd) mode = tick.mode;
    return mode;
  };
  for (const tap of taps) {
    let buf = Buffer.alloc(0);
    for (const { at, chunk } of tap.chunks) {
      buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
      let off = 0;
      while (buf.length - off >= 2) {
        const b1 = buf[off + 1];
        let len = b1 & 0x7f;
        let hdr = 2;
        if (b1 & 0x80) hdr += 4; // masked (never from a server)
        if (len === 126) {
          if (buf.length - off < 4) break;
          len = buf.readUInt16BE(off + 2);
          hdr += 2;
        } else if (len === 127) {
          if (buf.length - off < 10) break;
          len = Number(buf.readBigUInt64BE(off + 2));
          hdr += 8;
        }
        if (buf.length - off < hdr + len) break;
        const frame = buf.subarray(off, off + hdr + len);
        const payload = frame.subarray(hdr);
        off += hdr + len;
        if ((frame[0] & 0x0f) !== 1 || !isSync(payload)) continue;
        frames++;
        frameBytes += frame.length;
        const id = payload.toString("latin1", SYNC_PREFIX.length, payload.indexOf(QUOTE, SYNC_PREFIX.length));
        const mode = modeAt(at) ?? "before-ticks";
        byMode[mode] = (byMode[mode] ?? 0) + 1;
        const first = byServer.get(id);
        if (!first) byServer.set(id, Buffer.from(frame));
        else if (first.equals(frame)) identical++;
        else if (mismatches.length < 3)
          mismatches.push({
            serverId: id,
            mode,
            expected: first.toString("base64"),
            got: Buffer.from(frame).toString("base64"),
          });
        else mismatches.push({ serverId: id, mode });
      }
      buf = off < buf.length ? Buffer.from(buf.subarray(off)) : Buffer.alloc(0);
    }
  }
  return {
    tappedConnections: taps.length,
    frames,
    meanFrameBytes: frames ? Math.round(frameBytes / frames) : null,
    servers: byServer.size,
    identical,
    mismatches: mismatches.length,
    mismatchSamples: mismatches.slice(0, 3),
    framesByMode: byMode,
  };
}

async function closeAll() {
  const open = conns.filter((c) => c.ws && c.ws.readyState === WebSocket.OPEN);
  await withTimeout(
    Promise.all(
      open.map(
        (c) =>
          new Promise((resolve) => {
            c.ws.once("close", resolve);
            c.ws.close(1000, "bench done");
          }),
      ),
    ),
    15_000,
    "closing sockets",
  ).catch(() => {
    for (const c of conns) c.ws?.terminate();
  });
}

process.on("disconnect", () => process.exit(0)); // parent gone: stop at once
process.on("message", async (msg) => {
  try {
    if (msg.type === "start") {
      cfg = msg.config;
      grow(cfg.connections * cfg.k * (cfg.expectedTicks + 4));
      const connect = await withTimeout(connectAll(), cfg.connectTimeoutMs, "connect phase");
      process.send({ type: "connected", connect, steadyAt: now(), memory: process.memoryUsage().rss });
    } else if (msg.type === "record") {
      recording = true;
      used = 0;
      otherWhileRecording = {};
      process.send({ type: "recording", at: now() });
    } else if (msg.type === "analyse") {
      recording = false;
      const analysis = analyse(msg.ticks, msg.windowEnd);
      const wire = wireCheck(msg.ticks, msg.windowEnd);
      process.send({ type: "analysis", analysis, wire, closes, arrivals: used });
    } else if (msg.type === "storm") {
      // a deploy: every client is gone, then all reconnect at once (bench/storm.mjs)
      await closeAll();
      const storm = await withTimeout(
        runStorm({ ...msg.config, port: cfg.port, users: cfg.users }),
        msg.config.timeoutMs,
        "reconnect storm",
      );
      process.send({ type: "storm", storm });
    } else if (msg.type === "close") {
      await closeAll();
      process.send({ type: "closed" });
      setTimeout(() => process.exit(0), 100);
    }
  } catch (err) {
    process.send({ type: "failed", error: String(err?.stack ?? err) });
    setTimeout(() => process.exit(1), 100);
  }
});
process.send({ type: "ready" });
