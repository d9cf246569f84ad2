import { describe, expect, it } from "vitest";
import { sameRowData } from "../../src/servers/snapshots.ts";

const row = () => ({
  id: "srv_1",
  memory: 2048,
  containerId: null as string | null,
  suspended: false,
  createdAt: new Date("2026-11-22T10:00:00.000Z"),
  node: { id: "node_1", isOnline: true, location: { id: "loc_1", name: "Frankfurt" } },
  allocations: [{ id: "alloc_1", port: 25565, isPrimary: true }],
  subusers: [{ userId: "user_1" }],
});

describe("sameRowData", () => {
  it("holds for two separate reads of the same data", () => {
    expect(sameRowData(row(), row())).toBe(true);
  });

  it.each([
    ["a scalar", (r: ReturnType<typeof row>) => (r.memory = 4096)],
    ["null to a value", (r: ReturnType<typeof row>) => (r.containerId = "c_1")],
    ["a boolean", (r: ReturnType<typeof row>) => (r.suspended = true)],
    ["a date", (r: ReturnType<typeof row>) => r.createdAt.setMilliseconds(1)],
    ["a nested object", (r: ReturnType<typeof row>) => (r.node.location.name = "Paris")],
    ["an array element", (r: ReturnType<typeof row>) => (r.allocations[0]!.port = 25566)],
    ["an array's length", (r: ReturnType<typeof row>) => r.subusers.push({ userId: "user_2" })],
    ["an added key", (r: ReturnType<typeof row>) => Object.assign(r.node, { fqdn: "n1.example" })],
  ])("fails on a change to %s", (_, change) => {
    const changed = row();
    change(changed);
    expect(sameRowData(row(), changed)).toBe(false);
    expect(sameRowData(changed, row())).toBe(false);
  });

  it("tells apart values of different kinds", () => {
    expect(sameRowData([], {})).toBe(false);
    expect(sameRowData({}, [])).toBe(false);
    expect(sameRowData(new Date(0), 0)).toBe(false);
    expect(sameRowData({ a: undefined }, { b: undefined })).toBe(false);
    expect(sameRowData(null, {})).toBe(false);
    expect(sameRowData("1", 1)).toBe(false);
  });
});
