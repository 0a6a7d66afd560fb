// Real QEMU under the installed launcher, as an unprivileged user: -netdev tap,fd=3 from the helper
// and from an unmanaged TAP; the guest pings the bridge; its exit status comes back; no TAP is left.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { qemuCommand, type Guest } from "../support/guest.ts";
import { installForTest, launcherAs, type TestInstall } from "../support/install.ts";
import { withNetns, type TestNetns } from "../support/netns.ts";
import { run } from "../support/proc.ts";
import { ALICE } from "../support/users.ts";
import { adminTap, unmanagedState } from "../support/admin-tap.ts";
import { BRIDGE_ADDRESS, bridgeWithAddress, GUEST_ADDRESS, testGuest } from "../support/qemu.ts";

let installed: TestInstall;
let guest: Guest;
beforeAll(async () => {
  [installed, guest] = await Promise.all([installForTest("setuid"), testGuest()]);
});
afterAll(() => installed.uninstall());

function launcherAsAlice(ns: TestNetns, launcherArgs: string[], target: string, count = 3): string[] {
  return launcherAs(
    installed,
    ns,
    ALICE,
    [...launcherArgs, "--", ...qemuCommand(guest, "tap,id=n0,fd=3", GUEST_ADDRESS, target, count)],
    120,
  );
}

for (const [label, target, count, marker, status] of [
  ["tap-launcher --br=br0 -- qemu … -netdev tap,fd=3: the guest pings the bridge", BRIDGE_ADDRESS, 3, "TL-PING-OK", 0],
  ["the guest's exit status comes back through the launcher (a failed ping: QEMU exits 3)", "10.77.0.99", 1, "TL-PING-FAIL", 3],
] as const) {
  test(label, async () => {
    await withNetns(async (ns) => {
      await bridgeWithAddress(ns);
      const result = await run(launcherAsAlice(ns, ["--br=br0"], target, count));
      expect(result.stdout).toContain(marker);
      expect(result.exitCode).toBe(status);
      expect(await ns.tapNames()).toEqual([]);
    });
  }, 150_000);
}

test("an unmanaged TAP made for the user: the guest pings, and the TAP is unchanged afterwards", async () => {
  await withNetns(async (ns) => {
    await bridgeWithAddress(ns);
    await adminTap(ns, "tapu0");
    const before = unmanagedState(await ns.link("tapu0"));
    const result = await run(launcherAsAlice(ns, ["--tap=tapu0", "--unmanaged"], BRIDGE_ADDRESS));
    expect(result.stdout).toContain("TL-PING-OK");
    expect(result.exitCode).toBe(0);
    expect(unmanagedState(await ns.link("tapu0"))).toEqual(before);
  });
}, 150_000);
