import { randomBytes } from "node:crypto";
import net from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { type WebSocket, WebSocketServer } from "ws";
import { Connection } from "../../src/realtime/connection.ts";
import { FastFanout } from "../../src/realtime/fanout.ts";
import { type EncodedFrame, frameOf } from "../../src/realtime/frames.ts";

/**
 * The fast fan-out copies a socket's frames into one reusable buffer. The buffer may be reused
 * only once the kernel took a write whole: a socket that cannot take it all keeps the buffer
 * until it drains. Here one client stops reading while another reads, so the first socket's
 * writes go from complete to partial to queued; every byte each client gets must be its own.
 */

const FRAME_PAYLOAD_BYTES = 200_000;
const FRAMES_PER_BATCH = 3;
const MAX_ROUNDS = 60;

let wss: WebSocketServer | undefined;
const clients: net.Socket[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.destroy();
  await new Promise((resolve) => wss?.close(resolve));
});

async function listen(): Promise<{ port: number; accepted: WebSocket[] }> {
  const accepted: WebSocket[] = [];
  wss = new WebSocketServer({ host: "127.0.0.1", port: 0 });
  wss.on("connection", (ws) => accepted.push(ws));
  await new Promise((resolve) => wss?.once("listening", resolve));
  const address = wss.address();
  return { port: typeof address === "object" && address ? address.port : 0, accepted };
}

/** A client on a bare TCP socket: upgrades, then collects every byte after the handshake. */
async function rawClient(port: number) {
  const socket = net.connect({ host: "127.0.0.1", port });
  clients.push(socket);
  const received: Buffer[] = [];
  let head = Buffer.alloc(0);
  let upgraded = false;
  socket.on("data", (chunk: Buffer) => {
    if (upgraded) return void received.push(chunk);
    head = Buffer.concat([head, chunk]);
    const end = head.indexOf("\r\n\r\n");
    if (end === -1) return;
    upgraded = true;
    received.push(head.subarray(end + 4));
  });
  socket.write(
    `GET / HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      `Sec-WebSocket-Key: ${randomBytes(16).toString("base64")}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
  );
  await until(() => upgraded);
  return { socket, received: () => Buffer.concat(received) };
}

async function until(done: () => boolean, ms = 10_000) {
  const deadline = Date.now() + ms;
  while (!done()) {
    if (Date.now() > deadline) throw new Error("timed out");
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** A frame whose payload says which socket and which round it belongs to. */
function labelledFrame(label: string, round: number, index: number): EncodedFrame {
  const tag = `${label}:${round}:${index}:`;
  const fill = String.fromCharCode(97 + ((round * FRAMES_PER_BATCH + index) % 26));
  return frameOf(Buffer.from(tag + fill.repeat(FRAME_PAYLOAD_BYTES - tag.length)));
}

/** The payloads of the unmasked, 64-bit-length frames this test sends. */
function payloadsOf(bytes: Buffer): string[] {
  const payloads: string[] = [];
  for (let at = 0; at < bytes.length; ) {
    expect(bytes[at]).toBe(0x81);
    expect(bytes[at + 1]).toBe(127);
    const length = Number(bytes.readBigUInt64BE(at + 2));
    payloads.push(bytes.subarray(at + 10, at + 10 + length).toString());
    at += 10 + length;
  }
  return payloads;
}

describe("fast fan-out's gather buffer", () => {
  it("is never rewritten while a socket that could not take a write whole still holds it", async () => {
    const { port, accepted } = await listen();
    const stalled = await rawClient(port);
    const reading = await rawClient(port);
    await until(() => accepted.length === 2);
    stalled.socket.pause();
    const [stalledWs, readingWs] = accepted as [WebSocket, WebSocket];
    const conns = [
      { label: "stalled", conn: new Connection(stalledWs, Date.now(), 1) },
      { label: "reading", conn: new Connection(readingWs, Date.now(), 1) },
    ];
    const fanout = new FastFanout();
    const expected = new Map<string, string[]>(conns.map(({ label }) => [label, []]));
    const stalledTcp = (stalledWs as unknown as { _socket: net.Socket })._socket;

    // until the stalled socket has queued several batches beyond what the kernel took
    let rounds = 0;
    while (rounds < MAX_ROUNDS && stalledTcp.writableLength < 4 * FRAMES_PER_BATCH * FRAME_PAYLOAD_BYTES) {
      for (const { label, conn } of conns) {
        fanout.begin(conn);
        for (let i = 0; i < FRAMES_PER_BATCH; i++) {
          const frame = labelledFrame(label, rounds, i);
          fanout.send(conn, frame);
          expected.get(label)?.push(frame.payload.toString());
        }
        fanout.end();
      }
      rounds++;
      // the reading client drains between rounds, as a live client would
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(fanout.finish()).toEqual({ batched: 2 * rounds, fallbacks: 0 });
    expect(stalledTcp.writableLength, "the stalled socket's writes went partial").toBeGreaterThan(0);

    stalled.socket.resume();
    for (const { label } of conns) {
      const client = label === "stalled" ? stalled : reading;
      const bytes = (expected.get(label) ?? []).reduce((n, p) => n + 10 + Buffer.byteLength(p), 0);
      await until(() => client.received().length >= bytes);
      const want = expected.get(label) ?? [];
      const got = payloadsOf(client.received());
      expect(got.length).toBe(want.length);
      // an index, not a diff of megabytes: the first frame that is not what was sent
      expect(
        got.findIndex((payload, i) => payload !== want[i]),
        `${label}'s first wrong frame`,
      ).toBe(-1);
    }
  });
});
