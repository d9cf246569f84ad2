#!/usr/bin/env node
// A small third-party script for the panel API that uses nothing but an API key:
// lists the servers the key's owner can see, mints a fresh WebSocket ticket for every
// connection, subscribes to every server, prints status changes, and reconnects with
// capped exponential backoff (with jitter) on any close other than 1000.
//
//   PANEL_URL=http://localhost:3001 PANEL_API_KEY=pnl_... node examples/ticket-script.mjs
//
// Plain Node 20 ESM; its one dependency is `ws`.
import WebSocket from "ws";

const PANEL_URL = (process.env.PANEL_URL || "http://localhost:3001").replace(/\/+$/, "");
const API_KEY = process.env.PANEL_API_KEY;
const BACKOFF_INITIAL_MS = 1_000;
const BACKOFF_MAX_MS = 30_000;
/** The server syncs every 5 s and pings every 30 s: this long without a frame means a dead link. */
const SILENCE_LIMIT_MS = 75_000;
const NORMAL_CLOSURE = 1000;

if (!API_KEY) {
  console.error("Set PANEL_API_KEY (create one with POST /api/api-keys; see the README).");
  process.exit(2);
}

const log = (...args) => console.log(new Date().toISOString(), ...args);

/** serverId -> { name, status } of what was last printed (kept across reconnects). */
const known = new Map();
let socket;
let retryTimer;
let attempt = 0;
let stopping = false;

class FatalError extends Error {}

/** GET with the API key; 401/403 are fatal (a bad or revoked key will not get better). */
async function api(path) {
  const res = await fetch(`${PANEL_URL}${path}`, { headers: { "x-api-key": API_KEY } });
  const body = await res.json().catch(() => ({}));
  if (res.status === 401 || res.status === 403) {
    throw new FatalError(`${path}: ${res.status} ${body.error ?? ""}`.trim());
  }
  if (!res.ok) throw new Error(`${path}: ${res.status} ${body.error ?? ""}`.trim());
  return body;
}

/** Exponential backoff, capped, with jitter (half fixed, half random) so clients spread out. */
function nextDelay() {
  const ceiling = Math.min(BACKOFF_MAX_MS, BACKOFF_INITIAL_MS * 2 ** attempt);
  attempt++;
  return Math.round(ceiling / 2 + Math.random() * (ceiling / 2));
}

function scheduleReconnect(why) {
  if (stopping) return;
  const delay = nextDelay();
  log(`${why}; reconnecting in ${(delay / 1000).toFixed(1)} s (attempt ${attempt})`);
  retryTimer = setTimeout(connect, delay);
}

async function connect() {
  retryTimer = undefined;
  let servers;
  let token;
  try {
    servers = (await api("/api/servers")).data;
    // A ticket works once and for 60 s: a fresh one for every connection.
    token = (await api("/api/ws/token")).token;
  } catch (err) {
    if (err instanceof FatalError) return fatal(err.message);
    return scheduleReconnect(`cannot reach the panel (${err.cause?.code ?? err.message})`);
  }
  if (stopping) return;
  for (const s of servers) if (!known.has(s.id)) known.set(s.id, { name: s.name, status: undefined });

  const url = new URL("/api/ws", PANEL_URL);
  url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
  url.searchParams.set("token", token);
  const ws = new WebSocket(url);
  socket = ws;
  let watchdog;
  const heard = () => {
    clearTimeout(watchdog);
    watchdog = setTimeout(() => ws.terminate(), SILENCE_LIMIT_MS);
  };
  heard();
  ws.on("ping", heard);
  ws.on("message", (data) => {
    heard();
    onMessage(ws, JSON.parse(String(data)), servers);
  });
  ws.on("error", (err) => log(`socket error: ${err.message}`)); // 'close' follows
  ws.on("close", (code, reason) => {
    clearTimeout(watchdog);
    if (socket === ws) socket = undefined;
    if (stopping) return;
    if (code === NORMAL_CLOSURE) {
      log("the panel closed the connection normally; exiting");
      return process.exit(0);
    }
    scheduleReconnect(`connection closed (${code}${reason.length ? ` ${reason}` : ""})`);
  });
}

function onMessage(ws, message, servers) {
  switch (message.type) {
    case "auth_success":
      attempt = 0; // a good connection resets the backoff
      log(`connected as ${message.userId}; subscribing to ${servers.length} server(s)`);
      for (const s of servers) ws.send(JSON.stringify({ type: "subscribe", serverId: s.id }));
      return;
    case "auth_error":
      // The server closes the socket next (4001, or 1008 over the key's socket cap).
      return log(`authentication refused: ${message.error}`);
    case "server:sync":
      return onSync(message.serverId, message.data);
    case "unsubscribed":
      if (message.reason === "access_revoked") {
        log(`${label(message.serverId)}: access revoked (deleted, or no longer shared with you)`);
        known.delete(message.serverId);
      }
      return;
    case "error":
      return log(`panel error: ${message.error}${message.serverId ? ` (${message.serverId})` : ""}`);
    default:
      return; // subscribed, pong, and anything newer than this script
  }
}

function onSync(serverId, data) {
  const previous = known.get(serverId);
  known.set(serverId, { name: data.name, status: data.status });
  if (previous?.status === data.status) return;
  if (previous?.status === undefined) log(`${label(serverId)}: ${data.status}`);
  else log(`${label(serverId)}: ${previous.status} -> ${data.status}`);
}

function label(serverId) {
  const name = known.get(serverId)?.name;
  return name ? `${name} (${serverId})` : serverId;
}

function fatal(message) {
  console.error(`${new Date().toISOString()} giving up: ${message}`);
  process.exit(1);
}

function shutdown() {
  if (stopping) process.exit(130); // a second Ctrl-C: do not wait
  stopping = true;
  clearTimeout(retryTimer);
  log("stopping");
  if (!socket || socket.readyState === WebSocket.CLOSED) return process.exit(0);
  socket.once("close", () => process.exit(0));
  socket.close(NORMAL_CLOSURE, "Client exiting");
  setTimeout(() => process.exit(0), 2_000).unref();
}

process.on("SIGINT", shutdown);
process.on("SIGTERM", shutdown);
log(`panel ${PANEL_URL}`);
connect();
