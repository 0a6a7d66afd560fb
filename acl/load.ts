// Reading an ACL file and the files it includes into one ordered list of rules.
import { MAX_CONFIG_FILE_BYTES, type OpenedFile, readConfigFile, UnreadableFile } from "../shared/config-file.ts";
import { AclSyntaxError, parseAclText, type AclRule } from "./parse.ts";

/** Larger files are refused: an ACL is a few lines, and a hostile include must not exhaust memory. */
export const MAX_ACL_FILE_BYTES = MAX_CONFIG_FILE_BYTES;
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

/** The ACL cannot be trusted as a whole: the caller must deny. */
export class AclLoadError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "AclLoadError";
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
    main = readConfigFile(mainFile);
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
      included = readConfigFile(entry.path, Buffer.from(entry.path, "latin1"));
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
