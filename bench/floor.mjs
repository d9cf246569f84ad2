// `node bench/floor.mjs [--connections C] [--bytes B] [--rounds R] [--reader-cpu N]`: the floor under the sync
// fan-out on this machine. Plain loopback TCP, no WebSocket, no JSON: one prebuilt buffer of B
// bytes (default 5 frames of a snapshot) written to each of C sockets, once per round, by one
// process; the readers live in a child process and just drain. What a fan-out costs beyond
// this is the WebSocket layer's; what it costs up to this is the kernel's (one write syscall
// per socket, and on loopback the receiver's TCP processing runs inside that syscall).
import { execFileSync, fork } from "node:child_process";
import net from "node:net";

const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};

if (process.argv[2] === "--reader") {
  // child: open the sockets, drain everything, report when all are connected
  const [port, count] = [Number(process.argv[3]), Number(process.argv[4])];
  const connect = () =>
    new Promise((resolve) => {
      const s = net.connect({ port, host: "127.0.0.1" }, resolve);
      s.on("data", () => {});
      s.on("error", resolve);
    });
  // in batches, so the listen backlog never overflows
  for (let i = 0; i < count; i += 200)
    await Promise.all(Array.from({ length: Math.min(200, count - i) }, connect));
  process.send("connected");
  process.on("disconnect", () => process.exit(0));
} else {
  const C = arg("connections", 10_000);
  const B = arg("bytes", 5 * 1010);
  const R = Math.min(20, arg("rounds", 8));
  const sockets = [];
  const server = net.createServer((s) => {
    s.on("error", () => {});
    sockets.push(s);
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  server.maxConnections = C;
  const reader = fork(new URL(import.meta.url).pathname, [
    "--reader",
    String(server.address().port),
    String(C),
  ]);
  // like the bench's load generator, the readers may get a core of their own
  const readerCpu = arg("reader-cpu", -1);
  if (readerCpu >= 0)
    execFileSync("taskset", ["-cp", String(readerCpu), String(reader.pid)], { stdio: "ignore" });
  const timer = setTimeout(() => {
    console.error("floor: timed out");
    reader.kill("SIGKILL");
    process.exit(1);
  }, 120_000);
  await new Promise((r) => reader.once("message", r));
  while (sockets.length < C) await new Promise((r) => setTimeout(r, 10));
  const payload = Buffer.alloc(B, 0x61);
  const rows = [];
  for (let round = 0; round < R; round++) {
    await new Promise((r) => setTimeout(r, 300));
    const cpu = process.cpuUsage();
    const t0 = performance.now();
    for (const s of sockets) s.write(payload);
    const ms = performance.now() - t0;
    const used = process.cpuUsage(cpu);
    rows.push({ ms, userMs: used.user / 1000, sysMs: used.system / 1000 });
  }
  clearTimeout(timer);
  const med = (k) => rows.map((r) => r[k]).sort((a, b) => a - b)[Math.floor(rows.length / 2)];
  const result = {
    connections: C,
    bytesPerSocket: B,
    rounds: R,
    wallMs: Number(med("ms").toFixed(2)),
    userMs: Number(med("userMs").toFixed(2)),
    sysMs: Number(med("sysMs").toFixed(2)),
    usPerSocket: Number(((med("ms") * 1000) / C).toFixed(2)),
  };
  console.log(JSON.stringify(result));
  reader.kill();
  for (const s of sockets) s.destroy();
  server.close();
}
