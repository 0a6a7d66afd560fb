// Real QEMU with a multiqueue NIC as an unprivileged user: tap-launcher --queues=2 hands over fds 3 and 4; the guest sees 2+2 queues and pings.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { qemuCommand, type Guest } from "../support/guest.ts";
import { installForTest, launcherAs, type TestInstall } from "../support/install.ts";
import { withNetns } from "../support/netns.ts";
import { run } from "../support/proc.ts";
import { BRIDGE_ADDRESS, bridgeWithAddress, GUEST_ADDRESS, testGuest } from "../support/qemu.ts";
import { ALICE } from "../support/users.ts";

let installed: TestInstall;
let guest: Guest;
beforeAll(async () => {
  [installed, guest] = await Promise.all([installForTest("setuid"), testGuest()]);
  installed.setPolicy("* br0 4 queues=2\n"); // several queues only where a line allows them
});
afterAll(() => installed.uninstall());

test("tap-launcher --queues=2 -- qemu -smp 2 … -netdev tap,fds=3:4 … mq=on: the guest sees 2 rx and 2 tx queues and pings the bridge", async () => {
  await withNetns(async (ns) => {
    await bridgeWithAddress(ns);
    const qemu = qemuCommand(guest, "tap,id=n0,fds=3:4", GUEST_ADDRESS, BRIDGE_ADDRESS, 3, { nic: "mq=on,vectors=6", cpus: 2 });
    const result = await run(launcherAs(installed, ns, ALICE, ["--br=br0", "--queues=2", "--", ...qemu], 150));
    expect(result.stderr).toContain("tap-launcher: tap0 (vnet header) is fds 3, 4 (2 queues) of qemu-system-x86_64\n");
    expect(result.stdout).toMatch(/TL-QUEUES rx-0 rx-1 tx-0 tx-1 /);
    expect(result.stdout).toContain("TL-PING-OK");
    expect(result.exitCode).toBe(0);
    expect(await ns.tapNames()).toEqual([]);
  });
}, 180_000);
