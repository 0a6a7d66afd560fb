// Network namespaces as an unprivileged caller may name them: opened with the caller's own rights, and asked who owns them.
import { fstatSync, statSync } from "node:fs";
import { dlopen, FFIType } from "bun:ffi";
import { SysError } from "./errors.ts";
import { O_CLOEXEC, O_RDONLY } from "./kernel.ts";
import { checked, closeFd, describeErrno, ioctl, openPath, pollOneOrErrno } from "./libc.ts";

// Kept whole, not only its symbols (as in libc.ts).
const library = dlopen("libc.so.6", {
  pidfd_open: { args: [FFIType.i32, FFIType.u32], returns: FFIType.i32 },
  fstatfs: { args: [FFIType.i32, FFIType.ptr], returns: FFIType.i32 },
});
const sym = library.symbols;

const O_PATH = 0o10000000;
const NSFS_MAGIC = 0x6e736673; // <linux/magic.h>
// <linux/nsfs.h>: _IO(0xb7, 1) to _IO(0xb7, 4)
const NS_GET_USERNS = 0xb701;
const NS_GET_PARENT = 0xb702;
const NS_GET_NSTYPE = 0xb703;
const NS_GET_OWNER_UID = 0xb704;
const CLONE_NEWNET = 0x40000000;
const POLLIN = 0x1;
const EINVAL = 22;
const MAX_USER_NAMESPACE_DEPTH = 32; // <linux/user_namespace.h>

/** A buffer the kernel fills (struct statfs, a uid_t): 1 KiB, so that it cannot move during the call (oven-sh/bun#32054). */
const outBuffer = new Uint8Array(1024);
const outView = new DataView(outBuffer.buffer);

const invalid = (call: string, detail: string) => new SysError(call, EINVAL, describeErrno(EINVAL), detail);

/** Device and inode of an fd or a path: what tells two namespaces apart (as `ip netns identify` and lsns compare them). */
export function namespaceIdentity(namespace: number | string): string {
  const stat = typeof namespace === "number" ? fstatSync(namespace) : statSync(namespace);
  return `${stat.dev}:${stat.ino}`;
}

/**
 * Opens `path` as a network namespace with this process's own credentials (the helper runs as its
 * caller: CAP_NET_ADMIN grants no file access). O_PATH first, so that a FIFO, a device or a slow file
 * is never really opened; only a file on nsfs is. throws SysError(ENOENT, EACCES, EINVAL, ...).
 */
export function openNetworkNamespace(path: string): number {
  const handle = openPath(path, O_PATH | O_CLOEXEC);
  let fd = -1;
  try {
    checked("fstatfs", sym.fstatfs(handle, outBuffer), `fd ${handle}`);
    // struct statfs starts with __fsword_t f_type (a long on x86-64 and aarch64).
    if (Number(outView.getBigInt64(0, true)) !== NSFS_MAGIC) throw invalid("open", `${path} is not a namespace`);
    fd = openPath(`/proc/self/fd/${handle}`, O_RDONLY | O_CLOEXEC);
    const type = ioctl(fd, NS_GET_NSTYPE, "NS_GET_NSTYPE", 0, path);
    if (type !== CLONE_NEWNET) throw invalid("open", `${path} is not a network namespace`);
    return fd;
  } catch (err) {
    if (fd >= 0) closeFd(fd);
    throw err;
  } finally {
    closeFd(handle);
  }
}

/** NS_GET_OWNER_UID of the user namespace `userNamespaceFd`. throws SysError. */
function ownerUid(userNamespaceFd: number): number {
  ioctl(userNamespaceFd, NS_GET_OWNER_UID, "NS_GET_OWNER_UID", outBuffer, `fd ${userNamespaceFd}`);
  return outView.getUint32(0, true);
}

/**
 * The owner of the user namespace just below this process's own among those above `namespaceFd`'s (0 for
 * one of this process's own): the kernel gives a process here every capability in a descendant exactly
 * when that ancestor's owner is its euid (cap_capable). A nearer owner proves nothing: root, or a user
 * whose subordinate ids cover another's uid, can make one owned by that uid inside one of their own.
 * throws SysError(EPERM when the namespace lies outside this process's user namespace, ...).
 */
export function namespaceOwnerUid(namespaceFd: number): number {
  const ownIdentity = namespaceIdentity("/proc/self/ns/user");
  let current = ioctl(namespaceFd, NS_GET_USERNS, "NS_GET_USERNS", 0, `fd ${namespaceFd}`);
  try {
    for (let depth = 0; depth <= MAX_USER_NAMESPACE_DEPTH; depth += 1) {
      if (namespaceIdentity(current) === ownIdentity) return ownerUid(current);
      const parent = ioctl(current, NS_GET_PARENT, "NS_GET_PARENT", 0, `fd ${current}`);
      if (namespaceIdentity(parent) === ownIdentity) {
        closeFd(parent);
        return ownerUid(current);
      }
      closeFd(current);
      current = parent;
    }
    throw invalid("ioctl(NS_GET_PARENT)", `more than ${MAX_USER_NAMESPACE_DEPTH} user namespaces deep`);
  } finally {
    closeFd(current);
  }
}

/** pidfd_open(2): a handle on the process `pid` that stays valid when the number is reused. throws SysError(ESRCH, ...). */
export function openProcess(pid: number): number {
  return checked("pidfd_open", sym.pidfd_open(pid, 0), `pid ${pid}`);
}

/** Whether the process behind a pidfd has exited (its pidfd polls readable then). throws SysError. */
export function processExited(pidfd: number): boolean {
  const ready = pollOneOrErrno(pidfd, POLLIN, 0);
  if (ready < 0) throw new SysError("poll", -ready, describeErrno(-ready), `pidfd ${pidfd}`);
  return ready > 0;
}
