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
// <linux/nsfs.h>: _IO(0xb7, 1), _IO(0xb7, 3), _IO(0xb7, 4)
const NS_GET_USERNS = 0xb701;
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

/**
 * The uid that owns the user namespace owning the namespace `namespaceFd` (NS_GET_USERNS, then
 * NS_GET_OWNER_UID). The initial user namespace answers 0. throws SysError(EPERM when the owning
 * user namespace lies outside this process's, ...).
 */
export function namespaceOwnerUid(namespaceFd: number): number {
  const userNamespace = ioctlValue(namespaceFd, NS_GET_USERNS, "NS_GET_USERNS", 0, `fd ${namespaceFd}`);
  try {
    ioctlBuffer(userNamespace, NS_GET_OWNER_UID, "NS_GET_OWNER_UID", outBuffer, `fd ${userNamespace}`);
    return outView.getUint32(0, true);
  } finally {
    closeFd(userNamespace);
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
