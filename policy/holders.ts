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
 * The ports counted against `uid`: the TAPs the helper made for them, by its alias, whoever owns
 * them now. A port without the mark (an administrator's `ip tuntap add … user NAME`) counts for no
 * one: counted by its owner, its holder could move it onto another user's quota. An administrator
 * who wants it counted gives it the mark (`ip link set dev TAP alias "tap-bridge-helper uid=UID"`).
 */
export function portsMarkedFor<Port extends PortFacts>(ports: readonly Port[], uid: number): Port[] {
  const mark = holderAlias(uid);
  return ports.filter((port) => port.alias === mark);
}

/** A port with a user's mark, as a count racing other requests of that user sees it. */
export interface MarkedPort {
  index: number;
  name: string;
  /** Still being made: the helper keeps a TAP down and owned by root until it hands it over. */
  inMaking: boolean;
}

/**
 * What a request making the port `own` does, given `marked` (the user's ports, its own marked too)
 * and its limit (null: none). Each request marks its port before it counts, so of two the later to
 * count sees the other: counting every other marked port, the last kept saw all others kept, so no
 * more than `limit` are kept. It refuses only when `limit` finished ports exist, never while a place
 * remains. When ports in making decide it, the lowest index goes on and the others step aside, so
 * two requests that see each other neither both wait nor are both refused. Returns `{ held }` (the
 * ports counted; refused when `limit` or more), "wait" (count again: only higher indexes are in the
 * way, and they step aside) or "step aside" (unmark, wait until no lower index is in making, mark,
 * count again).
 */
export function contendedCount(
  marked: readonly MarkedPort[],
  own: number,
  limit: number | null,
): { held: string[] } | "wait" | "step aside" {
  const others = marked.filter((port) => port.index !== own);
  const finished = others.filter((port) => !port.inMaking).map((port) => port.name);
  if (limit === null || others.length < limit) return { held: others.map((port) => port.name) };
  if (finished.length >= limit) return { held: finished };
  return others.some((port) => port.inMaking && port.index < own) ? "step aside" : "wait";
}
