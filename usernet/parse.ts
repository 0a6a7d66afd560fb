// /etc/lxc/lxc-usernet read the way lxc-user-nic reads it: `USER|@GROUP TYPE BRIDGE COUNT` per line (pure).
// lxc-user-nic's sscanf("%99[^ \t] %99[^ \t] %99[^ \t] %d"), quirks included, so that a file written for LXC grants the
// same: docs/containers.md, "Decisions".

/** One line that lxc-user-nic would use: `subject` is `alice` or `@lab`, `count` may be 0 or negative, `line` counts from 1. */
export type UsernetLine = { subject: string; type: string; bridge: string; count: number; line: number };

/** The four values of one line as the format's directives read them, or null when lxc-user-nic would skip it. */
function scanLine(text: string, line: number): UsernetLine | null {
  let at = 0;
  // A blank in the format: any run of white space (isspace() in the C locale), also none.
  const skipSpace = () => {
    while (at < text.length && " \t\n\v\f\r".includes(text.charAt(at))) at += 1;
  };
  // The format's blank (unless first), then %99[^ \t]: 1 to 99 characters that are not a space or a tab (the rest
  // of a longer word becomes the next field, as in C); null when none, and then so are the fields after it.
  const field = () => {
    if (at > 0) skipSpace();
    const start = at;
    while (at < text.length && at - start < 99 && !" \t".includes(text.charAt(at))) at += 1;
    return at === start ? null : text.slice(start, at);
  };
  const [subject, type, bridge] = [field(), field(), field()];
  // %d: white space, a sign, digits; stored as glibc does (strtol's clamp, then an int's 32 bits).
  skipSpace();
  const digits = /^[+-]?[0-9]+/.exec(text.slice(at));
  if (subject === null || type === null || bridge === null || digits === null) return null;
  const LONG_MAX = (1n << 63n) - 1n;
  const value = BigInt(digits[0]);
  const count = Number(BigInt.asIntN(32, value > LONG_MAX ? LONG_MAX : value < -LONG_MAX - 1n ? -LONG_MAX - 1n : value));
  return { subject, type, bridge, count, line };
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
