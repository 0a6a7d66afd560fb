// Who the caller is, as the policy matches subjects: ids as the kernel holds them, names from the name service.
import type { ThreadCredentials } from "./credentials.ts";
import { groupNameOf, userNameOf } from "./libc.ts";

/**
 * The caller's real ids and groups, which the exec shim kept (the kernel checks permissions, of per-group ACL includes
 * too, with them), named by the name service: `userName` null, and `unnamedGids`, where it has no name (or its modules
 * turned a failure into "none"). throws SysError when a lookup fails: no group line is skipped for that.
 */
export function lookUpCaller(credentials: ThreadCredentials) {
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
/** The caller as the policy and the audit trail name them. */
export type CallerIdentity = ReturnType<typeof lookUpCaller>;
