// libc calls only the tests make (bind, listen, setsockopt), bound here so that the programs' binding, shared/libc.ts, holds none.
import { dlopen, FFIType } from "bun:ffi";
import { SysError } from "../../shared/errors.ts";
import { describeErrno, lastErrno } from "../../shared/libc.ts";

const { symbols } = dlopen("libc.so.6", {
  bind: { args: [FFIType.i32, FFIType.ptr, FFIType.u32], returns: FFIType.i32 },
  listen: { args: [FFIType.i32, FFIType.i32], returns: FFIType.i32 },
  setsockopt: { args: [FFIType.i32, FFIType.i32, FFIType.i32, FFIType.ptr, FFIType.u32], returns: FFIType.i32 },
});

function checked(call: string, result: number, detail: string): void {
  if (result >= 0) return;
  const errno = lastErrno();
  throw new SysError(call, errno, describeErrno(errno), detail);
}

/** bind(2) with a sockaddr the caller laid out. throws SysError. */
export function bindSocket(fd: number, address: Uint8Array, detail = ""): void {
  checked("bind", symbols.bind(fd, address, address.byteLength), detail);
}

/** listen(2) with `backlog` connections waiting to be accepted. throws SysError. */
export function listenSocket(fd: number, backlog: number, detail = ""): void {
  checked("listen", symbols.listen(fd, backlog), detail);
}

/** setsockopt(2) of an int option. throws SysError(ENOTSOCK, EBADF, ...). */
export function setSocketOptionInt(fd: number, level: number, option: number, name: string, value: number): void {
  checked(`setsockopt(${name})`, symbols.setsockopt(fd, level, option, new Int32Array([value]), 4), `fd ${fd}`);
}
