// tap-user-nic's command line: lxc-user-nic's two verbs and six or seven words, exactly as LXC and rootlesskit pass them.
import { UsageError } from "../../shared/errors.ts";
import { interfaceNameProblem } from "../../shared/ifname.ts";
import { IFNAMSIZ } from "../../shared/kernel.ts";

export const USER_NIC_USAGE = [
  "Usage: tap-user-nic create {lxcpath} {name} {pid} {type} {bridge} [{nicname}]",
  "       tap-user-nic delete {lxcpath} {name} {/proc/<pid>/ns/net} {type} {bridge} {nicname}",
  "{nicname} is the name inside the container for create, the host end's name for delete.",
].join("\n");

/** The bridge word that asks for a veth on no bridge (lxc-usernet(5) and lxc-user-nic). */
export const NO_BRIDGE = "none";

interface Common {
  /** LXCPATH and NAME: lxc-user-nic takes them and uses neither; so does this program. */
  lxcPath: string;
  containerName: string;
  type: string;
  /** A bridge's name, or `none`. */
  bridge: string;
}

export type UserNicArgs =
  | (Common & { verb: "create"; pid: number; peerName: string })
  | (Common & { verb: "delete"; namespacePath: string; hostName: string | null });

/**
 * Why `name` can be neither an interface name nor a kernel numbering template (`eth%d`, one `%d`,
 * as lxc-user-nic passes when LXC gives no name), or null when it can. The template is checked as
 * the name it becomes with the widest number the kernel could give it.
 */
function interfaceTemplateProblem(name: string): string | null {
  const parts = name.split("%d");
  if (parts.length !== 2) return interfaceNameProblem(name);
  const widest = parts.join("32767");
  if (widest.length >= IFNAMSIZ) return `the template leaves no room under ${IFNAMSIZ - 1} bytes for a number`;
  return interfaceNameProblem(parts.join("0"));
}

/** The largest pid Linux hands out (PID_MAX_LIMIT, 2^22). */
const PID_MAX = 4194304;

/** throws UsageError naming the word that cannot be taken. */
export function parseUserNicArgv(argv: readonly string[]): UserNicArgs {
  if (argv.length < 6 || argv.length > 7) throw new UsageError(`expected 6 or 7 arguments, got ${argv.length}`);
  const [verb = "", lxcPath = "", containerName = "", target = "", type = "", bridge = "", nicName] = argv;
  if (bridge !== NO_BRIDGE) {
    const problem = interfaceNameProblem(bridge);
    if (problem !== null) throw new UsageError(`invalid bridge ${JSON.stringify(bridge)}: ${problem}`);
  }
  const common = { lxcPath, containerName, type, bridge };
  if (verb === "create") {
    if (!/^[0-9]{1,7}$/.test(target) || Number(target) < 1 || Number(target) > PID_MAX) {
      throw new UsageError(`invalid pid ${JSON.stringify(target)}: expected a process id`);
    }
    const peerName = nicName ?? "eth%d";
    const problem = interfaceTemplateProblem(peerName);
    if (problem !== null) throw new UsageError(`invalid nicname ${JSON.stringify(peerName)}: ${problem}`);
    return { ...common, verb, pid: Number(target), peerName };
  }
  if (verb === "delete") {
    if (target.length === 0 || target.includes("\0")) throw new UsageError("invalid network namespace path: it is empty");
    if (nicName !== undefined) {
      const problem = interfaceNameProblem(nicName);
      if (problem !== null) throw new UsageError(`invalid nicname ${JSON.stringify(nicName)}: ${problem}`);
    }
    return { ...common, verb, namespacePath: target, hostName: nicName ?? null };
  }
  throw new UsageError(`unknown command ${JSON.stringify(verb)}: expected create or delete`);
}
