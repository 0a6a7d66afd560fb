// /etc/lxc/lxc-usernet read the way lxc-user-nic reads it: `USER|@GROUP TYPE BRIDGE COUNT` per line (pure).
//
// lxc-user-nic scans each line with sscanf("%99[^ \t] %99[^ \t] %99[^ \t] %d") and skips any line that does not
// give all four values. This drop-in takes and skips the same lines, quirks included (a line that starts with
// a blank is skipped; `#` is a name that matches no one; `2x` counts as 2): a file written for LXC grants the same.

/** One line that lxc-user-nic would use: `subject` is `alice` or `@lab`, `count` may be 0 or negative, `line` counts from 1. */
export interface UsernetLine {
  subject: string;
  type: string;
  bridge: string;
  count: number;
  line: number;
}

/** A cursor over one line, with the scanf directives the format uses. */
class Scanner {
  at = 0;
  constructor(private readonly text: string) {}

  /** A blank in the format: any run of white space (isspace() in the C locale), also none. */
  skipSpace(): void {
    while (this.at < this.text.length && " \t\n\v\f\r".includes(this.text.charAt(this.at))) this.at += 1;
  }

  /**
   * The format's blank (unless first), then %99[^ \t]: 1 to 99 characters that are not a space or a tab (the
   * rest of a longer word becomes the next field, as in C); null when none.
   */
  field(): string | null {
    if (this.at > 0) this.skipSpace();
    const start = this.at;
    while (this.at < this.text.length && this.at - start < 99 && !" \t".includes(this.text.charAt(this.at))) this.at += 1;
    return this.at === start ? null : this.text.slice(start, this.at);
  }

  /** %d (the last directive): white space, a sign, digits; stored as glibc does (strtol's clamp, then an int's 32 bits). */
  integer(): number | null {
    this.skipSpace();
    const match = /^[+-]?[0-9]+/.exec(this.text.slice(this.at));
    if (match === null) return null;
    const LONG_MAX = (1n << 63n) - 1n;
    const value = BigInt(match[0]);
    return Number(BigInt.asIntN(32, value > LONG_MAX ? LONG_MAX : value < -LONG_MAX - 1n ? -LONG_MAX - 1n : value));
  }
}

/** The four values of one line, or null when lxc-user-nic would skip it (a field missing ends the scan: the rest read none). */
function scanLine(text: string, line: number): UsernetLine | null {
  const scanner = new Scanner(text);
  const [subject, type, bridge, count] = [scanner.field(), scanner.field(), scanner.field(), scanner.integer()];
  return subject === null || type === null || bridge === null || count === null ? null : { subject, type, bridge, count, line };
}

/**
 * The lines lxc-user-nic would use, in order: each up to its `\n` and its first NUL (C strings end there),
 * read as latin1 so that names compare byte for byte, as strcmp does.
 */
export function parseUsernet(content: Uint8Array): UsernetLine[] {
  const lines = Buffer.from(content).toString("latin1").split("\n");
  if (lines.at(-1) === "") lines.pop();
  return lines.flatMap((raw, index) => scanLine(raw.split("\0", 1)[0] ?? "", index + 1) ?? []);
}
