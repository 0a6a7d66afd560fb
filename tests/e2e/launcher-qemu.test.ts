// Real QEMU under the installed launcher, as an unprivileged user: -netdev tap,fd=3 from the helper
// and from an unmanaged TAP; the guest pings the bridge; its exit status comes back; no TAP is left.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { buildGuest as buildGuestOnce, qemuCommand, type Guest } from "../../scripts/guest.ts";
import { removeAtExit } from "../support/build.ts";
import { installForTest, type TestInstall } from "../support/install.ts";
import { withNetns, type TestNetns } from "../support/netns.ts";
import { run } from "../support/proc.ts";
import { ALICE, asUser, withOpenTunDevice } from "../support/users.ts";
import { adminTap, unmanagedState } from "../support/admin-tap.ts";

let installed: TestInstall;
let guest: Guest;
beforeAll(async () => {
  [installed, guest] = await Promise.all([installForTest("setuid"), buildGuestOnce()]);
  removeAtExit(guest.folder);
});
afterAll(() => installed.uninstall());

async function bridgeWithAddress(ns: TestNetns): Promise<void> {
  await ns.addBridge("br0");
  await ns.ip("addr", "add", "10.77.0.1/24", "dev", "br0");
}

function launcherAsAlice(ns: TestNetns, launcherArgs: string[], target: string, count = 3): string[] {
  return [
    ...ns.prefix(), ...withOpenTunDevice(), ...asUser(ALICE), "timeout", "120", installed.launcher, ...launcherArgs, "--",
    ...qemuCommand(guest, "tap,id=n0,fd=3", "10.77.0.2", target, count),
  ];
}

test("tap-launcher --br=br0 -- qemu … -netdev tap,fd=3: the guest pings the bridge", async () => {
  await withNetns(async (ns) => {
    await bridgeWithAddress(ns);
    const result = await run(launcherAsAlice(ns, ["--br=br0"], "10.77.0.1"));
    expect(result.stdout).toContain("TL-PING-OK");
    expect(result.exitCode).toBe(0);
    expect(await ns.tapNames()).toEqual([]);
  });
}, 150_000);

test("the guest's exit status comes back through the launcher (a failed ping: QEMU exits 3)", async () => {
  await withNetns(async (ns) => {
    await bridgeWithAddress(ns);
    const result = await run(launcherAsAlice(ns, ["--br=br0"], "10.77.0.99", 1));
    expect(result.stdout).toContain("TL-PING-FAIL");
    expect(result.exitCode).toBe(3);
    expect(await ns.tapNames()).toEqual([]);
  });
}, 150_000);

test("an unmanaged TAP made for the user: the guest pings, and the TAP is unchanged afterwards", async () => {
  await withNetns(async (ns) => {
    await bridgeWithAddress(ns);
    await adminTap(ns, "tapu0");
    const before = unmanagedState(await ns.link("tapu0"));
    const result = await run(launcherAsAlice(ns, ["--tap=tapu0", "--unmanaged"], "10.77.0.1"));
    expect(result.stdout).toContain("TL-PING-OK");
    expect(result.exitCode).toBe(0);
    expect(unmanagedState(await ns.link("tapu0"))).toEqual(before);
  });
}, 150_000);
