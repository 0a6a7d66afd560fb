// `tap-launcher --veth`: the guest in a new user and network namespace of its own, holding a veth on the bridge as eth0 (made by tap-user-nic).
//
// The container-side half of the pair, for sandboxes that need no container runtime: unshare(1)
// makes the namespaces (the caller mapped to root, so that the guest may configure its own
// addresses, as a VM does), tap-user-nic puts the peer in them as eth0, and the guest starts once
// eth0 is there, with it and lo up.
import { readlinkSync } from "node:fs";
import type { ConsolaInstance } from "consola";
import { StepError } from "../shared/errors.ts";
import { ownPrefix, privilegedFiles } from "./layout.ts";

/** The installed tap-user-nic beside this launcher's prefix, else /usr/local's. */
export function defaultUserNic(): string {
  return privilegedFiles(ownPrefix() ?? "/usr/local", "tap-user-nic").shim;
}

/** The guest's first step inside the namespaces: wait (10 s at most) for eth0, bring it and lo up, become the guest. */
const START_GUEST = [
  "i=0",
  'while ! ip link show dev eth0 >/dev/null 2>&1; do i=$((i+1)); [ "$i" -le 200 ] || exit 125; sleep 0.05; done',
  "ip link set dev lo up && ip link set dev eth0 up || exit 125",
  'exec "$@"',
].join("; ");

/** Waits (2 s at most) until process `pid` runs in a network namespace other than ours: unshare has made it. */
async function namespaceMade(pid: number): Promise<boolean> {
  const own = readlinkSync("/proc/self/ns/net");
  for (let tries = 0; tries < 200; tries += 1) {
    try {
      if (readlinkSync(`/proc/${pid}/ns/net`) !== own) return true;
    } catch {
      return false;
    }
    await Bun.sleep(10);
  }
  return false;
}

/**
 * Runs `command` in new user and network namespaces with a veth on `bridge` as eth0; returns its
 * exit status. throws StepError (the guest is killed) when the veth cannot be had.
 */
export async function runWithVeth(command: readonly string[], bridge: string, userNic: string, log: ConsolaInstance): Promise<number> {
  const guest = Bun.spawn({
    cmd: ["unshare", "--user", "--map-root-user", "--net", "--", "/bin/sh", "-c", START_GUEST, "sh", ...command],
    stdio: ["inherit", "inherit", "inherit"],
  });
  try {
    if (!(await namespaceMade(guest.pid)))
      throw new StepError("failed to create the guest's namespaces: unshare --user --net did not start");
    // LXCPATH and NAME are lxc-user-nic's words for the caller's container: tap-user-nic uses neither.
    const made = Bun.spawnSync({
      cmd: [userNic, "create", "/dev/null", "tap-launcher", String(guest.pid), "veth", bridge, "eth0"],
      stdout: "pipe",
      stderr: "pipe",
    });
    if (made.exitCode !== 0) {
      throw new StepError(
        `failed to get a veth on bridge ${bridge}: ${made.stderr.toString().trim() || `${userNic} exited ${made.exitCode}`}`,
        {
          hint: `tap-user-nic reads /etc/lxc/lxc-usernet: an administrator adds \`USER veth ${bridge} COUNT\` (lxc-usernet(5))`,
        },
      );
    }
    const [, , host] = made.stdout.toString().trim().split(":");
    log.info(`eth0 of ${command[0]} is the peer of ${host} on ${bridge}`);
  } catch (err) {
    guest.kill("SIGKILL");
    await guest.exited;
    throw err;
  }
  return await guest.exited;
}
