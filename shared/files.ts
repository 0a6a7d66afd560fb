// Small files and directory listings read through libc: the helper evaluates no node:fs (whose set-up alone costs ~1.7 ms of CPU).
import { SysError } from "./errors.ts";
import { EFBIG, EINTR } from "./errno.ts";
import { O_CLOEXEC, O_DIRECTORY, O_RDONLY } from "./kernel.ts";
import { closeFd, describeErrno, openPath, readDirectoryEntries, readOrErrno } from "./libc.ts";

/** Reads `fd` to its end into `buffer`: the bytes read, or buffer.byteLength + 1 when more were there. throws SysError. */
export function readToEnd(fd: number, buffer: Uint8Array, what: string): number {
  for (let length = 0; ; ) {
    // Once the buffer is full, reading one more byte tells whether there was more.
    const n = readOrErrno(fd, length < buffer.byteLength ? buffer.subarray(length) : new Uint8Array(1));
    if (n === -EINTR) continue;
    if (n < 0) throw new SysError("read", -n, describeErrno(-n), what);
    if (n === 0) return length;
    length += n;
    if (length > buffer.byteLength) return length;
  }
}

/** The text (latin1) of a file of at most `limit` bytes. throws SysError(ENOENT, EISDIR, EFBIG, ...). */
export function readSmallFile(path: string, limit: number): string {
  const fd = openPath(path, O_RDONLY | O_CLOEXEC);
  try {
    const buffer = new Uint8Array(limit);
    const length = readToEnd(fd, buffer, path);
    if (length > limit) throw new SysError("read", EFBIG, `longer than ${limit} bytes`, path);
    return Buffer.from(buffer.subarray(0, length)).toString("latin1");
  } finally {
    closeFd(fd);
  }
}

/** The names in a directory but `.` and `..`. throws SysError(ENOENT, ENOTDIR, ...). */
export function listDirectory(path: string): string[] {
  const fd = openPath(path, O_RDONLY | O_CLOEXEC | O_DIRECTORY);
  try {
    const names: string[] = [];
    const buffer = new Uint8Array(8192);
    const view = new DataView(buffer.buffer);
    // struct linux_dirent64: u64 d_ino, s64 d_off, u16 d_reclen, u8 d_type, char d_name[] (NUL-terminated)
    for (let length = readDirectoryEntries(fd, buffer); length > 0; length = readDirectoryEntries(fd, buffer)) {
      for (let at = 0; at < length; at += view.getUint16(at + 16, true)) {
        const name = Buffer.from(buffer.subarray(at + 19, buffer.indexOf(0, at + 19))).toString("latin1");
        if (name !== "." && name !== "..") names.push(name);
      }
    }
    return names;
  } finally {
    closeFd(fd);
  }
}
