import { Writable } from "node:stream";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { loadConfig } from "../../src/env.ts";
import type { Logger } from "../../src/logger.ts";
import type { Fanout } from "../../src/realtime/fanout.ts";
import { Hub } from "../../src/realtime/hub.ts";
import { SyncLoop, type SyncLoopOptions } from "../../src/realtime/sync-loop.ts";
import { openDatabase, type RunningServer } from "../../src/server.ts";
import { createServer, createUser } from "../support/factories.ts";
import { startTestServer } from "../support/server.ts";
import { attachStub, liveSession } from "../support/stub-socket.ts";

type LogLine = { level: number; msg: string; err?: { type: string; message: string; stack: string } };
const WARN = 40;
const ERROR = 50;

/** A logger whose lines the test reads back. */
function capturingLogger(): { logger: Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      lines.push(JSON.parse(String(chunk)) as LogLine);
      done();
    },
  });
  return { logger: pino({ level: "debug" }, sink), lines };
}

const realtime = loadConfig({ LOG_LEVEL: "silent" }).realtime;

let srv: RunningServer;
beforeAll(async () => {
  srv = await startTestServer();
});
afterAll(() => srv.close());

/** A sync loop over its own hub holding one subscribed socket, with the given database and options. */
async function loopWithSubscriber(logger: Logger, db = srv.db, options: SyncLoopOptions = {}) {
  const owner = await createUser(srv);
  const server = await createServer(srv, owner);
  const hub = new Hub();
  const { conn, socket } = attachStub(hub, owner.id, await liveSession(srv, owner.id));
  hub.subscribe(conn, server.id);
  return { loop: new SyncLoop(hub, db, realtime, logger, undefined, options), socket };
}

describe("a sync tick that fails", () => {
  it("on the database is skipped with a warning, and the socket is kept", async () => {
    const { logger, lines } = capturingLogger();
    // a handle of its own on the test database (PGlite: a database of its own), then closed
    const url = inject("databaseUrl");
    const handle = await openDatabase(
      loadConfig({ DATA_DIR: "memory://", ...(url ? { DATABASE_URL: url } : {}) }),
    );
    await handle.close();
    const { loop, socket } = await loopWithSubscriber(logger, handle.db);

    expect(await loop.tick()).toBeUndefined();
    const failures = lines.filter((l) => l.level >= WARN);
    expect(failures).toEqual([expect.objectContaining({ level: WARN, msg: "sync tick skipped" })]);
    expect(socket.closedWith).toBeUndefined();
  });

  it("on anything else is logged at error level as the bug it is, with its stack", async () => {
    const { logger, lines } = capturingLogger();
    const broken: Fanout<unknown> = {
      name: "broken",
      prepare: function prepareBrokenSnapshot() {
        throw new TypeError("snapshot has no id");
      },
      begin() {},
      send() {},
      flush() {},
      end() {},
      finish: () => ({ batched: 0, fallbacks: 0 }),
    };
    const { loop } = await loopWithSubscriber(logger, srv.db, { fanout: () => broken });

    expect(await loop.tick()).toBeUndefined();
    const failures = lines.filter((l) => l.level >= WARN);
    expect(failures).toEqual([expect.objectContaining({ level: ERROR, msg: "sync tick failed" })]);
    expect(failures[0]?.err).toMatchObject({ type: "TypeError", message: "snapshot has no id" });
    expect(failures[0]?.err?.stack).toContain("prepareBrokenSnapshot");
  });
});
