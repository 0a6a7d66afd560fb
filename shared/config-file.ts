// Reading a configuration file (the ACL, its includes, the policy) safely: a bounded regular file, read with the caller's permissions.
import { errorCode } from "./errors.ts";
import { O_CLOEXEC, O_NONBLOCK, O_RDONLY } from "./kernel.ts";
import { closeFd, fileStatus, openPath, readToEnd, S_IFDIR, S_IFREG } from "./libc.ts";

/** Larger files are refused: a configuration file is a few lines, and a hostile include must not exhaust memory. */
export const MAX_CONFIG_FILE_BYTES = 1 << 20;

/** Why a file could not be read: an errno name, or our own reason. */
export class UnreadableFile extends Error {
  readonly reason: string;
  constructor(path: string, reason: string) {
    super(`${path}: ${reason}`);
    this.reason = reason;
  }
}

/** O_NONBLOCK keeps a FIFO from hanging the open (fstat rejects it). `bytes`: the path as an include gave it; `path`: for messages. */
export function readConfigFile(path: string, bytes: string | Uint8Array = path) {
  try {
    const fd = openPath(bytes, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    try {
      const stat = fileStatus(fd);
      if (stat.type === S_IFDIR) throw new UnreadableFile(path, "a directory");
      if (stat.type !== S_IFREG) throw new UnreadableFile(path, "not a regular file");
      const content = stat.size > MAX_CONFIG_FILE_BYTES ? null : readToEnd(fd, stat.size, MAX_CONFIG_FILE_BYTES, path);
      if (content === null || content.byteLength > MAX_CONFIG_FILE_BYTES)
        throw new UnreadableFile(path, `larger than ${MAX_CONFIG_FILE_BYTES} bytes`);
      return { content, identity: stat.identity }; // device:inode, to recognise an include loop whatever path leads there
    } finally {
      closeFd(fd); // a failed close, too, is this file's failure (below): what was read is not used
    }
  } catch (err) {
    throw err instanceof UnreadableFile ? err : new UnreadableFile(path, errorCode(err));
  }
}
export type OpenedFile = ReturnType<typeof readConfigFile>;
