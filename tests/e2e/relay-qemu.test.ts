// Real QEMU behind the relay, as an unprivileged user: -netdev stream and -netdev dgram on fd 3.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { qemuCommand, type Guest } from "../support/guest.ts";
import { installForTest, type TestInstall } from "../support/install.ts";
import { withNetns } from "../support/netns.ts";
import { run } from "../support/proc.ts";
import { BRIDGE_ADDRESS, bridgeWithAddress, GUEST_ADDRESS, testGuest } from "../support/qemu.ts";
import { ALICE, asUser, withOpenTunDevice } from "../support/users.ts";

let installed: TestInstall;
let guest: Guest;
beforeAll(async () => {
  [installed, guest] = await Promise.all([installForTest("setuid"), testGuest()]);
});
afterAll(() => installed.uninstall());

for (const [mode, netdev] of [
  ["stream", "stream,id=n0,addr.type=fd,addr.str=3"],
  ["dgram", "dgram,id=n0,local.type=fd,local.str=3"],
] as const) {
  test(`tap-launcher --relay=${mode} -- qemu … -netdev ${netdev.split(",")[0]}: the guest pings the bridge`, async () => {
    await withNetns(async (ns) => {
      await bridgeWithAddress(ns);
      const result = await run([
        ...ns.prefix(), ...withOpenTunDevice(), ...asUser(ALICE), "timeout", "120",
        installed.launcher, "--verbose", "--br=br0", `--relay=${mode}`, "--",
        ...qemuCommand(guest, netdev, GUEST_ADDRESS, BRIDGE_ADDRESS),
      ]);
      expect(result.stdout).toContain("TL-PING-OK");
      expect(result.exitCode).toBe(0);
      // --verbose: the counters at exit; ARP and three pings each way at least.
      const counters = /tap -> guest: (\d+) frames[\s\S]*guest -> tap: (\d+) frames/.exec(result.stderr);
      expect(Number(counters?.[1])).toBeGreaterThanOrEqual(4);
      expect(Number(counters?.[2])).toBeGreaterThanOrEqual(4);
      expect(await ns.tapNames()).toEqual([]);
    });
  }, 150_000);
}
