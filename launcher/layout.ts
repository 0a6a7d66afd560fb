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
}

export function installLayout(prefix: string): InstallLayout {
  return {
    prefix,
    shim: join(prefix, "libexec", "tap-bridge-helper"),
    helper: join(prefix, "libexec", "tap-bridge-helper.bun"),
    launcher: join(prefix, "bin", "tap-launcher"),
  };
}

/** True inside a `bun build --compile` executable, whose modules live under /$bunfs/. */
export const isCompiled = import.meta.path.startsWith("/$bunfs/");

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
