// The mark tap-user-nic leaves on each host veth it makes, and the counts read back from the kernel's links (pure).
//
// lxc-user-nic keeps its counts in /run/lxc/nics and culls it by device name, so the count goes stale
// and a name can be reused. Here the count is the kernel's own: the alias (IFLA_IFALIAS) of the host
// end, which only CAP_NET_ADMIN can set, names the caller and the lxc-usernet line the device is
// charged to. The kernel deletes the host end with its peer when the container's namespace goes, and
// the count drops with it.

/** What a count of marks reads of one link. */
export interface MarkFacts {
  name: string;
  /** IFLA_INFO_KIND (`veth`, `tun`, `bridge`), or null. */
  kind: string | null;
  alias: string | null;
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
export function chargedVeths<Link extends MarkFacts>(links: readonly Link[]): { link: Link; charge: VethCharge }[] {
  return links.flatMap((link) => {
    const charge = link.kind === "veth" ? parseVethAlias(link.alias) : null;
    return charge === null ? [] : [{ link, charge }];
  });
}
