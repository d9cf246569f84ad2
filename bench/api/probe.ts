import { type PerformanceEntry, PerformanceObserver } from "node:perf_hooks";
import type { Logger } from "../../apps/api/src/logger.ts";
import type { Hub } from "../../apps/api/src/realtime/hub.ts";
import type { TickObserver, TickReport, TickTimes } from "../../apps/api/src/realtime/sync-loop.ts";

const ms = (usage: NodeJS.CpuUsage) => (usage.user + usage.system) / 1000;

/**
 * The bench's view of each tick, logged as one structured `sync tick` line (info level):
 * - `cpuUserMs`/`cpuSystemMs`: the fan-out's own CPU (rows in → last frame handed to the
 *   kernel; system time is mostly the socket writes);
 * - `tickCpuMs`: the process's CPU from the tick's start (credential check, query, decoding)
 *   to the end of its fan-out;
 * - `periodCpuMs`: the process's CPU since the previous tick's fan-out ended, over `periodMs`:
 *   everything it did for one tick period (the tick, the bookkeeping after it, heartbeats,
 *   garbage collection, helper threads), the total a tick costs;
 * - `gcMs`/`gcCount`: main-thread GC pauses over the same period.
 */
export class TickProbe implements TickObserver {
  private tickStart = process.cpuUsage();
  private fanoutStart = process.cpuUsage();
  private periodStart: { cpu: NodeJS.CpuUsage; at: number } | undefined;
  private gcMs = 0;
  private gcCount = 0;
  /** The API's hub, once it started (the probe is handed to startServer before). */
  hub: Hub | undefined;

  constructor(private readonly logger: Logger) {
    new PerformanceObserver((list) => {
      for (const entry of list.getEntries() as PerformanceEntry[]) {
        this.gcMs += entry.duration;
        this.gcCount++;
      }
    }).observe({ entryTypes: ["gc"] });
  }

  tickStarting() {
    this.tickStart = process.cpuUsage();
  }

  fanoutStarting() {
    this.fanoutStart = process.cpuUsage();
  }

  tickEnded(report: TickReport, times: TickTimes) {
    const fanoutCpu = process.cpuUsage(this.fanoutStart);
    const now = process.cpuUsage();
    const at = performance.now();
    const period = this.periodStart;
    this.periodStart = { cpu: now, at };
    const memory = process.memoryUsage();
    this.logger.info(
      {
        ...report,
        // wall clock (ms since the epoch, sub-ms precision) so a client on the same host can line up
        tickAt: performance.timeOrigin + times.started,
        queriedAt: performance.timeOrigin + times.queried,
        doneAt: performance.timeOrigin + times.done,
        cpuUserMs: fanoutCpu.user / 1000,
        cpuSystemMs: fanoutCpu.system / 1000,
        tickCpuMs: ms(process.cpuUsage(this.tickStart)),
        periodCpuMs: period ? ms(process.cpuUsage(period.cpu)) : null,
        periodMs: period ? at - period.at : null,
        gcMs: this.gcMs,
        gcCount: this.gcCount,
        ...this.pending(),
        connections: this.hub?.connections.size ?? 0,
        rss: memory.rss,
        heapUsed: memory.heapUsed,
        heapTotal: memory.heapTotal,
        external: memory.external,
        arrayBuffers: memory.arrayBuffers,
      },
      "sync tick",
    );
    this.gcMs = 0;
    this.gcCount = 0;
  }

  /**
   * Bytes the fan-out could not hand to the kernel at once (full socket buffers), still queued
   * in user space; 0 means `done` is when the last frame reached the kernel.
   */
  private pending() {
    let pendingBytes = 0;
    let pendingSockets = 0;
    for (const conn of this.hub?.connections ?? []) {
      const queued = conn.socket.bufferedAmount;
      if (queued > 0) {
        pendingBytes += queued;
        pendingSockets++;
      }
    }
    return { pendingBytes, pendingSockets };
  }
}
