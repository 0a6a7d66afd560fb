// Where an installation puts each file, and where the launcher finds the installed helper.
import { dirname, join, resolve } from "node:path";

/** The files `tap-launcher install --prefix=DIR` creates. */
export interface InstallLayout {
  prefix: string;
  /** The exec shim: the only privileged file, and the path QEMU's helper= and the launcher use. */
  shim: string;
  /** The Bun helper the shim executes: root-owned, never setuid, never with capabilities. */
  helper: string;
  launcher: string;
  /** tap-user-nic's exec shim (privileged like `shim`) and the Bun program it executes (docs/containers.md). */
  userNicShim: string;
  userNicHelper: string;
  /** The manual pages, PREFIX/share/man/manN/PAGE.N, each with its path under a build's man/ folder. */
  manPages: { built: string; path: string }[];
}

/** The manual pages `bun run build` makes from man/PAGE.N.md (scripts/man.ts) and install places. */
export const MAN_PAGES = ["tap-launcher.1", "bridge.conf.5", "tap-bridge-helper.8", "tap-user-nic.8"] as const;

/** Where page `PAGE.N` goes below a man/ folder: manN/PAGE.N. */
export function manPagePath(page: string): string {
  return join(`man${page.slice(page.lastIndexOf(".") + 1)}`, page);
}

export function installLayout(prefix: string): InstallLayout {
  return {
    prefix,
    shim: join(prefix, "libexec", "tap-bridge-helper"),
    helper: join(prefix, "libexec", "tap-bridge-helper.bun"),
    launcher: join(prefix, "bin", "tap-launcher"),
    userNicShim: join(prefix, "libexec", "tap-user-nic"),
    userNicHelper: join(prefix, "libexec", "tap-user-nic.bun"),
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
