// What tap-user-nic alone reads of its marks (usernet/marks.ts): the count charged to an lxc-usernet line, and who may delete a veth (pure).
import { chargedVeths, type MarkFacts, parseVethAlias } from "./marks.ts";

/** What tap-user-nic needs to know of one link in its network namespace. */
export interface LinkFacts extends MarkFacts {
  index: number;
  /** The bridge (or other master) it is a port of, or null. */
  master: number | null;
}

/** How many veths are charged to `subject` on `bridge` (whoever holds them: a `@group` line's count is shared). */
export function vethsChargedTo(links: readonly LinkFacts[], subject: string, bridge: string): number {
  return chargedVeths(links).filter(({ charge }) => charge.subject === subject && charge.bridge === bridge).length;
}

/**
 * Why the caller `uid` may not delete `link` as a veth of `type` on the bridge with index
 * `bridgeIndex` named `bridge` (null for `none`), or null when they may: it must be a veth that
 * carries their mark for that bridge, and be a port of that bridge (or of none for `none`). The
 * name says nothing: any device can be given any free name.
 */
export function deleteProblem(link: LinkFacts, uid: number, type: string, bridge: string, bridgeIndex: number | null): string | null {
  if (type !== "veth") return `type ${type} is not one tap-user-nic makes`;
  if (link.kind !== "veth") return "it is not a veth";
  const charge = parseVethAlias(link.alias);
  if (charge === null || charge.uid !== uid) return "it does not carry your mark";
  if (charge.bridge !== bridge || link.master !== bridgeIndex) return `it is not your veth on ${bridge}`;
  return null;
}
