// The container's network namespace, admitted only when the caller owns it: opened with the caller's rights, owned by a user namespace the caller owns, never the helper's own.
//
// lxc-user-nic's history is the reason for each step: it once worked on a namespace the caller did
// not own (CVE-2017-5985), opened a path the caller chose with root's rights (CVE-2018-6556) and
// told "does not exist" from "not allowed" (CVE-2022-47952). Here every refusal, whatever its cause,
// is the same sentence; the cause goes to the audit line only.
import { StepError, SysError, systemReason } from "../../shared/errors.ts";
import { closeFd } from "../../shared/libc.ts";
import { namespaceIdentity, namespaceOwnerUid, openNetworkNamespace, openProcess, processExited } from "../../shared/namespace.ts";

/** An open network namespace the caller may put a device in; `close()` is idempotent. */
export interface AdmittedNamespace {
  fd: number;
  /** Throws the refusal when the process it was reached through has exited since (create only). */
  confirmStillThere(): void;
  close(): void;
}

/**
 * The one refusal for a namespace, word for word the same whatever the cause and whichever PID or
 * path was given: the cause (with the target) is in `cause`, for the audit line, never in the words.
 */
function refusal(target: string, cause: string): StepError {
  return new StepError("failed to open the container's network namespace: it does not exist or is not yours", {
    cause: new Error(`${target}: ${cause}`),
    hint: "name a process (or /proc/PID/ns/net) of a container you started: its network namespace must belong to a user namespace you created",
  });
}

/**
 * Why the open namespace `fd` is not one `callerUid` may use, or null. Owned means: of the user
 * namespaces above it, the one just below the helper's has the caller as owner (the euid that
 * created it), as the kernel decides who holds capabilities there. The helper's own namespace, where the
 * bridge is, is refused for everyone, root included: the peer would land beside the host end.
 */
function ownershipProblem(fd: number, callerUid: number): string | null {
  let owner: number;
  try {
    owner = namespaceOwnerUid(fd);
  } catch (err) {
    return `its owner cannot be read: ${systemReason(err)}`;
  }
  if (owner !== callerUid) return `its outermost user namespace below the helper's is owned by uid ${owner}`;
  let own: number | null = null;
  try {
    own = openNetworkNamespace("/proc/self/ns/net");
    if (namespaceIdentity(own) === namespaceIdentity(fd)) return "it is the helper's own network namespace";
  } catch (err) {
    return `the helper's own namespace cannot be compared: ${systemReason(err)}`;
  } finally {
    if (own !== null) closeFd(own);
  }
  return null;
}

/** Opens `path` as the caller and checks it; throws the refusal. */
function openOwned(path: string, target: string, callerUid: number): number {
  let fd: number;
  try {
    fd = openNetworkNamespace(path);
  } catch (err) {
    if (!(err instanceof SysError)) throw err;
    throw refusal(target, `open ${path}: ${systemReason(err)}`);
  }
  const problem = ownershipProblem(fd, callerUid);
  if (problem !== null) {
    closeFd(fd);
    throw refusal(target, problem);
  }
  return fd;
}

/**
 * The network namespace of process `pid`. A pidfd taken first pins the process: once the namespace
 * is open, the process still running proves it was that process's (a pid can be reused), and the
 * caller of `confirmStillThere` learns whether it exited meanwhile. throws StepError (the refusal).
 */
export function admitProcessNamespace(pid: number, callerUid: number): AdmittedNamespace {
  const target = `PID ${pid}`;
  let pidfd: number;
  try {
    pidfd = openProcess(pid);
  } catch (err) {
    if (!(err instanceof SysError)) throw err;
    throw refusal(target, `pidfd_open: ${systemReason(err)}`);
  }
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
    close: closeOnce([fd, pidfd]),
  };
}

/** The network namespace at `path` (delete's NETNS_PATH), opened as the caller. throws StepError (the refusal). */
export function admitNamespacePath(path: string, callerUid: number): AdmittedNamespace {
  const fd = openOwned(path, JSON.stringify(path), callerUid);
  return { fd, confirmStillThere: () => {}, close: closeOnce([fd]) };
}

/** AdmittedNamespace.close: closes `fds` the first time only. */
function closeOnce(fds: readonly number[]): () => void {
  let open = true;
  return () => {
    if (!open) return;
    open = false; // before closing: a failed close must not close a number the next open reuses
    for (const fd of fds) closeFd(fd);
  };
}
