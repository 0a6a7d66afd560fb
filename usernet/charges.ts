// What tap-user-nic alone reads of its marks (usernet/marks.ts): the count charged to an lxc-usernet line, and who may delete a veth (pure).
import type { LinkDescription } from "../shared/link.ts";
import { parseVethAlias } from "./marks.ts";

/** What tap-user-nic reads of one link. */
export type LinkFacts = Pick<LinkDescription, "index" | "name" | "kind" | "alias" | "master">;

/** How many veths carry a mark charging `subject` on `bridge`, whoever holds them (a `@group` line's count is shared). */
export function vethsChargedTo(links: readonly LinkFacts[], subject: string, bridge: string): number {
  return links.filter((link) => {
    const charge = link.kind === "veth" ? parseVethAlias(link.alias) : null;
    return charge?.subject === subject && charge.bridge === bridge;
  }).length;
}

/**
 * Why `uid` may not delete `link` as a veth of `type` on `bridge` (index `bridgeIndex`, null for `none`), or null.
 * The name says nothing: any device can be given any free name.
 */
export function deleteProblem(link: LinkFacts, uid: number, type: string, bridge: string, bridgeIndex: number | null): string | null {
  if (type !== "veth") return `type ${type} is not one tap-user-nic makes`;
  if (link.kind !== "veth") return "it is not a veth";
  const charge = parseVethAlias(link.alias);
  if (charge === null || charge.uid !== uid) return "it does not carry your mark";
  if (charge.bridge !== bridge || link.master !== bridgeIndex) return `it is not your veth on ${bridge}`;
  return null;
}
