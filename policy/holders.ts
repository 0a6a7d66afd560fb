// Whose TAPs are on a bridge: the mark the helper leaves on every TAP it makes under a policy, and the count per user (pure).

/** The port facts a count needs: what rtnetlink reports of each bridge port. */
export interface PortFacts {
  name: string;
  /** IFLA_IFALIAS; only CAP_NET_ADMIN can set it. */
  alias: string | null;
}

const ALIAS_PREFIX = "tap-bridge-helper uid=";

/**
 * The alias the helper writes on each TAP it makes under a policy. The kernel lets a TAP's holder
 * change its owner (TUNSETOWNER needs no privilege once the fd is attached: measured), so the owner
 * cannot say whose quota a TAP counts against; the alias can only be changed with CAP_NET_ADMIN.
 */
export function holderAlias(uid: number): string {
  return `${ALIAS_PREFIX}${uid}`;
}

/**
 * The names of the ports counted against `uid`: the TAPs the helper made for them, by its alias,
 * whoever owns them now. A port without the mark (an administrator's `ip tuntap add … user NAME`)
 * counts for no one: counted by its owner, its holder could move it onto another user's quota.
 * An administrator who wants it counted gives it the mark (`ip link set dev TAP alias "tap-bridge-helper uid=UID"`).
 */
export function tapsHeldBy(ports: readonly PortFacts[], uid: number): string[] {
  const mark = holderAlias(uid);
  return ports.filter((port) => port.alias === mark).map((port) => port.name);
}
