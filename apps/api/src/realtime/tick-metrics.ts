import type { Hub } from "./hub.ts";

/**
 * Bench-only measurements of one sync tick (`SYNC_METRICS=true`), logged with the tick's
 * report as a structured `sync tick` line. Started just before the fan-out, so `cpu*Ms`
 * is the fan-out's own CPU (user + kernel, i.e. including the socket writes).
 */
export class TickProbe {
  private readonly cpu = process.cpuUsage();

  /** `started`/`queried`/`done` are `performance.now()` readings: query start, rows in, last frame written. */
  finish(started: number, queried: number, done: number, hub: Hub) {
    const cpu = process.cpuUsage(this.cpu);
    // Bytes the fan-out could not hand to the kernel at once (full socket buffers), still
    // queued in user space; 0 means `done` is when the last frame reached the kernel.
    let pendingBytes = 0;
    let pendingSockets = 0;
    for (const conn of hub.connections) {
      const queued = conn.socket.bufferedAmount;
      if (queued > 0) {
        pendingBytes += queued;
        pendingSockets++;
      }
    }
    const memory = process.memoryUsage();
    return {
      // wall clock (ms since the epoch, sub-ms precision) so a client on the same host can line up
      tickAt: performance.timeOrigin + started,
      queriedAt: performance.timeOrigin + queried,
      doneAt: performance.timeOrigin + done,
      cpuUserMs: cpu.user / 1000,
      cpuSystemMs: cpu.system / 1000,
      pendingBytes,
      pendingSockets,
      connections: hub.connections.size,
      rss: memory.rss,
      heapUsed: memory.heapUsed,
      heapTotal: memory.heapTotal,
      external: memory.external,
      arrayBuffers: memory.arrayBuffers,
    };
  }
}
