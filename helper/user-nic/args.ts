// tap-user-nic's command line: lxc-user-nic's two verbs and six or seven words, exactly as LXC and rootlesskit pass them.
import { checkUsage, UsageError } from "../../shared/errors.ts";
import { checkInterfaceName, interfaceNameProblem } from "../../shared/ifname.ts";
import { IFNAMSIZ } from "../../shared/kernel.ts";

export const USER_NIC_USAGE = `Usage: tap-user-nic create {lxcpath} {name} {pid} {type} {bridge} [{nicname}]
       tap-user-nic delete {lxcpath} {name} {/proc/<pid>/ns/net} {type} {bridge} {nicname}
{nicname} is the name inside the container for create, the host end's name for delete.`;

/** The bridge word that asks for a veth on no bridge (lxc-usernet(5) and lxc-user-nic). */
export const NO_BRIDGE = "none";

/** The words used: lxc-user-nic takes LXCPATH and NAME and uses neither; so does this program. */
export type UserNicArgs =
  | { verb: "create"; type: string; bridge: string; pid: number; peerName: string }
  | { verb: "delete"; type: string; bridge: string; namespacePath: string; hostName: string | null };

/** Why `name` is neither an interface name nor a numbering template (`eth%d`, as lxc-user-nic passes), checked with the widest number. */
function interfaceTemplateProblem(name: string): string | null {
  const parts = name.split("%d");
  if (parts.length !== 2) return interfaceNameProblem(name);
  if (parts.join("32767").length >= IFNAMSIZ) return `the template leaves no room under ${IFNAMSIZ - 1} bytes for a number`;
  return interfaceNameProblem(parts.join("0"));
}

/** throws UsageError naming the word that cannot be taken. */
export function parseUserNicArgv(argv: readonly string[]): UserNicArgs {
  if (argv.length < 6 || argv.length > 7) throw new UsageError(`expected 6 or 7 arguments, got ${argv.length}`);
  const [verb = "", , , target = "", type = "", bridge = "", nicName] = argv;
  if (bridge !== NO_BRIDGE) checkUsage(() => checkInterfaceName(bridge, "bridge"));
  if (verb === "create") {
    // 4194304: PID_MAX_LIMIT, the largest pid Linux hands out.
    if (!/^[0-9]{1,7}$/.test(target) || Number(target) < 1 || Number(target) > 4194304) {
      throw new UsageError(`invalid pid ${JSON.stringify(target)}: expected a process id`);
    }
    const peerName = nicName ?? "eth%d";
    const problem = interfaceTemplateProblem(peerName);
    if (problem !== null) throw new UsageError(`invalid nicname ${JSON.stringify(peerName)}: ${problem}`);
    return { verb, type, bridge, pid: Number(target), peerName };
  }
  if (verb === "delete") {
    if (target.length === 0 || target.includes("\0")) throw new UsageError("invalid network namespace path: it is empty");
    if (nicName !== undefined) checkUsage(() => checkInterfaceName(nicName, "nicname"));
    return { verb, type, bridge, namespacePath: target, hostName: nicName ?? null };
  }
  throw new UsageError(`unknown command ${JSON.stringify(verb)}: expected create or delete`);
}
