// A private /etc/qemu for one command: a read-only overlay in its own mount namespace, host untouched.
import { chmodSync, mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { tempFolder } from "./build.ts";
import { inPrivateMountNamespace } from "./mount-ns.ts";

/**
 * Writes `files` (paths relative to /etc, e.g. `qemu/bridge.conf`) into a layer and returns the argv
 * prefix that runs a command in a new mount namespace where /etc shows that layer over the real /etc,
 * without the files `removed` names (overlayfs whiteouts). The overlay has no upper directory, so it
 * is read-only and any number of commands may use it at once. `modes` sets a file's mode (an
 * unreadable /etc/group), `fifos` makes FIFOs in the layer (a name service that never answers).
 */
export function privateEtcPrefix(
  files: Record<string, string | Uint8Array>,
  removed: readonly string[] = [],
  extra: { modes?: Record<string, number>; fifos?: readonly string[] } = {},
): string[] {
  const layer = join(tempFolder("tl-etc-"), "etc");
  for (const [relative, content] of Object.entries(files)) {
    const path = join(layer, relative);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, content);
  }
  mkdirSync(layer, { recursive: true });
  for (const [relative, mode] of Object.entries(extra.modes ?? {})) chmodSync(join(layer, relative), mode);
  for (const relative of extra.fifos ?? []) {
    const made = Bun.spawnSync({ cmd: ["mkfifo", "-m", "0644", join(layer, relative)] });
    if (made.exitCode !== 0) throw new Error(`mkfifo of /etc/${relative} failed`);
  }
  for (const relative of removed) {
    const made = Bun.spawnSync({ cmd: ["mknod", join(layer, relative), "c", "0", "0"] });
    if (made.exitCode !== 0) throw new Error(`mknod of a whiteout for /etc/${relative} failed`);
  }
  return inPrivateMountNamespace('layer=$1; shift; mount -t overlay tl-etc -o "lowerdir=$layer:/etc" /etc && exec "$@"', layer);
}
