import { describe, expect, it } from "vitest";
import { ApiKeySockets } from "../../src/auth/api-key-sockets.ts";
import { isReadOnlyKey, KEY_PERMISSIONS } from "../../src/auth/api-keys.ts";

describe("isReadOnlyKey", () => {
  it.each([
    [null, false], // a key made by the plugin's own endpoint: full
    [undefined, false],
    [JSON.stringify(KEY_PERMISSIONS.full), false],
    [KEY_PERMISSIONS.full, false],
    [JSON.stringify(KEY_PERMISSIONS.readOnly), true],
    [KEY_PERMISSIONS.readOnly, true],
    [JSON.stringify({ other: ["write"] }), true], // permissions that grant no panel write
    ["not json", true], // unreadable permissions grant nothing
  ])("%j -> %s", (permissions, expected) => {
    expect(isReadOnlyKey(permissions as never)).toBe(expected);
  });
});

describe("ApiKeySockets with the cap off", () => {
  it("admits every socket without touching the database", async () => {
    const db = new Proxy({}, { get: () => expect.unreachable("no database access") }) as never;
    const sockets = new ApiKeySockets({ db, instanceId: "i", maxPerKey: 0, staleMs: 15_000 });
    const socket = {};
    expect(sockets.enabled).toBe(false);
    expect(await sockets.claim(socket, "key")).toBe(true);
    await sockets.release(socket);
    await sockets.refresh();
    expect(sockets.size).toBe(0);
  });
});
