import { describe, expect, it } from "vitest";
import { serverSnapshotExample } from "../../src/openapi/examples.ts";
import { FastFanout } from "../../src/realtime/fanout.ts";
import type { ServerRow } from "../../src/servers/snapshots.ts";

/** A row as the snapshot query returns it (a fresh object graph every call, as every tick reads). */
function row(id: string, changes: { port?: number } = {}): ServerRow {
  const { createdAt, updatedAt, allocations, ...rest } = structuredClone(serverSnapshotExample);
  return {
    ...rest,
    id,
    createdAt: new Date(createdAt),
    updatedAt: new Date(updatedAt),
    allocations: allocations.map((a) => ({ ...a, port: changes.port ?? a.port })),
    subusers: [],
  } as unknown as ServerRow;
}

/** One tick of a fan-out that prepares these rows and sends nothing. */
function tick(fanout: FastFanout, rows: ServerRow[]) {
  const frames = rows.map((r) => fanout.prepare(r));
  fanout.finish();
  return frames;
}

describe("fast fan-out's frame reuse", () => {
  it("keeps last tick's frame for a row that did not change, and builds a new one for a row that did", () => {
    const fanout = new FastFanout();
    const [a1, b1] = tick(fanout, [row("srv_a"), row("srv_b")]);
    const [a2, b2, c2] = tick(fanout, [row("srv_a"), row("srv_b", { port: 25566 }), row("srv_c")]);
    expect(a2).toBe(a1);
    expect(b2).not.toBe(b1);
    expect(JSON.parse(String(b2?.payload)).data.allocations[0].port).toBe(25566);
    expect(JSON.parse(String(c2?.payload)).serverId).toBe("srv_c");
  });

  it("forgets a server no tick prepared since", () => {
    const fanout = new FastFanout();
    const [a1] = tick(fanout, [row("srv_a")]);
    tick(fanout, [row("srv_b")]);
    const [a3] = tick(fanout, [row("srv_a")]);
    expect(a3).not.toBe(a1);
    expect(a3?.frame.equals(a1?.frame ?? Buffer.alloc(0))).toBe(true);
  });
});
