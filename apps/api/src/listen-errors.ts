import { createServer } from "node:net";

/**
 * An address the API cannot listen on, said in one line for a person at a terminal; undefined
 * for any other error.
 */
export function listenProblem(err: unknown, host: string, port: number): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  if (code === "EADDRINUSE") return `port ${port} is in use; set PORT`;
  if (code === "EACCES") return `port ${port} needs privileges this user lacks; set PORT`;
  if (code === "EADDRNOTAVAIL") return `${host} is not an address of this machine; set HOST`;
  return undefined;
}

/**
 * Binds the address for a moment and lets it go, so that a busy port is reported before the
 * database is opened and migrated rather than after. Resolves to the problem, if any.
 */
export function probeListen(host: string, port: number): Promise<string | undefined> {
  if (port === 0) return Promise.resolve(undefined);
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once("error", (err) => resolve(listenProblem(err, host, port)));
    probe.listen({ host, port, exclusive: true }, () => probe.close(() => resolve(undefined)));
  });
}

/** One line on stderr, exit 1: no stack trace for a problem the user fixes with a variable. */
export function exitWith(line: string): never {
  process.stderr.write(`${line}\n`);
  process.exit(1);
}
