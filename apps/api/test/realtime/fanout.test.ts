import { randomBytes } from "node:crypto";
import net from "node:net";
import { servers } from "@panel/db";
import type { ServerMessage } from "@panel/protocol";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FANOUT_NAMES, type FanoutName, fanoutCycle } from "../../../../bench/api/strategies.ts";
import { loadConfig } from "../../src/env.ts";
import { createLogger } from "../../src/logger.ts";
import { SyncLoop } from "../../src/realtime/sync-loop.ts";
import type { RunningServer } from "../../src/server.ts";
import { createServer, createUser, type TestUser, ticketFor } from "../support/factories.ts";
import { startTestServer } from "../support/server.ts";

/**
 * A WebSocket client on a bare TCP socket, so the test sees the exact bytes the server puts on
 * the wire (frame headers included), not what a client library makes of them.
 */
class RawClient {
  private bytes = Buffer.alloc(0);
  private waiting: (() => void) | undefined;

  private constructor(private readonly socket: net.Socket) {
    socket.on("data", (chunk: Buffer) => {
      this.bytes = Buffer.concat([this.bytes, chunk]);
      this.waiting?.();
    });
  }

  static async open(srv: RunningServer, token: string): Promise<RawClient> {
    const { port } = new URL(srv.url);
    const socket = net.connect({ host: "127.0.0.1", port: Number(port) });
    await new Promise((resolve) => socket.once("connect", resolve));
    const client = new RawClient(socket);
    socket.write(
      `GET /api/ws?token=${token} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\n` +
        `Connection: Upgrade\r\nSec-WebSocket-Key: ${randomBytes(16).toString("base64")}\r\n` +
        "Sec-WebSocket-Version: 13\r\n\r\n",
    );
    const head = await client.until((b) => {
      const end = b.indexOf("\r\n\r\n");
      return end === -1 ? undefined : end + 4;
    });
    expect(head.toString()).toMatch(/^HTTP\/1\.1 101 /);
    return client;
  }

  /** Sends one masked text frame, as a client must. */
  send(message: unknown) {
    const payload = Buffer.from(JSON.stringify(message));
    expect(payload.length).toBeLessThan(126);
    const mask = randomBytes(4);
    const masked = Buffer.from(payload.map((byte, i) => byte ^ (mask[i % 4] as number)));
    this.socket.write(Buffer.concat([Buffer.from([0x81, 0x80 | payload.length]), mask, masked]));
  }

  /** The raw bytes of the next `count` frames, and the messages they carry. */
  async frames(count: number): Promise<{ raw: Buffer; messages: ServerMessage[] }> {
    const messages: ServerMessage[] = [];
    const raw = await this.until((b) => {
      messages.length = 0;
      let at = 0;
      while (messages.length < count) {
        const frame = parseServerFrame(b, at);
        if (!frame) return undefined;
        messages.push(JSON.parse(frame.payload.toString()) as ServerMessage);
        at = frame.end;
      }
      return at;
    });
    return { raw, messages };
  }

  /** Waits until `complete` says how many leading bytes form what the caller wants, and takes them. */
  private async until(complete: (bytes: Buffer) => number | undefined): Promise<Buffer> {
    const deadline = Date.now() + 5000;
    for (;;) {
      const length = complete(this.bytes);
      if (length !== undefined) {
        const taken = this.bytes.subarray(0, length);
        this.bytes = this.bytes.subarray(length);
        return taken;
      }
      if (Date.now() > deadline) throw new Error(`timed out; ${this.bytes.length} bytes unread`);
      await new Promise<void>((resolve) => {
        this.waiting = resolve;
        setTimeout(resolve, 100);
      });
    }
  }

  close() {
    this.socket.destroy();
  }
}

/**
 * One server-to-client frame at `at`: it must be final, uncompressed (no RSV bits), text and
 * unmasked, as SPEC's clients expect; undefined while it has not fully arrived.
 */
function parseServerFrame(b: Buffer, at: number): { payload: Buffer; end: number } | undefined {
  if (b.length < at + 2) return undefined;
  expect(b[at], "FIN + text opcode, no RSV bits").toBe(0x81);
  const second = b[at + 1] as number;
  expect(second & 0x80, "server frames are unmasked").toBe(0);
  let length = second & 0x7f;
  let start = at + 2;
  if (length === 126) {
    if (b.length < at + 4) return undefined;
    length = b.readUInt16BE(at + 2);
    start = at + 4;
  } else if (length === 127) {
    if (b.length < at + 10) return undefined;
    length = Number(b.readBigUInt64BE(at + 2));
    start = at + 10;
  }
  if (b.length < start + length) return undefined;
  return { payload: b.subarray(start, start + length), end: start + length };
}

const MODES = FANOUT_NAMES;

let srv: RunningServer;
/** The server's sockets and database, ticked by the bench's strategies in turn. */
let sync: SyncLoop;
let owner: TestUser;
beforeAll(async () => {
  // no protocol pings during the file: the raw client reads data frames only
  srv = await startTestServer({ env: { WS_HEARTBEAT_MS: "3600000" } });
  // each tick uses the next strategy in turn, so consecutive ticks compare them on the same socket
  sync = new SyncLoop(
    srv.hub,
    srv.db,
    loadConfig({ LOG_LEVEL: "silent" }).realtime,
    createLogger("silent"),
    undefined,
    { fanout: fanoutCycle(MODES) },
  );
  owner = await createUser(srv);
});
afterAll(() => srv.close());

async function subscribedClient(serverIds: string[]) {
  const client = await RawClient.open(srv, await ticketFor(srv, owner));
  expect((await client.frames(1)).messages[0]?.type).toBe("auth_success");
  for (const serverId of serverIds) client.send({ type: "subscribe", serverId });
  // a `subscribed` and an initial `server:sync` per server
  await client.frames(serverIds.length * 2);
  return client;
}

describe("the bench's sync fan-out strategies and the API's own (fast)", () => {
  it("put the same bytes on the wire, one valid frame per snapshot", async () => {
    const ids = await Promise.all([1, 2, 3].map(async () => (await createServer(srv, owner)).id));
    const client = await subscribedClient(ids);
    const seen = new Map<string, Buffer>();
    while (seen.size < MODES.length) {
      const report = await sync.tick();
      const { raw, messages } = await client.frames(ids.length);
      expect(messages.map((m) => m.type)).toEqual(["server:sync", "server:sync", "server:sync"]);
      expect(messages.map((m) => ("serverId" in m ? m.serverId : null)).sort()).toEqual([...ids].sort());
      seen.set(report?.fanout ?? "none", raw);
      // the prebuilt frames really were written to the TCP socket, not handed back to ws.send
      if (report && ["fast", "gathered", "corked", "uncorked"].includes(report.fanout))
        expect(report).toMatchObject({ fallbacks: 0, batched: report.fanout === "uncorked" ? 0 : 1 });
    }
    expect([...seen.keys()].sort()).toEqual([...MODES].sort());
    const reference = seen.get("naive");
    for (const [mode, raw] of seen) expect(raw.equals(reference as Buffer), `${mode} vs naive`).toBe(true);
    client.close();
  });

  it.each(MODES)(
    "%s: a revocation met mid-batch arrives in its place among the socket's snapshots",
    async (mode: FanoutName) => {
      const ids = await Promise.all([1, 2, 3].map(async () => (await createServer(srv, owner)).id));
      const client = await subscribedClient(ids);
      // tick until the next tick is this strategy's turn
      const before = MODES[(MODES.indexOf(mode) + MODES.length - 1) % MODES.length];
      for (let last = ""; last !== before; ) {
        last = (await sync.tick())?.fanout ?? "";
        await client.frames(ids.length);
      }
      const gone = ids[1] as string;
      await srv.db.delete(servers).where(eq(servers.id, gone));
      const report = await sync.tick();
      expect(report).toMatchObject({ fanout: mode, revoked: 1 });
      const { messages } = await client.frames(ids.length);
      expect(messages).toEqual([
        expect.objectContaining({ type: "server:sync", serverId: ids[0] }),
        { type: "unsubscribed", serverId: gone, reason: "access_revoked" },
        expect.objectContaining({ type: "server:sync", serverId: ids[2] }),
      ]);
      client.close();
    },
  );
});
