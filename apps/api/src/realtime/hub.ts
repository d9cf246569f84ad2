import { randomUUID } from "node:crypto";
import { type ServerMessage, WS_CLOSE, WS_CLOSE_REASONS, WS_ERRORS } from "@panel/protocol";
import { WebSocket } from "ws";
import { credentialKey, type Principal } from "../auth/credentials.ts";
import type { Connection } from "./connection.ts";
import type { SnapshotSlot } from "./sync-loop.ts";

/** The sockets of one credential; they share one principal, which the sync tick keeps current. */
type CredentialGroup = { principal: Principal; connections: Set<Connection> };

/**
 * The sockets subscribed to one server, and what the running sync tick read for it. Every
 * subscriber's `subscriptions` points here, so the tick goes from a socket to its servers'
 * snapshots without a lookup, and 10,000 sockets do not keep 50,000 copies of the ids.
 */
export class Followers {
  readonly connections = new Set<Connection>();
  /** Set by the sync tick for the servers it queried, cleared when it ends (null: not part of this tick). */
  slot: SnapshotSlot | null = null;
  constructor(readonly serverId: string) {}
}

export type HubStats = { connections: number; authenticated: number; subscriptions: number; servers: number };

/**
 * The process's sockets and who is subscribed to what. It is the only in-process state of the
 * realtime layer; everything else (tickets, sessions, access) lives in the database.
 */
export class Hub {
  readonly connections = new Set<Connection>();
  readonly unauthenticated = new Set<Connection>();
  /** serverId -> sockets subscribed to it */
  readonly subscribers = new Map<string, Followers>();
  private readonly byCredential = new Map<string, CredentialGroup>();
  /** userId -> its number (Connection.userKey) and how many credential groups hold it */
  private readonly users = new Map<string, { key: number; groups: number }>();
  private nextUserKey = 0;
  private subscriptionCount = 0;

  /** Names this process's rows in shared tables (API-key socket presence, instance stats). */
  constructor(readonly instanceId: string = randomUUID()) {}

  add(conn: Connection) {
    this.connections.add(conn);
    this.unauthenticated.add(conn);
  }

  remove(conn: Connection) {
    conn.closed = true;
    this.connections.delete(conn);
    this.unauthenticated.delete(conn);
    for (const serverId of conn.subscriptions.keys()) this.unfollow(serverId, conn);
    this.subscriptionCount -= conn.subscriptions.size;
    conn.subscriptions.clear();
    if (conn.principal) {
      const key = credentialKey(conn.principal.credential);
      const group = this.byCredential.get(key);
      if (group?.connections.delete(conn) && group.connections.size === 0) {
        this.byCredential.delete(key);
        this.releaseUser(group.principal.userId);
      }
    }
  }

  authenticate(conn: Connection, principal: Principal) {
    this.unauthenticated.delete(conn);
    const key = credentialKey(principal.credential);
    const group = this.byCredential.get(key);
    if (group) {
      // This read may predate the tick's (authentication can wait on the database), so it may
      // take admin rights away at once but never give them: the next tick decides that.
      group.principal.isAdmin &&= principal.isAdmin;
      group.connections.add(conn);
      conn.principal = group.principal;
    } else {
      this.byCredential.set(key, { principal, connections: new Set([conn]) });
      conn.principal = principal;
      this.retainUser(principal.userId);
    }
    conn.userKey = this.userKeyOf(conn.principal.userId);
  }

  /** The number of a user with authenticated sockets here; -1 for any other user. */
  userKeyOf(userId: string): number {
    return this.users.get(userId)?.key ?? -1;
  }

  private retainUser(userId: string) {
    const user = this.users.get(userId);
    if (user) user.groups++;
    else this.users.set(userId, { key: this.nextUserKey++, groups: 1 });
  }

  private releaseUser(userId: string) {
    const user = this.users.get(userId);
    if (user && --user.groups === 0) this.users.delete(userId);
  }

  credentialGroups(): Iterable<[string, CredentialGroup]> {
    return this.byCredential.entries();
  }

  subscribe(conn: Connection, serverId: string) {
    if (conn.subscriptions.has(serverId)) return;
    let followers = this.subscribers.get(serverId);
    if (!followers) {
      followers = new Followers(serverId);
      this.subscribers.set(serverId, followers);
    }
    followers.connections.add(conn);
    conn.subscriptions.set(followers.serverId, followers);
    conn.subscribedAt = performance.now();
    this.subscriptionCount++;
  }

  unsubscribe(conn: Connection, serverId: string) {
    if (!conn.subscriptions.delete(serverId)) return;
    this.unfollow(serverId, conn);
    this.subscriptionCount--;
  }

  private unfollow(serverId: string, conn: Connection) {
    const followers = this.subscribers.get(serverId);
    if (followers?.connections.delete(conn) && followers.connections.size === 0)
      this.subscribers.delete(serverId);
  }

  send(conn: Connection, message: ServerMessage) {
    if (conn.socket.readyState === WebSocket.OPEN) conn.socket.send(JSON.stringify(message));
  }

  /** The server went away or the user lost access to it: tell the client, stop syncing it. */
  revokeAccess(conn: Connection, serverId: string) {
    this.unsubscribe(conn, serverId);
    this.send(conn, { type: "unsubscribed", serverId, reason: "access_revoked" });
  }

  /** The credential behind the socket is no longer good (docs/protocol.md#losing-access). */
  revokeAuth(conn: Connection) {
    this.send(conn, { type: "auth_error", error: WS_ERRORS.invalidSession });
    this.close(conn, WS_CLOSE.unauthenticated, WS_CLOSE_REASONS.sessionRevoked);
  }

  close(conn: Connection, code: number, reason: string) {
    this.remove(conn);
    conn.socket.close(code, reason);
  }

  stats(): HubStats {
    return {
      connections: this.connections.size,
      authenticated: this.connections.size - this.unauthenticated.size,
      subscriptions: this.subscriptionCount,
      servers: this.subscribers.size,
    };
  }
}
