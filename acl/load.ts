// Reading an ACL file and the files it includes into one ordered list of rules.
import { type OpenedFile, readConfigFile, UnreadableFile } from "../shared/config-file.ts";
import { latin1Bytes } from "../shared/text.ts";
import { AclSyntaxError, parseAclText, type AclRule } from "./parse.ts";

/** Includes nested deeper than this are refused (the original recurses until it runs out of fds). */
const MAX_INCLUDE_DEPTH = 8;
/** Bounds on the files opened and the bytes read in all: 300 includes of a 1 MiB file once cost 18 s and 5.8 GB per run (measured). */
export const MAX_ACL_FILES = 64;
export const MAX_ACL_TOTAL_BYTES = 4 << 20;

/** The rules in qemu-bridge-helper's order, the files read (main first), the includes skipped (for stderr), the bounds' counts. */
type LoadedAcl = { rules: AclRule[]; filesRead: string[]; warnings: string[]; bytesRead: number; filesOpened: number };

/** The ACL cannot be trusted as a whole: the caller must deny. */
export class AclLoadError extends Error {
  override name = "AclLoadError";
}

/** `mainFile` and its includes as qemu-bridge-helper reads them, but safer (docs/design.md, "How the ACL is read"). throws AclLoadError. */
export function loadAcl(mainFile: string): LoadedAcl {
  const loaded: LoadedAcl = { rules: [], filesRead: [], warnings: [], bytesRead: 0, filesOpened: 1 };
  try {
    collect(mainFile, readConfigFile(mainFile), [], loaded);
  } catch (err) {
    // collect() reports its includes' UnreadableFile itself: this one is the main file's.
    if (err instanceof UnreadableFile) throw new AclLoadError(`cannot read ACL file ${mainFile}: ${err.reason}`);
    throw err instanceof AclSyntaxError ? new AclLoadError(`ACL syntax error at ${err.message}`) : err;
  }
  return loaded;
}

function countBytes(path: string, file: OpenedFile, into: LoadedAcl): void {
  into.bytesRead += file.content.byteLength;
  if (into.bytesRead > MAX_ACL_TOTAL_BYTES)
    throw new AclLoadError(`${path}: the ACL and its includes are larger than ${MAX_ACL_TOTAL_BYTES} bytes in all`);
}

function collect(path: string, file: OpenedFile, includeStack: string[], into: LoadedAcl): void {
  countBytes(path, file, into);
  const entries = parseAclText(file.content, path);
  into.filesRead.push(path);
  const stack = [...includeStack, file.identity];
  for (const entry of entries) {
    if (entry.kind === "rule") {
      into.rules.push(entry);
      continue;
    }
    const where = `${entry.file}:${entry.line}`;
    if (!entry.path.startsWith("/")) throw new AclLoadError(`${where}: include path ${JSON.stringify(entry.path)} is not absolute`);
    if (stack.length > MAX_INCLUDE_DEPTH) throw new AclLoadError(`${where}: includes nested more than ${MAX_INCLUDE_DEPTH} deep`);
    into.filesOpened += 1;
    if (into.filesOpened > MAX_ACL_FILES) throw new AclLoadError(`${where}: the ACL and its includes are more than ${MAX_ACL_FILES} files`);
    let included: OpenedFile;
    try {
      // The path's own bytes: a string would be opened as UTF-8, another file, and its denies skipped.
      included = readConfigFile(entry.path, latin1Bytes(entry.path));
    } catch (err) {
      if (!(err instanceof UnreadableFile)) throw err;
      // An include missing, unreadable to the caller (per-group includes) or a directory (empty to the original) is skipped.
      if (!["ENOENT", "ENOTDIR", "EACCES", "a directory"].includes(err.reason))
        throw new AclLoadError(`${where}: cannot read include ${entry.path}: ${err.reason}`);
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
