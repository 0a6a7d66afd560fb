// The mark tap-user-nic leaves on each host veth it makes, and reads back from its alias (pure).
// lxc-user-nic keeps its counts in /run/lxc/nics, culled by device name: counts go stale, names are reused.
// Here the count is the kernel's own: the host end's alias (IFLA_IFALIAS), which only CAP_NET_ADMIN can set,
// names the caller and the line charged, and the kernel deletes the host end with the container's namespace.

/** A host veth's charge: whose it is, the lxc-usernet subject (`alice`, `@lab`) and the bridge as the line names it (`none`). */
export interface VethCharge {
  uid: number;
  subject: string;
  bridge: string;
}

/** `tap-user-nic uid=4101 charged=@lab bridge=br0`: subjects and bridges hold no blank, so the fields split on one. */
export function vethAlias(charge: VethCharge): string {
  return `tap-user-nic uid=${charge.uid} charged=${charge.subject} bridge=${charge.bridge}`;
}

/** The charge an alias records, or null when it is not tap-user-nic's. */
export function parseVethAlias(alias: string | null): VethCharge | null {
  const [, uid, subject = "", bridge = ""] = /^tap-user-nic uid=([0-9]{1,10}) charged=([^ ]+) bridge=([^ ]+)$/.exec(alias ?? "") ?? [];
  return uid === undefined ? null : { uid: Number(uid), subject, bridge };
}
