// The container's network namespace, admitted only when the caller owns it: opened with the caller's rights, owned by a user namespace the caller owns, never the helper's own.
// lxc-user-nic once worked on a namespace the caller did not own (CVE-2017-5985), opened a path the
// caller chose with root's rights (CVE-2018-6556) and told "does not exist" from "not allowed"
// (CVE-2022-47952). So every refusal here is the same sentence; the cause goes to the audit line only.
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

/** The fd `open()` returns, or the refusal with `call`'s reason. */
function opened(target: string, call: string, open: () => number): number {
  try {
    return open();
  } catch (err) {
    if (!(err instanceof SysError)) throw err;
    throw refusal(target, `${call}: ${systemReason(err)}`);
  }
}

/** Opens `path` as the caller and checks it; throws the refusal. */
function openOwned(path: string, target: string, callerUid: number): number {
  const fd = opened(target, `open ${path}`, () => openNetworkNamespace(path));
  const problem = ownershipProblem(fd, callerUid);
  if (problem === null) return fd;
  closeFd(fd);
  throw refusal(target, problem);
}

/**
 * The network namespace of process `pid`. A pidfd taken first pins the process: it still running once the
 * namespace is open proves the namespace was its (a pid can be reused). throws StepError (the refusal).
 */
export function admitProcessNamespace(pid: number, callerUid: number) {
  const target = `PID ${pid}`;
  const pidfd = opened(target, "pidfd_open", () => openProcess(pid));
  let fd: number;
  try {
    fd = openOwned(`/proc/${pid}/ns/net`, target, callerUid);
    if (processExited(pidfd)) {
      closeFd(fd);
      throw refusal(target, "the process exited while its namespace was opened");
    }
  } catch (err) {
    closeFd(pidfd);
    throw err;
  }
  return {
    fd,
    confirmStillThere: () => {
      if (processExited(pidfd)) throw refusal(target, "the process exited before its device was handed over");
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
  closeFd(openOwned(path, JSON.stringify(path), callerUid));
}
