// The relay's capture file (--pcap): made new and private, never over an existing file or through a symbolic link.
import { lstatSync } from "node:fs";
import { EEXIST, EINTR, errnoName } from "../shared/errno.ts";
import { StepError, SysError, systemReason } from "../shared/errors.ts";
import { O_CLOEXEC } from "../shared/kernel.ts";
import { O_CREAT, O_EXCL, O_NOFOLLOW, O_WRONLY } from "../shared/kernel-launcher.ts";
import { describeErrno, openPath, writeOrErrno } from "../shared/libc.ts";
import { release } from "./fds.ts";
import { pcapFileHeader } from "./datapath/pcap.ts";

/** What stands at `path`, for the message that refuses it. */
function whatIsAt(path: string): string {
  try {
    const stat = lstatSync(path);
    if (stat.isSymbolicLink()) return "a symbolic link";
    if (stat.isFile()) return "a file";
    return stat.isDirectory() ? "a directory" : "not a regular file";
  } catch {
    return "something that vanished since";
  }
}

/**
 * Creates `path` for the capture (O_CREAT|O_EXCL|O_NOFOLLOW, mode 0600 whatever the umask allows more
 * of, owned by whoever runs the launcher) and writes the pcap file header. An existing file is refused
 * rather than truncated, and a symbolic link is never followed, dangling or not: a capture must not
 * overwrite what a name happens to lead to. Returns the fd, which the caller closes.
 * throws StepError.
 */
export function createCaptureFile(path: string): number {
  let fd: number;
  try {
    fd = openPath(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600);
  } catch (err) {
    if (err instanceof SysError && err.errno === EEXIST) {
      throw new StepError(
        `failed to create capture file ${path}: it already exists (${whatIsAt(path)}), and a capture neither overwrites nor follows one`,
        {
          hint: "give --pcap a new name, or remove the old file first: the launcher never touches it",
        },
      );
    }
    throw new StepError(`failed to create capture file ${path}: ${systemReason(err)}`, {
      hint: "the folder must exist and be writable by you",
    });
  }
  const header = pcapFileHeader();
  let n = writeOrErrno(fd, header);
  while (n === -EINTR) n = writeOrErrno(fd, header);
  if (n !== header.byteLength) {
    release(fd);
    throw new StepError(`failed to write capture file ${path}: ${n < 0 ? `${describeErrno(-n)} (${errnoName(-n)})` : "short write"}`, {
      hint: "check the space left on its file system",
    });
  }
  return fd;
}
