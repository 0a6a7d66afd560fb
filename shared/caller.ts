// Who the caller is, as the policy matches subjects: ids as the kernel holds them, names from the name service.
import type { ThreadCredentials } from "./credentials.ts";
import { groupNameOf, userNameOf } from "./libc.ts";

/** The caller as the policy and the audit trail name them. */
export interface CallerIdentity {
  uid: number;
  gid: number;
  /** null when the uid has no name in the name service. */
  userName: string | null;
  /** The names of the caller's real gid and supplementary groups, those that have one. */
  groupNames: string[];
  /** The caller's gids that have no name (or whose lookup the name service's modules turned into "none"). */
  unnamedGids: number[];
}

/**
 * Who the caller is: ids as the kernel holds them for this process (the exec shim kept the caller's
 * real ids and supplementary groups, as every permission check the kernel makes uses them; the same
 * groups decide which per-group ACL includes are readable), names from the name service.
 * throws SysError when a name lookup fails: a line for a group must not be skipped for that.
 */
export function lookUpCaller(credentials: ThreadCredentials): CallerIdentity {
  const uid = credentials.uids[0] ?? -1;
  const gid = credentials.gids[0] ?? -1;
  const groupNames: string[] = [];
  const unnamedGids: number[] = [];
  for (const id of new Set([gid, ...credentials.groups])) {
    const name = groupNameOf(id);
    if (name === null) unnamedGids.push(id);
    else groupNames.push(name);
  }
  return { uid, gid, userName: userNameOf(uid), groupNames, unnamedGids };
}
