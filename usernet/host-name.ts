// The name tap-user-nic gives a host veth at birth, which charges it to its caller before the mark can (pure): the
// alias comes one step after the pair, and the caller may kill the program in between (only CAP_NET_ADMIN names a
// device here). Why: docs/containers.md, "What create does".
import type { LinkFacts } from "./charges.ts";
import { parseVethAlias } from "./marks.ts";

/**
 * The host end's name at birth: `veth` (as lxc-user-nic's `vethXXXXXX`), the uid in base 36 over 7
 * characters (2^32-1 is `1z141z3`), 4 of `letters`: 15 characters, IFNAMSIZ less its NUL. The fixed length
 * keeps other tools' veths (Docker's 11 characters, LXD's and CNI's 12, lxc-user-nic's 10) out of any count.
 */
export function hostEndName(uid: number, letters: string): string {
  return `veth${uid.toString(36).padStart(7, "0")}${letters.slice(0, 4)}`;
}

/** The uid a host end's name charges it to, or null when the name is not one tap-user-nic gives. */
export function hostEndOwner(name: string): number | null {
  const match = /^veth([0-9a-z]{7})[A-Za-z0-9]{4}$/.exec(name);
  return match === null ? null : Number.parseInt(match[1] ?? "", 36);
}

/** The veths of `links` that `uid`'s name charges but no mark does yet: a create cut short between the pair and its alias. */
export function unmarkedVethsOf(links: readonly LinkFacts[], uid: number): LinkFacts[] {
  return links.filter((link) => link.kind === "veth" && parseVethAlias(link.alias) === null && hostEndOwner(link.name) === uid);
}
