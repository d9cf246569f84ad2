import { readFileSync } from "node:fs";
import { isIPv6 } from "node:net";
import { WS_UPGRADE_ERRORS } from "@panel/protocol";

/** Assumed when /proc/self/limits cannot be read (not Linux): the usual soft limit. */
const FALLBACK_OPEN_FILE_LIMIT = 1024;
/** Files kept for everything but WebSockets (DB pool, logs, HTTP requests): 10%, at least 1024, at most half. */
const MIN_RESERVED_FILES = 1024;

/** A refused upgrade from an address holding its cap of unauthenticated sockets: those clear in well under a second when they are real clients. */
const ADDRESS_RETRY_AFTER_S = 2;
/** A refused upgrade with the process full: sockets free up as clients leave. */
const PROCESS_RETRY_AFTER_S = 10;

const TOO_MANY_UNAUTHENTICATED = WS_UPGRADE_ERRORS.tooManyUnauthenticated;
const TOO_MANY_CONNECTIONS = WS_UPGRADE_ERRORS.tooManyConnections;

/** The soft `RLIMIT_NOFILE` of this process, or null when it cannot be read. */
export function readOpenFileLimit(path = "/proc/self/limits"): number | null {
  try {
    const line = readFileSync(path, "utf8")
      .split("\n")
      .find((l) => l.startsWith("Max open files"));
    const soft = Number(line?.slice("Max open files".length).trim().split(/\s+/)[0]);
    return Number.isSafeInteger(soft) && soft > 0 ? soft : null;
  } catch {
    return null;
  }
}

/** The default process-wide socket cap for an open-file limit: the limit minus what other files need. */
export function defaultMaxSockets(openFileLimit: number | null): number {
  const limit = openFileLimit ?? FALLBACK_OPEN_FILE_LIMIT;
  const reserved = Math.min(Math.max(MIN_RESERVED_FILES, Math.ceil(limit / 10)), Math.floor(limit / 2));
  return Math.max(1, limit - reserved);
}

/**
 * The key an address counts under: an IPv4 address itself, an IPv6 address its /64 (one
 * subscriber gets a whole /64, so counting single IPv6 addresses would cap nothing).
 */
export function addressGroup(address: string | null): string {
  if (!address) return "unknown";
  if (!isIPv6(address)) return address;
  const bare = address.split("%")[0] ?? address;
  const [head = "", tail] = bare.split("::");
  const groups = head ? head.split(":") : [];
  if (tail !== undefined && groups.length < 4) {
    const tailGroups = tail ? tail.split(":") : [];
    const zeros = 8 - groups.length - tailGroups.length;
    groups.push(...Array<string>(zeros).fill("0"), ...tailGroups);
  }
  return `${groups
    .slice(0, 4)
    .map((g) => g.replace(/^0+(?=.)/, ""))
    .join(":")}::/64`;
}

export type SocketLimits = { maxSockets: number; maxUnauthenticatedPerAddress: number };
export type Refusal = { status: 429 | 503; error: string; retryAfterSeconds: number };

/**
 * Caps on the process's WebSockets: the total (kept under the open-file limit, so an upgrade
 * is refused before `accept` starts failing), and the unauthenticated ones per client address
 * (authenticated sockets are not capped by address: an office behind one NAT must work).
 * Only unauthenticated sockets are remembered; every counter at zero is deleted.
 */
export class SocketCaps<S> {
  private open = 0;
  private readonly unauthenticatedByAddress = new Map<string, number>();
  private readonly addressOf = new Map<S, string>();

  constructor(readonly limits: SocketLimits) {}

  /** Why an upgrade from `address` is refused now, or null to let it through. */
  refusal(address: string | null): Refusal | null {
    if (this.open >= this.limits.maxSockets) {
      return { status: 503, error: TOO_MANY_CONNECTIONS, retryAfterSeconds: PROCESS_RETRY_AFTER_S };
    }
    const pending = this.unauthenticatedByAddress.get(addressGroup(address)) ?? 0;
    if (pending >= this.limits.maxUnauthenticatedPerAddress) {
      return { status: 429, error: TOO_MANY_UNAUTHENTICATED, retryAfterSeconds: ADDRESS_RETRY_AFTER_S };
    }
    return null;
  }

  /** A socket was accepted: it counts towards the total, and as unauthenticated for its address. */
  opened(socket: S, address: string | null) {
    const group = addressGroup(address);
    this.open++;
    this.addressOf.set(socket, group);
    this.unauthenticatedByAddress.set(group, (this.unauthenticatedByAddress.get(group) ?? 0) + 1);
  }

  /** The socket authenticated: it no longer counts against its address. */
  authenticated(socket: S) {
    const group = this.addressOf.get(socket);
    if (group === undefined) return;
    this.addressOf.delete(socket);
    const left = (this.unauthenticatedByAddress.get(group) ?? 1) - 1;
    if (left > 0) this.unauthenticatedByAddress.set(group, left);
    else this.unauthenticatedByAddress.delete(group);
  }

  /** The socket's file is closed (called once per `opened`). */
  closed(socket: S) {
    this.authenticated(socket);
    this.open--;
  }

  get isFull() {
    return this.open >= this.limits.maxSockets;
  }

  stats() {
    return {
      open: this.open,
      unauthenticated: this.addressOf.size,
      addresses: this.unauthenticatedByAddress.size,
    };
  }
}
