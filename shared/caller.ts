// Who the caller is, as the policy matches subjects: ids as the kernel holds them, names from the name service.
import type { ThreadCredentials } from "./credentials.ts";
import { groupNameOf, userNameOf } from "./libc.ts";

/** The caller as the policy and the audit trail name them; `userName` null when the uid has no name. */
export interface CallerIdentity {
  uid: number;
  gid: number;
  userName: string | null;
  /** The names of the caller's real gid and supplementary groups, those that have one. */
  groupNames: string[];
  /** The caller's gids that have no name (or whose lookup the name service's modules turned into "none"). */
  unnamedGids: number[];
}

/**
 * The caller's real ids and groups, which the exec shim kept (the kernel checks permissions, of per-group ACL includes
 * too, with them), named by the name service. throws SysError when a lookup fails: no group line is skipped for that.
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
