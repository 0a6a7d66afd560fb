// The mark tap-user-nic leaves on each host veth it makes, and the counts read back from the kernel's links (pure).
//
// lxc-user-nic keeps its counts in /run/lxc/nics and culls it by device name, so the count goes stale
// and a name can be reused. Here the count is the kernel's own: the alias (IFLA_IFALIAS) of the host
// end, which only CAP_NET_ADMIN can set, names the caller and the lxc-usernet line the device is
// charged to. The kernel deletes the host end with its peer when the container's namespace goes, and
// the count drops with it.

/** What a count needs to know of one link in the helper's network namespace. */
export interface LinkFacts {
  index: number;
  name: string;
  /** IFLA_INFO_KIND (`veth`, `tun`, `bridge`), or null. */
  kind: string | null;
  alias: string | null;
  /** The bridge (or other master) it is a port of, or null. */
  master: number | null;
}

const PREFIX = "tap-user-nic";

/** The charge a host veth carries: whose it is, and the lxc-usernet subject and bridge it counts against. */
export interface VethCharge {
  uid: number;
  /** `alice` or `@lab`: the subject of the lxc-usernet line charged. */
  subject: string;
  /** The bridge as the line names it (`none` for a veth on no bridge). */
  bridge: string;
}

/** `tap-user-nic uid=4101 charged=@lab bridge=br0`: subjects and bridges hold no blank, so the fields split on one. */
export function vethAlias(charge: VethCharge): string {
  return `${PREFIX} uid=${charge.uid} charged=${charge.subject} bridge=${charge.bridge}`;
}

/** The charge an alias records, or null when it is not tap-user-nic's. */
export function parseVethAlias(alias: string | null): VethCharge | null {
  if (alias === null) return null;
  const match = /^tap-user-nic uid=([0-9]{1,10}) charged=([^ ]+) bridge=([^ ]+)$/.exec(alias);
  if (match === null) return null;
  const [, uid = "", subject = "", bridge = ""] = match;
  return { uid: Number(uid), subject, bridge };
}

/** The veths of `links` with tap-user-nic's mark, and the charge each carries. */
function chargedVeths(links: readonly LinkFacts[]): { link: LinkFacts; charge: VethCharge }[] {
  return links.flatMap((link) => {
    const charge = link.kind === "veth" ? parseVethAlias(link.alias) : null;
    return charge === null ? [] : [{ link, charge }];
  });
}

/** How many veths are charged to `subject` on `bridge` (whoever holds them: a `@group` line's count is shared). */
export function vethsChargedTo(links: readonly LinkFacts[], subject: string, bridge: string): number {
  return chargedVeths(links).filter(({ charge }) => charge.subject === subject && charge.bridge === bridge).length;
}

/** The names of the veths on the port list `ports` that `uid` holds: what bridge-policy.conf's MAX counts besides TAPs. */
export function vethsHeldBy(ports: readonly LinkFacts[], uid: number): string[] {
  return chargedVeths(ports)
    .filter(({ charge }) => charge.uid === uid)
    .map(({ link }) => link.name);
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
