// Unprivileged test users (numeric ids, switched to with setpriv) and a private 0666 /dev/net/tun.
import { chmodSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { tempFolder } from "./build.ts";
import { inPrivateMountNamespace } from "./mount-ns.ts";

export interface TestUser {
  uid: number;
  gid: number;
  groups: number[];
}

/** A member of LAB_GROUP. */
export const ALICE: TestUser = { uid: 4101, gid: 4101, groups: [4201] };
/** In no supplementary group. */
export const BOB: TestUser = { uid: 4102, gid: 4102, groups: [] };
export const LAB_GROUP = 4201;

/** argv prefix that runs a command as `user` with no capabilities (setpriv drops them with uid 0). */
export function asUser(user: TestUser): string[] {
  return [
    "setpriv",
    `--reuid=${user.uid}`,
    `--regid=${user.gid}`,
    user.groups.length > 0 ? `--groups=${user.groups.join(",")}` : "--clear-groups",
  ];
}

/**
 * argv prefix for a private mount namespace where /dev/net/tun is a fresh 0666 node on a private
 * tmpfs, as on a standard distribution; the host's node is never changed. The tmpfs is mounted on
 * `mountpoint`, made here when not given (the tests' and the demo's one way to do this).
 */
export function withOpenTunDevice(mountpoint = join(tempFolder("tl-tun-"), "dev")): string[] {
  mkdirSync(mountpoint, { recursive: true, mode: 0o755 });
  return inPrivateMountNamespace(
    'mount -t tmpfs -o mode=0755,size=64k tl-tun "$1" && mknod -m 0666 "$1/tun" c 10 200 && mount --bind "$1/tun" /dev/net/tun && shift && exec "$@"',
    mountpoint,
  );
}

/** A temporary folder others can enter (mkdtemp makes them 0700). */
export function sharedFolder(prefix: string): string {
  const folder = tempFolder(prefix);
  chmodSync(folder, 0o755);
  return folder;
}
