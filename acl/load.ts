// Reading an ACL file and the files it includes into one ordered list of rules, and the shared-hosts policy file.
import { closeSync, constants, fstatSync, openSync, readSync } from "node:fs";
import { errorCode } from "../shared/errors.ts";
import { AclSyntaxError, parseAclText, type AclRule } from "./parse.ts";
import { parsePolicyText, PolicySyntaxError, type PolicyRule } from "./policy.ts";

/** Larger files are refused: an ACL is a few lines, and a hostile include must not exhaust memory. */
export const MAX_ACL_FILE_BYTES = 1 << 20;
/** Includes nested deeper than this are refused (the original recurses until it runs out of fds). */
export const MAX_INCLUDE_DEPTH = 8;
/**
 * Bounds on the whole ACL: the files opened (the main file and every include line followed, whether
 * it was read, skipped or found to loop) and the bytes read. Without them the same large file
 * included many times, or a file including itself thousands of times, would cost seconds and
 * gigabytes per run (measured: 300 includes of a 1 MiB file, 18 s and 5.8 GB). Beyond either, the
 * ACL is refused.
 */
export const MAX_ACL_FILES = 64;
export const MAX_ACL_TOTAL_BYTES = 4 << 20;

/** The rules in the order qemu-bridge-helper would collect them, and what reading them involved. */
export interface LoadedAcl {
  rules: AclRule[];
  /** Every file whose rules were read, main file first. */
  filesRead: string[];
  /** Includes skipped, each as a sentence for stderr. */
  warnings: string[];
  /** The bytes of every file read so far, for MAX_ACL_TOTAL_BYTES. */
  bytesRead: number;
  /** The files opened so far, the main file and every include attempted, for MAX_ACL_FILES. */
  filesOpened: number;
}

/** The ACL (or the policy) cannot be trusted as a whole: the caller must deny. */
export class AclLoadError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "AclLoadError";
  }
}

/** Why a file could not be read: an errno code from node:fs, or our own reason. */
class UnreadableFile extends Error {
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

interface OpenedFile {
  content: Uint8Array;
  identity: string; // device and inode, to recognise an include loop whatever path leads there
}

/**
 * Reads a regular file of at most MAX_ACL_FILE_BYTES with the permissions this process has.
 * O_NONBLOCK keeps a FIFO from hanging the open; the fstat then rejects it. `bytes` holds the path
 * as the bytes a file gave it (an include line, read as latin1), `path` is for messages.
 */
export function readAclFile(path: string, bytes: string | Buffer = path): OpenedFile {
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
    if (stat.size > MAX_ACL_FILE_BYTES) {
      throw new UnreadableFile(path, `larger than ${MAX_ACL_FILE_BYTES} bytes`);
    }
    const content = new Uint8Array(MAX_ACL_FILE_BYTES + 1);
    let length = 0;
    for (;;) {
      const n = readSync(fd, content, length, content.byteLength - length, null);
      if (n === 0) break;
      length += n;
      if (length > MAX_ACL_FILE_BYTES) throw new UnreadableFile(path, `larger than ${MAX_ACL_FILE_BYTES} bytes`);
    }
    return { content: content.slice(0, length), identity: `${stat.dev}:${stat.ino}` };
  } catch (err) {
    if (err instanceof UnreadableFile) throw err;
    throw new UnreadableFile(path, errorCode(err));
  } finally {
    closeSync(fd);
  }
}

/**
 * Loads `mainFile` and its includes. Matches qemu-bridge-helper's decisions, with these deliberate,
 * safe differences: a syntax error in an included file refuses the whole ACL (the original keeps the
 * rules read before the bad line); an include path must be absolute (the original resolves it against
 * the caller's directory); an include that is missing, unreadable to the caller or a directory is
 * skipped as in the original but said on stderr, while any other read failure (a FIFO, a device, a
 * file over MAX_ACL_FILE_BYTES, an I/O error) refuses the whole ACL rather than drop its deny rules;
 * an include loop is followed once (the same rules the original ends up with); nesting deeper than
 * MAX_INCLUDE_DEPTH refuses the whole ACL, and so do more than MAX_ACL_FILES files or
 * MAX_ACL_TOTAL_BYTES bytes read in all.
 * throws AclLoadError when the caller must deny.
 */
export function loadAcl(mainFile: string): LoadedAcl {
  const loaded: LoadedAcl = { rules: [], filesRead: [], warnings: [], bytesRead: 0, filesOpened: 1 };
  let main: OpenedFile;
  try {
    main = readAclFile(mainFile);
  } catch (err) {
    if (err instanceof UnreadableFile) {
      throw new AclLoadError(`cannot read ACL file ${mainFile}: ${err.reason}`);
    }
    throw err;
  }
  collect(mainFile, main, [], loaded);
  return loaded;
}

/** Counts `file`'s bytes towards MAX_ACL_TOTAL_BYTES. throws AclLoadError beyond it. */
function countBytes(path: string, file: OpenedFile, into: LoadedAcl): void {
  into.bytesRead += file.content.byteLength;
  if (into.bytesRead > MAX_ACL_TOTAL_BYTES) {
    throw new AclLoadError(`${path}: the ACL and its includes are larger than ${MAX_ACL_TOTAL_BYTES} bytes in all`);
  }
}

function collect(path: string, file: OpenedFile, includeStack: string[], into: LoadedAcl): void {
  countBytes(path, file, into);
  let entries;
  try {
    entries = parseAclText(file.content, path);
  } catch (err) {
    if (err instanceof AclSyntaxError) throw new AclLoadError(`ACL syntax error at ${err.message}`);
    throw err;
  }
  into.filesRead.push(path);
  const stack = [...includeStack, file.identity];
  for (const entry of entries) {
    if (entry.kind === "rule") {
      into.rules.push(entry);
      continue;
    }
    const where = `${entry.file}:${entry.line}`;
    if (!entry.path.startsWith("/")) {
      throw new AclLoadError(`${where}: include path ${JSON.stringify(entry.path)} is not absolute`);
    }
    if (stack.length > MAX_INCLUDE_DEPTH) {
      throw new AclLoadError(`${where}: includes nested more than ${MAX_INCLUDE_DEPTH} deep`);
    }
    into.filesOpened += 1;
    if (into.filesOpened > MAX_ACL_FILES) {
      throw new AclLoadError(`${where}: the ACL and its includes are more than ${MAX_ACL_FILES} files`);
    }
    let included: OpenedFile;
    try {
      // The path's own bytes: a string would be opened as UTF-8, another file, and its denies skipped.
      included = readAclFile(entry.path, Buffer.from(entry.path, "latin1"));
    } catch (err) {
      if (!(err instanceof UnreadableFile)) throw err;
      if (!err.skippable) throw new AclLoadError(`${where}: cannot read include ${entry.path}: ${err.reason}`);
      into.warnings.push(`${where}: skipped include ${entry.path}: ${err.reason}`);
      continue;
    }
    if (stack.includes(included.identity)) {
      countBytes(entry.path, included, into);
      into.warnings.push(`${where}: skipped include ${entry.path}: include loop`);
      continue;
    }
    collect(entry.path, included, stack, into);
  }
}

/**
 * The shared-hosts policy at `path`, or null when there is no such file (then nothing changes: the
 * ACL alone decides, as with QEMU's helper). Any other failure to read or parse it denies: a quota
 * that cannot be read must not read as "no quota". The policy has no includes.
 * throws AclLoadError.
 */
export function loadPolicy(path: string): PolicyRule[] | null {
  let file: OpenedFile;
  try {
    file = readAclFile(path);
  } catch (err) {
    if (!(err instanceof UnreadableFile)) throw err;
    if (err.reason === "ENOENT") return null;
    throw new AclLoadError(`cannot read policy file ${path}: ${err.reason}`);
  }
  try {
    return parsePolicyText(file.content, path);
  } catch (err) {
    if (err instanceof PolicySyntaxError) throw new AclLoadError(`policy syntax error at ${err.message}`);
    throw err;
  }
}
