// The libc calls only the launcher side makes: epoll, batched I/O, exec, fds, file metadata.
// Bound apart from libc.ts so that the privileged helper's import graph holds none of them.
import { dlopen, FFIType } from "bun:ffi";
import { ENODATA, EIO } from "./errno.ts";
import { addressOf, asNumber, checked, cString, failure, lastErrno, orErrno } from "./libc.ts";

const sym = dlopen("libc.so.6", {
  epoll_create1: { args: [FFIType.i32], returns: FFIType.i32 },
  epoll_ctl: { args: [FFIType.i32, FFIType.i32, FFIType.i32, FFIType.ptr], returns: FFIType.i32 },
  epoll_wait: { args: [FFIType.i32, FFIType.ptr, FFIType.i32, FFIType.i32], returns: FFIType.i32 },
  // Variadic in C; on x86-64 and aarch64 the fixed arguments travel in the same registers either way.
  fcntl: { args: [FFIType.i32, FFIType.i32, FFIType.u64], returns: FFIType.i32 },
  socketpair: { args: [FFIType.i32, FFIType.i32, FFIType.i32, FFIType.ptr], returns: FFIType.i32 },
  pipe2: { args: [FFIType.ptr, FFIType.i32], returns: FFIType.i32 },
  recvmsg: { args: [FFIType.i32, FFIType.ptr, FFIType.i32], returns: FFIType.i64_fast },
  getxattr: { args: [FFIType.ptr, FFIType.ptr, FFIType.ptr, FFIType.u64], returns: FFIType.i64_fast },
  statvfs: { args: [FFIType.ptr, FFIType.ptr], returns: FFIType.i32 },
  dup3: { args: [FFIType.i32, FFIType.i32, FFIType.i32], returns: FFIType.i32 },
  execve: { args: [FFIType.ptr, FFIType.ptr, FFIType.ptr], returns: FFIType.i32 },
  // The handler argument is SIG_DFL (0): no function pointer ever crosses.
  signal: { args: [FFIType.i32, FFIType.u64], returns: FFIType.u64 },
  // The relay's batched I/O (launcher/datapath): raw addresses, so nothing is allocated per call. read is
  // bound here too (libc.ts binds it for buffers) so that readAtOrErrno stays out of the helper's graph.
  read: { args: [FFIType.i32, FFIType.ptr, FFIType.u64], returns: FFIType.i64_fast },
  writev: { args: [FFIType.i32, FFIType.ptr, FFIType.i32], returns: FFIType.i64_fast },
  sendmmsg: { args: [FFIType.i32, FFIType.ptr, FFIType.u32, FFIType.i32], returns: FFIType.i32 },
  recvmmsg: { args: [FFIType.i32, FFIType.ptr, FFIType.u32, FFIType.i32, FFIType.ptr], returns: FFIType.i32 },
}).symbols;

/** epoll_create1(2). throws SysError. */
export function epollCreate(flags: number): number {
  return checked("epoll_create1", sym.epoll_create1(flags), "");
}

/** epoll_ctl(2) with an epoll_event laid out in `event`. throws SysError. */
export function epollControl(epollFd: number, operation: number, fd: number, event: Uint8Array): void {
  checked("epoll_ctl", sym.epoll_ctl(epollFd, operation, fd, event), `fd ${fd}`);
}

/** epoll_wait(2): ready count, or minus errno (EINTR is normal). */
export function epollWaitOrErrno(epollFd: number, events: Uint8Array, maxEvents: number, timeoutMs: number): number {
  return orErrno(sym.epoll_wait(epollFd, events, maxEvents, timeoutMs));
}

/** fcntl(2) with an integer argument. throws SysError(EBADF, ...). */
export function fcntl(fd: number, command: number, name: string, argument = 0): number {
  return checked(`fcntl(${name})`, sym.fcntl(fd, command, argument), `fd ${fd}`);
}

/** socketpair(2): the two connected ends. */
export function openSocketPair(domain: number, type: number): [number, number] {
  const fds = new Int32Array(2);
  checked("socketpair", sym.socketpair(domain, type, 0, fds), "");
  return [fds[0] ?? -1, fds[1] ?? -1];
}

/** pipe2(2): [read end, write end], with `flags` such as O_CLOEXEC. */
export function openPipe(flags: number): [number, number] {
  const fds = new Int32Array(2);
  checked("pipe2", sym.pipe2(fds, flags), "");
  return [fds[0] ?? -1, fds[1] ?? -1];
}

/** recvmsg(2) with a msghdr laid out in `message`; bytes received, or minus errno. Never throws. */
export function receiveMessageOrErrno(fd: number, message: Uint8Array, flags: number): number {
  return orErrno(sym.recvmsg(fd, message, flags));
}

/**
 * An extended attribute's value (getxattr(2)), or null when the file has none of that name.
 * throws SysError(ENOENT, EACCES, ...).
 */
export function extendedAttribute(path: string, name: string): Uint8Array | null {
  const value = new Uint8Array(4096);
  const n = asNumber(sym.getxattr(cString(path), cString(name), value, value.byteLength));
  if (n >= 0) return value.slice(0, n);
  if (lastErrno() === ENODATA) return null;
  throw failure("getxattr", `${name} of ${path}`);
}

/**
 * The mount flags (f_flag: ST_NOSUID, ST_RDONLY, ...) of the file system holding `path`, from
 * statvfs(3). struct statvfs on 64-bit glibc: ten 8-byte fields before f_flag, 112 bytes in all.
 * throws SysError(ENOENT, EACCES, ...).
 */
export function mountFlags(path: string): bigint {
  const result = new BigUint64Array(14);
  checked("statvfs", sym.statvfs(cString(path), result), path);
  return result[9] ?? 0n;
}

/** dup3(2) with no flags: `newFd` becomes a copy of `oldFd` without close-on-exec. throws SysError. */
export function duplicateFdTo(oldFd: number, newFd: number): void {
  checked("dup3", sym.dup3(oldFd, newFd, 0), `fd ${oldFd} to ${newFd}`);
}

/** Puts `signal` back to its default action (an ignored signal stays ignored across execve). */
export function restoreDefaultSignal(signal: number): void {
  sym.signal(signal, 0);
}

/** Strings laid out NUL-terminated in one buffer, and a NULL-terminated array of their addresses. */
function pointerArray(strings: readonly string[]): { text: Uint8Array; pointers: BigUint64Array } {
  const encoded = strings.map((value) => cString(value));
  const text = new Uint8Array(
    Math.max(
      1024,
      encoded.reduce((sum, bytes) => sum + bytes.byteLength, 0),
    ),
  );
  const pointers = new BigUint64Array(Math.max(128, strings.length + 1));
  const base = addressOf(text);
  let at = 0;
  encoded.forEach((bytes, i) => {
    text.set(bytes, at);
    pointers[i] = BigInt(base + at);
    at += bytes.byteLength;
  });
  pointers[strings.length] = 0n;
  return { text, pointers };
}

/**
 * execve(2): replaces this process with `path`, run with `argv` and the environment `env`
 * (`NAME=value` strings). Returns only on failure, with the errno (ENOENT, EACCES, ENOEXEC, E2BIG, ...).
 */
export function executeOrErrno(path: string, argv: readonly string[], env: readonly string[]): number {
  const args = pointerArray(argv);
  const environment = pointerArray(env);
  sym.execve(cString(path), new Uint8Array(args.pointers.buffer), new Uint8Array(environment.pointers.buffer));
  // Held until here so that the strings the arrays point into cannot be collected during the call.
  void args.text;
  void environment.text;
  return lastErrno() || EIO;
}

/** read(2) into a raw address (see addressOf): bytes read, or minus errno. Never throws. */
export function readAtOrErrno(fd: number, address: number, length: number): number {
  return orErrno(sym.read(fd, address, length));
}

/** writev(2) over `count` iovecs laid out at a raw address: bytes written, or minus errno. Never throws. */
export function writevAtOrErrno(fd: number, iovecs: number, count: number): number {
  return orErrno(sym.writev(fd, iovecs, count));
}

/**
 * sendmmsg(2) of `count` mmsghdrs laid out at a raw address: how many were sent (the kernel sets each
 * msg_len), or minus errno when not even the first was. Never throws.
 */
export function sendMessagesAtOrErrno(fd: number, messages: number, count: number, flags: number): number {
  return orErrno(sym.sendmmsg(fd, messages, count, flags));
}

/**
 * recvmmsg(2) into `count` mmsghdrs laid out at a raw address, with no timeout: how many arrived (each
 * msg_len set), or minus errno when none did. Never throws.
 */
export function receiveMessagesAtOrErrno(fd: number, messages: number, count: number, flags: number): number {
  return orErrno(sym.recvmmsg(fd, messages, count, flags, null));
}
