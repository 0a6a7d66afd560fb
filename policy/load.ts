// Reading the shared-hosts policy file: its lines, none when there is no file, a refusal when it cannot be trusted.
import { readConfigFile, UnreadableFile } from "../shared/config-file.ts";
import { pathAbsent } from "../shared/libc.ts";
import { parsePolicyText, PolicySyntaxError, type PolicyRule } from "./rules.ts";

/** The policy exists but cannot be read or parsed: every request is then refused (deny). */
export class PolicyLoadError extends Error {
  override name = "PolicyLoadError";
}

/**
 * The policy at `path` (no includes), or null when there is none: the ACL alone decides, as with QEMU's helper.
 * throws PolicyLoadError on any other failure: a quota that cannot be read must not read as "no quota".
 */
export function loadPolicy(path: string): PolicyRule[] | null {
  // Asked first, as it is mostly absent; one removed meanwhile is ENOENT below.
  if (pathAbsent(path)) return null;
  try {
    return parsePolicyText(readConfigFile(path).content, path);
  } catch (err) {
    if (err instanceof UnreadableFile && err.reason === "ENOENT") return null;
    if (err instanceof UnreadableFile) throw new PolicyLoadError(`cannot read policy file ${path}: ${err.reason}`);
    if (err instanceof PolicySyntaxError) throw new PolicyLoadError(`policy syntax error at ${err.message}`);
    throw err;
  }
}
