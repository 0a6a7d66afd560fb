// Network namespaces as an unprivileged caller may name them: opened with the caller's own rights, and asked who owns them.
import { fstatSync } from "node:fs";
import { dlopen, FFIType } from "bun:ffi";
import { SysError } from "./errors.ts";
import { checked, closeFd, describeErrno, ioctlBuffer, ioctlValue, openPath, pollOneOrErrno } from "./libc.ts";

const sym = dlopen("libc.so.6", {
  pidfd_open: { args: [FFIType.i32, FFIType.u32], returns: FFIType.i32 },
  fstatfs: { args: [FFIType.i32, FFIType.ptr], returns: FFIType.i32 },
}).symbols;

// <asm-generic/fcntl.h>
const O_RDONLY = 0;
const O_CLOEXEC = 0o2000000;
const O_PATH = 0o10000000;
// <linux/magic.h>
const NSFS_MAGIC = 0x6e736673;
// <linux/nsfs.h>: _IO(0xb7, 1), _IO(0xb7, 2), _IO(0xb7, 3), _IO(0xb7, 4)
const NS_GET_USERNS = 0xb701;
const NS_GET_PARENT = 0xb702;
const NS_GET_NSTYPE = 0xb703;
const NS_GET_OWNER_UID = 0xb704;
// <linux/sched.h>
const CLONE_NEWNET = 0x40000000;
// <asm-generic/poll.h>
const POLLIN = 0x1;
// <asm-generic/errno-base.h>
const EINVAL = 22;

/** A buffer the kernel fills (struct statfs, a uid_t): 1 KiB, so that it cannot move during the call (oven-sh/bun#32054). */
const outBuffer = new Uint8Array(1024);
const outView = new DataView(outBuffer.buffer);

/** fstatfs(2)'s f_type: the file system the fd lies on. throws SysError. */
function fileSystemMagic(fd: number): number {
  checked("fstatfs", sym.fstatfs(fd, outBuffer), `fd ${fd}`);
  // struct statfs starts with __fsword_t f_type (a long on x86-64 and aarch64).
  return Number(outView.getBigInt64(0, true));
}

/** Device and inode: what tells two namespaces apart (as `ip netns identify` and lsns compare them). */
export function namespaceIdentity(fd: number): string {
  const stat = fstatSync(fd);
  return `${stat.dev}:${stat.ino}`;
}

/**
 * Opens `path` as a network namespace with this process's own credentials (the helper runs as its
 * caller: the shim keeps CAP_NET_ADMIN alone, which grants no file access). O_PATH first, so that a
 * FIFO, a device or a slow file is never really opened; only a file on nsfs is then opened for use.
 * throws SysError(ENOENT, EACCES, EINVAL when it is no network namespace, ...).
 */
export function openNetworkNamespace(path: string): number {
  const handle = openPath(path, O_PATH | O_CLOEXEC);
  try {
    if (fileSystemMagic(handle) !== NSFS_MAGIC) throw new SysError("open", EINVAL, describeErrno(EINVAL), `${path} is not a namespace`);
    const fd = openPath(`/proc/self/fd/${handle}`, O_RDONLY | O_CLOEXEC);
    try {
      const type = ioctlValue(fd, NS_GET_NSTYPE, "NS_GET_NSTYPE", 0, path);
      if (type !== CLONE_NEWNET) throw new SysError("open", EINVAL, describeErrno(EINVAL), `${path} is not a network namespace`);
    } catch (err) {
      closeFd(fd);
      throw err;
    }
    return fd;
  } finally {
    closeFd(handle);
  }
}

/** NS_GET_OWNER_UID of the user namespace `userNamespaceFd`. throws SysError. */
function ownerUid(userNamespaceFd: number): number {
  ioctlBuffer(userNamespaceFd, NS_GET_OWNER_UID, "NS_GET_OWNER_UID", outBuffer, `fd ${userNamespaceFd}`);
  return outView.getUint32(0, true);
}

/** <linux/user_namespace.h>: a user namespace is at most 32 levels deep. */
const MAX_USER_NAMESPACE_DEPTH = 32;

/**
 * The uid that owns, of the user namespaces above the namespace `namespaceFd`, the one just below this
 * process's own (NS_GET_USERNS, then NS_GET_PARENT up to it, then NS_GET_OWNER_UID): the kernel gives
 * a process of this user namespace every capability in a descendant exactly when that ancestor's
 * owner is its euid (cap_capable), so that is whose the namespace is. The owner of a nearer user
 * namespace proves nothing: root, or a user whose subordinate ids cover another's uid, can make one
 * owned by that uid inside a namespace of their own. For a namespace of this process's own user
 * namespace (the initial one) it is that namespace's owner (0). throws SysError(EPERM when the
 * namespace lies outside this process's user namespace, ...).
 */
export function namespaceOwnerUid(namespaceFd: number): number {
  const own = openPath("/proc/self/ns/user", O_RDONLY | O_CLOEXEC);
  let current = ioctlValue(namespaceFd, NS_GET_USERNS, "NS_GET_USERNS", 0, `fd ${namespaceFd}`);
  try {
    const ownIdentity = namespaceIdentity(own);
    for (let depth = 0; depth <= MAX_USER_NAMESPACE_DEPTH; depth += 1) {
      if (namespaceIdentity(current) === ownIdentity) return ownerUid(current);
      const parent = ioctlValue(current, NS_GET_PARENT, "NS_GET_PARENT", 0, `fd ${current}`);
      const below = namespaceIdentity(parent) === ownIdentity;
      if (below) {
        closeFd(parent);
        return ownerUid(current);
      }
      closeFd(current);
      current = parent;
    }
    throw new SysError("ioctl(NS_GET_PARENT)", EINVAL, describeErrno(EINVAL), `more than ${MAX_USER_NAMESPACE_DEPTH} user namespaces deep`);
  } finally {
    closeFd(current);
    closeFd(own);
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
