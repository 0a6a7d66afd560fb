// Reading the shared-hosts policy file: its lines, none when there is no file, a refusal when it cannot be trusted.
import { readConfigFile, UnreadableFile } from "../shared/config-file.ts";
import { parsePolicyText, PolicySyntaxError, type PolicyRule } from "./rules.ts";

/** The policy exists but cannot be read or parsed: every request is then refused (deny). */
export class PolicyLoadError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "PolicyLoadError";
  }
}

/**
 * The shared-hosts policy at `path`, or null when there is no such file (then nothing changes: the
 * ACL alone decides, as with QEMU's helper). Any other failure to read or parse it denies: a quota
 * that cannot be read must not read as "no quota". The policy has no includes.
 * throws PolicyLoadError.
 */
export function loadPolicy(path: string): PolicyRule[] | null {
  let content: Uint8Array;
  try {
    content = readConfigFile(path).content;
  } catch (err) {
    if (!(err instanceof UnreadableFile)) throw err;
    if (err.reason === "ENOENT") return null;
    throw new PolicyLoadError(`cannot read policy file ${path}: ${err.reason}`);
  }
  try {
    return parsePolicyText(content, path);
  } catch (err) {
    if (err instanceof PolicySyntaxError) throw new PolicyLoadError(`policy syntax error at ${err.message}`);
    throw err;
  }
}
