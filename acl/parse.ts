// The bridge.conf language, parsed line by line exactly as qemu-bridge-helper reads it (pure, no I/O).
import { IFNAMSIZ } from "../shared/kernel.ts";
import { latin1Text } from "../shared/text.ts";
import { FileLineError, quoteLine } from "../shared/config-line.ts";

/** qemu-bridge-helper reads with fgets() into a 4096-byte buffer: longer lines arrive in pieces. */
const LINE_BUFFER = 4096;

/** `bridge` is null for `all`. */
export type AclRule = { kind: "rule"; action: "allow" | "deny"; bridge: string | null; file: string; line: number };
type AclEntry = AclRule | { kind: "include"; path: string; file: string; line: number };

/** A line the original would also reject; the whole ACL is then refused (default deny). */
export class AclSyntaxError extends FileLineError {}

// g_ascii_isspace(): space, \t, \n, \f, \r. Not \v, unlike C's isspace(): measured against the
// original, a leading \v makes an unknown command and a trailing one stays in the name.
const isSpace = (c: string | undefined): boolean => c === " " || c === "\t" || c === "\n" || c === "\f" || c === "\r";

/**
 * Calls `visit` with each piece fgets() returns for `content` (bytes as latin1), cut at its first NUL as C sees it, with its
 * 1-based line. Not a generator, whose first use costs ~0.15 ms at every start (docs/benchmarks.md, "First uses").
 */
function eachFgetsPiece(content: string, visit: (text: string, line: number) => void): void {
  let line = 1;
  let start = 0;
  while (start < content.length) {
    const newline = content.indexOf("\n", start);
    const end = Math.min(newline < 0 ? content.length : newline + 1, start + LINE_BUFFER - 1);
    const piece = content.slice(start, end);
    const nul = piece.indexOf("\0");
    visit(nul < 0 ? piece : piece.slice(0, nul), line);
    if (end === newline + 1) line += 1;
    start = end;
  }
}

/** One ACL file's entries, read as qemu-bridge-helper reads them. throws AclSyntaxError at the first line it also rejects. */
export function parseAclText(content: Uint8Array, file: string): AclEntry[] {
  const entries: AclEntry[] = [];
  eachFgetsPiece(latin1Text(content), (text, line) => {
    let at = 0;
    while (isSpace(text[at])) at += 1;
    if (at === text.length || text[at] === "#") return;
    const rest = text.slice(at);
    let split = rest.indexOf(" ");
    if (split < 0) split = rest.indexOf("\t");
    if (split < 0) throw new AclSyntaxError(file, line, `invalid line ${quoteLine(rest.trimEnd())}: a command needs an argument`);
    const command = rest.slice(0, split);
    let argStart = split + 1;
    while (isSpace(rest[argStart])) argStart += 1;
    let argEnd = rest.length;
    while (argEnd > argStart && isSpace(rest[argEnd - 1])) argEnd -= 1;
    const argument = rest.slice(argStart, argEnd);
    // qemu-bridge-helper's own length check, kept for the same decisions; the helper's name rule
    // (shared/ifname.ts) judges the bridge it is asked for.
    if (command !== "include" && argument.length >= IFNAMSIZ)
      throw new AclSyntaxError(file, line, `name ${quoteLine(argument)} too long: ${argument.length} bytes, at most ${IFNAMSIZ - 1}`);
    if (command === "include") entries.push({ kind: "include", path: argument, file, line });
    else if (command === "allow" || command === "deny")
      entries.push({ kind: "rule", action: command, bridge: argument === "all" ? null : argument, file, line });
    else throw new AclSyntaxError(file, line, `unknown command ${quoteLine(command)}: expected allow, deny or include`);
  });
  return entries;
}
