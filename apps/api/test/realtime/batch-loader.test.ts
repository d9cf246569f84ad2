import { describe, expect, it } from "vitest";
import { BatchLoader } from "../../src/realtime/batch-loader.ts";

/** A fetch that records its batches and answers only when the test releases it. */
function gatedFetch() {
  const batches: string[][] = [];
  const gates: Array<() => void> = [];
  const fetch = (keys: string[]) => {
    batches.push(keys);
    return new Promise<Map<string, string>>((resolve) => {
      gates.push(() =>
        resolve(new Map(keys.filter((k) => !k.startsWith("missing")).map((k) => [k, `v:${k}`]))),
      );
    });
  };
  const releaseAll = () => {
    for (const open of gates.splice(0)) open();
  };
  return { batches, fetch, releaseAll };
}

const turn = () => new Promise((resolve) => setImmediate(resolve));
/** A few event-loop turns: a finished fetch frees its slot one turn before the next batch starts. */
const settle = async () => {
  for (let i = 0; i < 3; i++) await turn();
};

describe("BatchLoader", () => {
  it("fetches the keys of one event-loop turn together", async () => {
    const { batches, fetch, releaseAll } = gatedFetch();
    const loader = new BatchLoader(fetch);
    const results = Promise.all(["a", "b", "missing-c"].map((k) => loader.load(k)));
    await turn();
    releaseAll();
    expect(await results).toEqual(["v:a", "v:b", undefined]);
    expect(batches).toEqual([["a", "b", "missing-c"]]);
  });

  it("holds keys while maxInFlight fetches run, then fetches them as one batch", async () => {
    const { batches, fetch, releaseAll } = gatedFetch();
    const loader = new BatchLoader(fetch, { maxInFlight: 1 });
    const first = loader.load("a");
    await turn();
    const later = ["b", "c", "d"].map((k) => loader.load(k));
    await settle();
    expect(batches).toEqual([["a"]]);
    releaseAll();
    expect(await first).toBe("v:a");
    await settle();
    expect(batches).toEqual([["a"], ["b", "c", "d"]]);
    releaseAll();
    expect(await Promise.all(later)).toEqual(["v:b", "v:c", "v:d"]);
  });

  it("splits a turn's keys into batches of maxBatch", async () => {
    const { batches, fetch, releaseAll } = gatedFetch();
    const loader = new BatchLoader(fetch, { maxBatch: 2, maxInFlight: 4 });
    const results = Promise.all(["a", "b", "c", "d", "e"].map((k) => loader.load(k)));
    await turn();
    releaseAll();
    expect(await results).toEqual(["v:a", "v:b", "v:c", "v:d", "v:e"]);
    expect(batches).toEqual([["a", "b"], ["c", "d"], ["e"]]);
  });

  it("gives a single-use value to the first caller only when duplicates are not shared", async () => {
    const { fetch, releaseAll } = gatedFetch();
    const shared = new BatchLoader(fetch);
    const once = new BatchLoader(fetch, { shareDuplicates: false });
    const all = Promise.all([shared.load("a"), shared.load("a"), once.load("t"), once.load("t")]);
    await turn();
    releaseAll();
    expect(await all).toEqual(["v:a", "v:a", "v:t", undefined]);
  });

  it("rejects every caller of a failed batch and keeps serving later ones", async () => {
    let fail = true;
    const loader = new BatchLoader(
      async (keys: string[]) => {
        if (fail) throw new Error("database down");
        return new Map(keys.map((k) => [k, k.toUpperCase()]));
      },
      { maxInFlight: 1 }, // a slot not freed by the failure would stall the next batch
    );
    const failed = await Promise.allSettled([loader.load("a"), loader.load("b")]);
    expect(failed.map((r) => r.status)).toEqual(["rejected", "rejected"]);
    fail = false;
    expect(await loader.load("c")).toBe("C");
  });

  it("fails a batch whose fetch hangs, and frees its slot for the next", async () => {
    const { batches, fetch, releaseAll } = gatedFetch();
    const loader = new BatchLoader(fetch, { maxInFlight: 1, timeoutMs: 50 });
    await expect(loader.load("hung")).rejects.toThrow(/timed out/);
    const next = loader.load("b");
    await settle();
    expect(batches).toEqual([["hung"], ["b"]]);
    releaseAll();
    expect(await next).toBe("v:b");
  });

  it("retries a failed batch key by key, so a key that breaks the query fails only its callers", async () => {
    const batches: string[][] = [];
    const loader = new BatchLoader(async (keys: string[]) => {
      batches.push(keys);
      if (keys.includes("poison")) throw new Error("invalid byte sequence");
      return new Map(keys.map((k) => [k, k.toUpperCase()]));
    });
    const results = await Promise.allSettled(["a", "poison", "b", "poison"].map((k) => loader.load(k)));
    expect(results).toEqual([
      { status: "fulfilled", value: "A" },
      { status: "rejected", reason: new Error("invalid byte sequence") },
      { status: "fulfilled", value: "B" },
      { status: "rejected", reason: new Error("invalid byte sequence") },
    ]);
    // once as a batch, then once each: never more
    expect(batches).toEqual([["a", "poison", "b"], ["a"], ["poison"], ["b"]]);
  });

  it("keeps single-use semantics when a failed batch is retried key by key", async () => {
    let calls = 0;
    const loader = new BatchLoader(
      async (keys: string[]) => {
        if (calls++ === 0) throw new Error("connection reset");
        return new Map(keys.map((k) => [k, `v:${k}`]));
      },
      { shareDuplicates: false },
    );
    const all = await Promise.all([loader.load("t"), loader.load("t"), loader.load("u")]);
    expect(all).toEqual(["v:t", undefined, "v:u"]);
  });

  it("does not retry a batch that timed out (the database is hung, not one key bad)", async () => {
    const { batches, fetch } = gatedFetch();
    const loader = new BatchLoader(fetch, { timeoutMs: 50 });
    const results = await Promise.allSettled([loader.load("x"), loader.load("y")]);
    expect(results.map((r) => r.status)).toEqual(["rejected", "rejected"]);
    await settle();
    expect(batches).toEqual([["x", "y"]]);
  });

  it("bounds the key-by-key retry with one more timeout", async () => {
    let calls = 0;
    const loader = new BatchLoader(
      (keys: string[]) => {
        if (calls++ === 0) return Promise.reject(new Error("boom"));
        // the retries hang
        return keys.includes("never")
          ? new Promise<Map<string, string>>(() => {})
          : Promise.resolve(new Map([["ok", "OK"]]));
      },
      { timeoutMs: 50 },
    );
    const started = Date.now();
    const results = await Promise.allSettled([loader.load("ok"), loader.load("never")]);
    expect(results[0]).toEqual({ status: "fulfilled", value: "OK" });
    expect(results[1]).toMatchObject({
      status: "rejected",
      reason: { message: expect.stringMatching(/timed out/) },
    });
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it("refuses limits below one", () => {
    const fetch = async () => new Map<string, string>();
    expect(() => new BatchLoader(fetch, { maxBatch: 0 })).toThrow(RangeError);
    expect(() => new BatchLoader(fetch, { maxInFlight: 0 })).toThrow(RangeError);
  });
});
