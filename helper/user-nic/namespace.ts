// The container's network namespace, admitted only when the caller owns it: opened with the caller's rights, owned by a user namespace the caller owns, never the helper's own.
// Every refusal is the same sentence, the cause going to the audit line only (CVE-2022-47952; lxc-user-nic's other
// namespace flaws: docs/containers.md, "Security").
import { StepError, SysError, systemReason } from "../../shared/errors.ts";
import { closeFd } from "../../shared/libc.ts";
import { namespaceIdentity, namespaceOwnerUid, openNetworkNamespace, openProcess, processExited } from "../../shared/namespace.ts";

/** The one refusal, whatever the cause and whichever PID or path was given; `target` and the cause go to `cause`. */
function refusal(target: string, cause: string): StepError {
  return new StepError("failed to open the container's network namespace: it does not exist or is not yours", {
    cause: new Error(`${target}: ${cause}`),
    hint: "name a process (or /proc/PID/ns/net) of a container you started: its network namespace must belong to a user namespace you created",
  });
}

/**
 * Why the namespace `fd` is not `callerUid`'s (see namespaceOwnerUid), or null. The helper's own, where the
 * bridge is, is refused for everyone, root included: the peer would land beside the host end.
 */
function ownershipProblem(fd: number, callerUid: number): string | null {
  try {
    const owner = namespaceOwnerUid(fd);
    if (owner !== callerUid) return `its outermost user namespace below the helper's is owned by uid ${owner}`;
  } catch (err) {
    return `its owner cannot be read: ${systemReason(err)}`;
  }
  try {
    if (namespaceIdentity("/proc/self/ns/net") === namespaceIdentity(fd)) return "it is the helper's own network namespace";
  } catch (err) {
    return `the helper's own namespace cannot be compared: ${systemReason(err)}`;
  }
  return null;
}

/** `look()`'s value, or `refuse` of a SysError's reason after `prefix`; any other error goes through (delete's lookups too). */
export function orRefusal<T>(refuse: (cause: string) => StepError, look: () => T, prefix = ""): T {
  try {
    return look();
  } catch (err) {
    if (!(err instanceof SysError)) throw err;
    throw refuse(`${prefix}${systemReason(err)}`);
  }
}

/** Opens `path` as the caller and checks it; throws `refuse`'s refusal. */
function openOwned(path: string, refuse: (cause: string) => StepError, callerUid: number): number {
  const fd = orRefusal(refuse, () => openNetworkNamespace(path), `open ${path}: `);
  const problem = ownershipProblem(fd, callerUid);
  if (problem === null) return fd;
  closeFd(fd);
  throw refuse(problem);
}

/**
 * The network namespace of process `pid`. A pidfd taken first pins the process: it still running once the
 * namespace is open proves the namespace was its (a pid can be reused). throws StepError (the refusal).
 */
export function admitProcessNamespace(pid: number, callerUid: number) {
  const refuse = (cause: string) => refusal(`PID ${pid}`, cause);
  const pidfd = orRefusal(refuse, () => openProcess(pid), "pidfd_open: ");
  let fd: number;
  try {
    fd = openOwned(`/proc/${pid}/ns/net`, refuse, callerUid);
    if (processExited(pidfd)) {
      closeFd(fd);
      throw refuse("the process exited while its namespace was opened");
    }
  } catch (err) {
    closeFd(pidfd);
    throw err;
  }
  return {
    fd,
    confirmStillThere: () => {
      if (processExited(pidfd)) throw refuse("the process exited before its device was handed over");
    },
    // Once only: a second close could close whatever reused these numbers.
    close: () => {
      if (fd < 0) return;
      closeFd(fd);
      closeFd(pidfd);
      fd = -1;
    },
  };
}

/** Checks that the network namespace at `path` (delete's NETNS_PATH), opened as the caller, is theirs. throws StepError (the refusal). */
export function admitNamespacePath(path: string, callerUid: number): void {
  closeFd(openOwned(path, (cause) => refusal(JSON.stringify(path), cause), callerUid));
}
