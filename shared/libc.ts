// The libc calls the privileged helper makes, behind typed functions that throw SysError (the launcher's others: libc-launcher.ts).
import { dlopen, FFIType, ptr, read } from "bun:ffi";
import { SysError } from "./errors.ts";
import { joinBytes, latin1Text, utf8Bytes } from "./text.ts";
import { EINTR, EIO, ENOENT } from "./errno.ts";

// The library object is kept, not only its symbols: a Bun that frees a collected library must not free this one.
const libc = dlopen("libc.so.6", {
  __errno_location: { args: [], returns: FFIType.ptr },
  strerror: { args: [FFIType.i32], returns: FFIType.cstring },
  // Variadic in C; on x86-64 and aarch64 the fixed arguments travel in the same registers either way.
  open: { args: [FFIType.ptr, FFIType.i32, FFIType.u32], returns: FFIType.i32 },
  close: { args: [FFIType.i32], returns: FFIType.i32 },
  read: { args: [FFIType.i32, FFIType.ptr, FFIType.u64], returns: FFIType.i64_fast },
  write: { args: [FFIType.i32, FFIType.ptr, FFIType.u64], returns: FFIType.i64_fast },
  ioctl: { args: [FFIType.i32, FFIType.u64, FFIType.ptr], returns: FFIType.i32 },
  socket: { args: [FFIType.i32, FFIType.i32, FFIType.i32], returns: FFIType.i32 },
  getsockopt: { args: [FFIType.i32, FFIType.i32, FFIType.i32, FFIType.ptr, FFIType.ptr], returns: FFIType.i32 },
  setsockopt: { args: [FFIType.i32, FFIType.i32, FFIType.i32, FFIType.ptr, FFIType.u32], returns: FFIType.i32 },
  send: { args: [FFIType.i32, FFIType.ptr, FFIType.u64, FFIType.i32], returns: FFIType.i64_fast },
  sendmsg: { args: [FFIType.i32, FFIType.ptr, FFIType.i32], returns: FFIType.i64_fast },
  poll: { args: [FFIType.ptr, FFIType.u64, FFIType.i32], returns: FFIType.i32 },
  getpwuid_r: { args: [FFIType.u32, FFIType.ptr, FFIType.ptr, FFIType.u64, FFIType.ptr], returns: FFIType.i32 },
  getgrgid_r: { args: [FFIType.u32, FFIType.ptr, FFIType.ptr, FFIType.u64, FFIType.ptr], returns: FFIType.i32 },
  connect: { args: [FFIType.i32, FFIType.ptr, FFIType.u32], returns: FFIType.i32 },
  isatty: { args: [FFIType.i32], returns: FFIType.i32 },
  _exit: { args: [FFIType.i32], returns: FFIType.void },
  statx: { args: [FFIType.i32, FFIType.ptr, FFIType.i32, FFIType.u32, FFIType.ptr], returns: FFIType.i32 },
  getdents64: { args: [FFIType.i32, FFIType.ptr, FFIType.u64], returns: FFIType.i64_fast },
  access: { args: [FFIType.ptr, FFIType.i32], returns: FFIType.i32 },
});
const sym = libc.symbols;
// errno's address is fixed per thread; a Worker that imports this module gets its own.
const errnoAddress = sym.__errno_location();

/** errno as the last failing call left it; read it before any other libc call. */
export function lastErrno(): number {
  return errnoAddress === null ? 0 : read.i32(errnoAddress, 0);
}
/** A call's count, or minus errno on failure: never 0 then (a failure must not read as "0 bytes, success"). */
export function orErrno(result: number | bigint): number {
  const n = asNumber(result);
  return n < 0 ? -(lastErrno() || EIO) : n;
}
/** libc's text for an errno value (`No such device`). */
export function describeErrno(errno: number): string {
  return String(sym.strerror(errno));
}
/** The SysError for the call that just failed, with errno as it left it. */
export function failure(call: string, detail: string): SysError {
  const errno = lastErrno();
  return new SysError(call, errno, describeErrno(errno), detail);
}
/** i64_fast results are numbers unless beyond 2^53, which no size or count here can reach. */
export function asNumber(result: number | bigint): number {
  return typeof result === "bigint" ? Number(result) : result;
}
export function checked(call: string, result: number, detail: string): number {
  if (result < 0) throw failure(call, detail);
  return result;
}
/** A NUL-terminated copy of a string for C; names the bytes exactly as Node encodes them. */
export function cString(text: string): Uint8Array {
  return utf8Bytes(`${text}\0`);
}

/** The address of a buffer for pointers inside structs (msghdr, iovec): of 1 KiB or more, as small ones can move (oven-sh/bun#32054). */
export function addressOf(buffer: Uint8Array): number {
  if (buffer.byteLength < 1024) throw new RangeError("addressOf needs a buffer of at least 1 KiB");
  return ptr(buffer);
}

/** checked() of a call made again while it fails with EINTR (a signal arrived first). */
function checkedRestarted(call: string, detail: string, attempt: () => number | bigint): number {
  for (;;) {
    const result = asNumber(attempt());
    if (result >= 0 || lastErrno() !== EINTR) return checked(call, result, detail);
  }
}

/** open(2) of a path, or of the exact bytes a file named it by. throws SysError(ENOENT, EACCES, ...), RangeError for a NUL inside. */
export function openPath(path: string | Uint8Array, flags: number, mode = 0): number {
  const bytes = typeof path === "string" ? cString(path) : joinBytes([path, new Uint8Array(1)]);
  // C would open the part before it: a different file.
  if (bytes.indexOf(0) !== bytes.byteLength - 1) throw new RangeError("a path with a NUL byte inside");
  const detail = typeof path === "string" ? path : latin1Text(path);
  return checkedRestarted("open", detail, () => sym.open(bytes, flags, mode));
}

/** Whether nothing is at `path` (access(2) says ENOENT): an answer, not a SysError, whose first use costs ~0.1 ms at every start. */
export function pathAbsent(path: string): boolean {
  // A NUL inside would ask about the part before it: not absent, so that the read (openPath) refuses it.
  return !path.includes("\0") && sym.access(cString(path), 0 /* F_OK */) < 0 && lastErrno() === ENOENT;
}

/** The bytes of `fd` to its end, in a buffer of `expected` + 1 bytes doubling up to `limit` + 1: longer than `limit` means more. */
export function readToEnd(fd: number, expected: number, limit: number, detail: string): Uint8Array {
  let buffer = new Uint8Array(Math.min(expected, limit) + 1);
  let length = 0;
  for (let n = -1; n !== 0 && length <= limit; length += n) {
    if (length === buffer.byteLength) {
      const larger = new Uint8Array(Math.min(2 * length, limit + 1));
      larger.set(buffer);
      buffer = larger;
    }
    n = checkedRestarted("read", detail, () => sym.read(fd, buffer.subarray(length), buffer.byteLength - length));
  }
  return buffer.subarray(0, length);
}

/** The two file types (a mode's S_IFMT bits, <linux/stat.h>) that matter here. */
export const S_IFDIR = 0o040000,
  S_IFREG = 0o100000;

/** fstat(2) through statx(2), whose layout is the same on every architecture: type, size, `device:inode`. throws SysError(EBADF). */
export function fileStatus(fd: number): { type: number; size: number; identity: string } {
  const statx = new Uint8Array(256);
  checked("fstat", sym.statx(fd, cString(""), 0x1000 /* AT_EMPTY_PATH */, 0x7ff /* STATX_BASIC_STATS */, statx), `fd ${fd}`);
  const view = new DataView(statx.buffer);
  // stx_mask: a file system may leave fields out, and a type, size or inode read as 0 would be wrong.
  const needed = 0x1 /* STATX_TYPE */ | 0x100 /* STATX_INO */ | 0x200; /* STATX_SIZE */
  if ((view.getUint32(0, true) & needed) !== needed) {
    throw new SysError("fstat", EIO, "the file system does not report the file's type, size and inode", `fd ${fd}`);
  }
  const identity = `${view.getUint32(136, true)}:${view.getUint32(140, true)}:${view.getBigUint64(32, true)}`;
  return { type: view.getUint16(28, true) & 0o170000 /* S_IFMT */, size: Number(view.getBigUint64(40, true)), identity };
}

/** The names in the directory open as `fd`, `.` and `..` left out (getdents64(2)). throws SysError(ENOTDIR, ...). */
export function directoryNames(fd: number, detail: string): string[] {
  const names: string[] = [];
  const buffer = new Uint8Array(8192);
  const view = new DataView(buffer.buffer);
  for (let length = 1; length > 0; ) {
    length = checkedRestarted("getdents64", detail, () => sym.getdents64(fd, buffer, buffer.byteLength));
    // struct linux_dirent64: u64 d_ino, s64 d_off, u16 d_reclen, u8 d_type, then the NUL-terminated name.
    for (let at = 0; at < length; at += view.getUint16(at + 16, true)) {
      const name = latin1Text(buffer.subarray(at + 19, buffer.indexOf(0, at + 19)));
      if (name !== "." && name !== "..") names.push(name);
    }
  }
  return names;
}

/** close(2); EINTR still closes the fd on Linux, so it is neither retried nor an error. throws SysError(EBADF, EIO, ...). */
export function closeFd(fd: number): void {
  if (sym.close(fd) < 0 && lastErrno() !== EINTR) throw failure("close", `fd ${fd}`);
}

// The *OrErrno calls are for loops that treat EAGAIN/EINTR as normal: bytes done (or 0), or minus errno. They never throw.
export function readOrErrno(fd: number, buffer: Uint8Array, length = buffer.byteLength): number {
  return orErrno(sym.read(fd, buffer, length));
}
export function writeOrErrno(fd: number, buffer: Uint8Array, length = buffer.byteLength): number {
  return orErrno(sym.write(fd, buffer, length));
}
export function sendOrErrno(fd: number, buffer: Uint8Array, flags: number): number {
  return orErrno(sym.send(fd, buffer, buffer.byteLength, flags));
}
/** sendmsg(2) with a msghdr laid out in `message`. */
export function sendMessageOrErrno(fd: number, message: Uint8Array, flags: number): number {
  return orErrno(sym.sendmsg(fd, message, flags));
}
/** connect(2) with a sockaddr the caller laid out. */
export function connectOrErrno(fd: number, address: Uint8Array): number {
  return orErrno(sym.connect(fd, address, address.byteLength));
}

/** ioctl(2) whose argument is a buffer the kernel reads or fills, or a plain integer (TUNSETOFFLOAD). throws SysError naming it. */
export function ioctl(fd: number, request: number, name: string, argument: Uint8Array | number, detail = ""): number {
  return checked(`ioctl(${name})`, sym.ioctl(fd, request, argument), detail);
}

export function openSocket(domain: number, type: number, protocol = 0): number {
  return checked("socket", sym.socket(domain, type, protocol), "");
}

/** getsockopt(2) of an int option. throws SysError(ENOTSOCK, EBADF, ...). */
export function getSocketOptionInt(fd: number, level: number, option: number, name: string): number {
  const value = new Int32Array(1);
  const length = new Uint32Array([4]);
  checked(`getsockopt(${name})`, sym.getsockopt(fd, level, option, value, length), `fd ${fd}`);
  return value[0] ?? 0;
}

/** setsockopt(2) with the option's value laid out in `value`. throws SysError(EBADF, EINVAL, ...). */
export function setSocketOption(fd: number, level: number, option: number, name: string, value: Uint8Array): void {
  checked(`setsockopt(${name})`, sym.setsockopt(fd, level, option, value, value.byteLength), `fd ${fd}`);
}

// struct pollfd: int fd, short events, short revents (zeroed with events, the int's low half on little-endian); one, reused.
const pollfd = new Int32Array(2);

/** poll(2) on one fd for `events`, at most `timeoutMs` (-1: for ever): 1 when ready (or in error), 0 on time-out, or minus errno. */
export function pollOneOrErrno(fd: number, events: number, timeoutMs: number): number {
  pollfd[0] = fd;
  pollfd[1] = events;
  return orErrno(sym.poll(pollfd, 1, timeoutMs));
}

const ERANGE = 34;

// The name of a user or group id through NSS (LDAP and the like count), or null when there is none, read out of our own
// buffer. throws SysError(EIO, ENOMEM, ...) when the lookup failed, which must not read as "no such name": a check must deny.
function entryName(call: "getpwuid_r" | "getgrgid_r", id: number): string | null {
  // Answers over 1 MiB are refused: a name database entry is a few hundred bytes.
  for (let size = 16 * 1024; size <= 1 << 20; size *= 4) {
    // struct passwd (48 bytes) or group (32), whose first field points to the name in `strings`; 1 KiB buffers cannot move.
    const entry = new Uint8Array(1024);
    const strings = new Uint8Array(size);
    const result = new BigUint64Array(128);
    const status = sym[call](id, entry, strings, size, result);
    if (status === ERANGE) continue;
    // glibc answers a missing name with 0 and no entry; any errno, ENOENT too (a database or NSS service down), is a failure.
    if (status !== 0) throw new SysError(call, status, describeErrno(status), `id ${id}`);
    if (result[0] === 0n) return null;
    const nameAddress = new DataView(entry.buffer).getBigUint64(0, true);
    const offset = Number(nameAddress - BigInt(addressOf(strings)));
    if (offset < 0 || offset >= size) throw new SysError(call, EIO, "the name lies outside the buffer given", `id ${id}`);
    const end = strings.indexOf(0, offset);
    return latin1Text(strings.subarray(offset, end < 0 ? size : end));
  }
  throw new SysError(call, ERANGE, describeErrno(ERANGE), `id ${id}`);
}

/** The user name of `uid` or group name of `gid`, or null when it has none. throws SysError when the lookup failed. */
export function userNameOf(uid: number): string | null {
  return entryName("getpwuid_r", uid);
}
export function groupNameOf(gid: number): string | null {
  return entryName("getgrgid_r", gid);
}

/** _exit(2): ends the process, every thread, at once, also from a Worker (process.exit() ends only it); the kernel closes the fds. */
export function exitProcessNow(status: number): never {
  sym._exit(status);
  throw new Error("_exit returned");
}

/** isatty(3): whether `fd` is a terminal (without node:tty, whose stream set-up costs milliseconds at start). */
export function isTerminal(fd: number): boolean {
  return sym.isatty(fd) === 1;
}
