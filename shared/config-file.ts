// Reading a configuration file (the ACL, its includes, the policy) safely: a bounded regular file, read with the caller's permissions.
import { closeSync, constants, fstatSync, openSync, readSync } from "node:fs";
import { errorCode } from "./errors.ts";

/** Larger files are refused: a configuration file is a few lines, and a hostile include must not exhaust memory. */
export const MAX_CONFIG_FILE_BYTES = 1 << 20;

/** Why a file could not be read: an errno code from node:fs, or our own reason. */
export class UnreadableFile extends Error {
  /**
   * An include that is missing, unreadable to the caller (the per-group scheme), or a directory (read
   * as empty by the original) is skipped; any other failure must not silently drop its deny rules.
   */
  readonly skippable: boolean;

  constructor(
    readonly path: string,
    readonly reason: string,
  ) {
    super(`${path}: ${reason}`);
    this.skippable = ["ENOENT", "ENOTDIR", "EACCES", "a directory"].includes(reason);
  }
}

export interface OpenedFile {
  content: Uint8Array;
  identity: string; // device and inode, to recognise an include loop whatever path leads there
}

/**
 * Reads a regular file of at most MAX_CONFIG_FILE_BYTES with the permissions this process has.
 * O_NONBLOCK keeps a FIFO from hanging the open; the fstat then rejects it. `bytes` holds the path
 * as the bytes a file gave it (an include line, read as latin1), `path` is for messages.
 */
export function readConfigFile(path: string, bytes: string | Buffer = path): OpenedFile {
  let fd: number;
  try {
    // Node opens every fd close-on-exec already.
    fd = openSync(bytes, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (err) {
    throw new UnreadableFile(path, errorCode(err));
  }
  try {
    const stat = fstatSync(fd);
    if (stat.isDirectory()) throw new UnreadableFile(path, "a directory");
    if (!stat.isFile()) throw new UnreadableFile(path, "not a regular file");
    if (stat.size > MAX_CONFIG_FILE_BYTES) {
      throw new UnreadableFile(path, `larger than ${MAX_CONFIG_FILE_BYTES} bytes`);
    }
    const content = new Uint8Array(MAX_CONFIG_FILE_BYTES + 1);
    let length = 0;
    for (;;) {
      const n = readSync(fd, content, length, content.byteLength - length, null);
      if (n === 0) break;
      length += n;
      if (length > MAX_CONFIG_FILE_BYTES) throw new UnreadableFile(path, `larger than ${MAX_CONFIG_FILE_BYTES} bytes`);
    }
    return { content: content.slice(0, length), identity: `${stat.dev}:${stat.ino}` };
  } catch (err) {
    if (err instanceof UnreadableFile) throw err;
    throw new UnreadableFile(path, errorCode(err));
  } finally {
    closeSync(fd);
  }
}
