// The mark tap-user-nic leaves in each host veth's alias, which only CAP_NET_ADMIN can set, and reads back (pure).
// Why the alias and not a state file like lxc-user-nic's /run/lxc/nics: docs/containers.md, "Decisions".

/** A host veth's charge: whose it is, the lxc-usernet subject (`alice`, `@lab`) and the bridge as the line names it (`none`). */
export type VethCharge = { uid: number; subject: string; bridge: string };

/** `tap-user-nic uid=4101 charged=@lab bridge=br0`: subjects and bridges hold no blank, so the fields split on one. */
export function vethAlias(charge: VethCharge): string {
  return `tap-user-nic uid=${charge.uid} charged=${charge.subject} bridge=${charge.bridge}`;
}

/** The charge an alias records, or null when it is not tap-user-nic's. */
export function parseVethAlias(alias: string | null): VethCharge | null {
  const [, uid, subject = "", bridge = ""] = /^tap-user-nic uid=([0-9]{1,10}) charged=([^ ]+) bridge=([^ ]+)$/.exec(alias ?? "") ?? [];
  return uid === undefined ? null : { uid: Number(uid), subject, bridge };
}
