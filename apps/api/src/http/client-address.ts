import { isIP } from "node:net";

/** `::ffff:127.0.0.5` (an IPv4 peer on a dual-stack socket) is 127.0.0.5. */
function canonical(address: string): string {
  const mapped = address.startsWith("::ffff:") ? address.slice(7) : address;
  return isIP(mapped) === 4 ? mapped : address.toLowerCase();
}

/**
 * The one client address everything uses (sign-in throttling, session records, the audit log,
 * socket caps): the TCP peer. Behind a trusted reverse proxy (`TRUST_PROXY=true`) the peer is
 * the proxy, so the address is the hop that proxy appended to `X-Forwarded-For`: the last
 * entry. Entries before it were written by the client and prove nothing.
 */
export function clientAddress(
  peer: string | undefined,
  forwardedFor: string | null | undefined,
  trustProxy: boolean,
): string | null {
  if (trustProxy && forwardedFor) {
    const lastHop = forwardedFor.split(",").at(-1)?.trim() ?? "";
    if (isIP(lastHop)) return canonical(lastHop);
  }
  return peer && isIP(peer) ? canonical(peer) : null;
}
