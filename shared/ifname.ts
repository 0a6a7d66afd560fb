// Which network interface names the project accepts: those the kernel accepts, minus templates and non-ASCII.
import { IFNAMSIZ } from "./kernel.ts";
import { ValueError } from "./errors.ts";
import { charsWithin } from "./text.ts";

/**
 * Why `name` cannot name an interface, or null: the kernel's dev_valid_name(), and no `%`, which it expands as a
 * template (`tap%d`), and only printable ASCII, so that what the caller typed is exactly the bytes looked up.
 */
export function interfaceNameProblem(name: string): string | null {
  if (name.length === 0) return "it is empty";
  if (!charsWithin(name, 0x21, 0x7e)) return "only printable ASCII without blanks is accepted";
  if (name.length >= IFNAMSIZ) return `it is ${name.length} bytes long and the kernel allows at most ${IFNAMSIZ - 1}`;
  if (name === "." || name === "..") return "`.` and `..` are not interface names";
  if (name.includes("/") || name.includes(":") || name.includes("%")) return "it contains `/`, `:` or `%`";
  return null;
}

/** throws ValueError naming the problem when `name` is no acceptable interface name. */
export function checkInterfaceName(name: string, what = "interface name"): void {
  const problem = interfaceNameProblem(name);
  if (problem !== null) throw new ValueError(`invalid ${what} ${JSON.stringify(name)}: ${problem}`);
}
