// Where an installation puts each file, and where the launcher finds the installed helper.
import { dirname, join, resolve } from "node:path";

/**
 * The privileged programs, one entry each: `bun run build` compiles helper/shim.c into dist/shim/NAME
 * for it, and dist/NAME is the one compiled program (scripts/program-entry.ts runs ENTRY when argv[0]
 * names NAME; add it there too). install places PREFIX/libexec/NAME.bun (a hard link to
 * PREFIX/bin/tap-launcher, never privileged) and PREFIX/libexec/NAME (the shim, the only privileged
 * file). A second privileged program is one more entry here and there.
 */
export const PRIVILEGED_PROGRAMS = [
  { name: "tap-bridge-helper", entry: "helper/main.ts" },
  // lxc-user-nic's drop-in for rootless containers (docs/containers.md).
  { name: "tap-user-nic", entry: "helper/user-nic/main.ts" },
] as const;

/** Where one privileged program's two files go. */
export interface PrivilegedFiles {
  name: string;
  /** The exec shim: the only privileged file, and the path callers (QEMU's helper=, the launcher) use. */
  shim: string;
  /** The Bun program the shim executes: root-owned, never setuid, never with capabilities. */
  helper: string;
}

/** The files `tap-launcher install --prefix=DIR` creates. */
export interface InstallLayout {
  prefix: string;
  /** The bridge helper's exec shim: the path QEMU's helper= and the launcher use. */
  shim: string;
  /** The Bun bridge helper its shim executes. */
  helper: string;
  /** Every privileged program's shim and Bun program, the bridge helper's first. */
  privileged: PrivilegedFiles[];
  launcher: string;
  /** The manual pages, PREFIX/share/man/manN/PAGE.N, each with its path under a build's man/ folder. */
  manPages: { built: string; path: string }[];
}

/** The manual pages `bun run build` makes from man/PAGE.N.md (scripts/man.ts) and install places. */
export const MAN_PAGES = ["tap-launcher.1", "bridge.conf.5", "tap-bridge-helper.8", "tap-user-nic.8"] as const;

/** Where page `PAGE.N` goes below a man/ folder: manN/PAGE.N. */
export function manPagePath(page: string): string {
  return join(`man${page.slice(page.lastIndexOf(".") + 1)}`, page);
}

/** PREFIX/libexec/NAME and PREFIX/libexec/NAME.bun. */
export function privilegedFiles(prefix: string, name: string): PrivilegedFiles {
  return { name, shim: join(prefix, "libexec", name), helper: join(prefix, "libexec", `${name}.bun`) };
}

export function installLayout(prefix: string): InstallLayout {
  const privileged = PRIVILEGED_PROGRAMS.map(({ name }) => privilegedFiles(prefix, name));
  const [bridgeHelper] = privileged;
  if (bridgeHelper === undefined) throw new Error("PRIVILEGED_PROGRAMS is empty");
  return {
    prefix,
    shim: bridgeHelper.shim,
    helper: bridgeHelper.helper,
    privileged,
    launcher: join(prefix, "bin", "tap-launcher"),
    manPages: MAN_PAGES.map((page) => ({ built: join("man", manPagePath(page)), path: join(prefix, "share", "man", manPagePath(page)) })),
  };
}

/** True inside a `bun build --compile` executable, whose modules live under /$bunfs/. */
export const isCompiled = Bun.main.startsWith("/$bunfs/");

/** The prefix this launcher runs from when installed (DIR of DIR/bin/tap-launcher), else null. */
export function ownPrefix(): string | null {
  return isCompiled ? resolve(dirname(process.execPath), "..") : null;
}

/** Where freshly built executables are: beside this launcher when compiled, else the repository's dist/. */
export function buildFolder(): string {
  return isCompiled ? dirname(process.execPath) : resolve(import.meta.dir, "..", "dist");
}

/** The default helper: the installed shim beside this launcher's prefix, else /usr/local's. */
export function defaultHelper(): string {
  return installLayout(ownPrefix() ?? "/usr/local").shim;
}
