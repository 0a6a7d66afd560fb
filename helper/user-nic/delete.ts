// `tap-user-nic delete`: removes a host veth only when the kernel says it is the caller's (their mark, on that bridge, a veth), never by its name alone.
// The mark is one only CAP_NET_ADMIN can set (CVE-2026-39402 was one user deleting another's port by name); where this
// differs from lxc-user-nic 5.0, which deletes Open vSwitch ports only: docs/containers.md, "Where ours differs from lxc-user-nic".
import { StepError, SysError, systemReason } from "../../shared/errors.ts";
import { InterfaceControl } from "../../shared/netdev.ts";
import { describeLink } from "../../shared/netlink.ts";
import { deleteLinkByIndex } from "../../shared/veth.ts";
import { deleteProblem } from "../../usernet/charges.ts";
import { NO_BRIDGE, type UserNicArgs } from "./args.ts";
import type { VethAuditRecord } from "./audit.ts";
import type { AuditTrail } from "../audit.ts";
import { admitNamespacePath, orRefusal } from "./namespace.ts";

type DeleteArgs = Extract<UserNicArgs, { verb: "delete" }>;

/** The one refusal, the same words for any name, bridge and cause ("no such veth", "not yours"): the cause goes to the audit line. */
function refusal(args: DeleteArgs, cause: string): StepError {
  return new StepError("failed to delete the veth: you hold no veth of that name on that bridge", {
    cause: new Error(`${args.hostName ?? "(no name)"} on ${args.bridge}: ${cause}`),
    hint: "name the host end create printed (the third field of its line), with the same type and bridge",
  });
}

/** The whole of `delete`. throws StepError. */
export function deleteVeth(args: DeleteArgs, uid: number, record: VethAuditRecord, trail: AuditTrail<VethAuditRecord>): void {
  // admit: the namespace, opened as the caller and theirs, as lxc-user-nic asks before a delete
  admitNamespacePath(args.namespacePath, uid);
  const { hostName } = args;
  const refuse = (cause: string) => refusal(args, cause);
  if (hostName === null) throw refuse("no nicname given");
  record.veth = hostName;
  const control = new InterfaceControl();
  try {
    const bridgeIndex = args.bridge === NO_BRIDGE ? null : orRefusal(refuse, () => control.index(args.bridge), "bridge: ");
    const index = orRefusal(refuse, () => control.index(hostName));
    const link = orRefusal(refuse, () => describeLink(index));
    const problem = deleteProblem(link, uid, args.type, args.bridge, bridgeIndex);
    if (problem !== null) throw refuse(problem);
    // The line first, as for a grant of a port: a delete the log does not take is refused.
    trail.grant(record);
    // By index: the name may be freed and taken again between the check and the deletion, the index not.
    try {
      deleteLinkByIndex(index);
    } catch (err) {
      if (!(err instanceof SysError)) throw err;
      throw err.code === "ENODEV" ? refuse("gone meanwhile") : new StepError(`failed to delete veth \`${hostName}': ${systemReason(err)}`);
    }
  } finally {
    control.close();
  }
}
