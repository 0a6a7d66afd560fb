// Whether a path is on a nosuid mount (statvfs), and that mount's place (/proc/self/mountinfo) for messages.
import { existsSync, readFileSync, realpathSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { ST_NOSUID } from "../shared/kernel-launcher.ts";
import { mountFlags } from "../shared/libc-launcher.ts";

/** One mount of /proc/self/mountinfo: its ids, where it sits, and its per-mount options (nosuid is one). */
interface MountEntry {
  id: string;
  parentId: string;
  mountPoint: string;
  options: string[];
}

/** Paths in mountinfo have space, tab, newline and backslash written as octal escapes (`\040`). */
function unescapeMountPath(text: string): string {
  return text.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8)));
}

function readMounts(): MountEntry[] {
  return readFileSync("/proc/self/mountinfo", "utf8")
    .split("\n")
    .filter(Boolean)
    .map((line) => {
      const [id = "", parentId = "", , , mountPoint = "", options = ""] = line.split(" ");
      return { id, parentId, mountPoint: unescapeMountPath(mountPoint), options: options.split(",") };
    });
}

/**
 * The mount that holds the existing `path`: the longest mount point containing it with its symbolic
 * links resolved. Of several mounts stacked on that point, the visible one is the one no other of
 * them sits on.
 */
function mountHolding(path: string): MountEntry | null {
  const real = realpathSync(path);
  const contains = (mountPoint: string) => mountPoint === "/" || real === mountPoint || real.startsWith(`${mountPoint}/`);
  const candidates = readMounts().filter((mount) => contains(mount.mountPoint));
  const longest = Math.max(...candidates.map((mount) => mount.mountPoint.length));
  const stacked = candidates.filter((mount) => mount.mountPoint.length === longest);
  return stacked.find((mount) => !stacked.some((other) => other.parentId === mount.id)) ?? stacked.at(-1) ?? null;
}

/**
 * The mount point of the nosuid mount holding `path` (or where it would be created), or null. On such a mount the kernel ignores a
 * file's setuid bit and its file capabilities at exec, so the shim would run without its privilege.
 */
export function nosuidMountOf(path: string): string | null {
  let existing = resolve(path);
  while (!existsSync(existing)) existing = dirname(existing);
  // The kernel's own per-mount flag decides; mountinfo only names the mount for the message.
  if ((mountFlags(existing) & ST_NOSUID) === 0n) return null;
  return mountHolding(existing)?.mountPoint ?? existing;
}
