// Real QEMU under a `locked ip=` line, the MAC passed in QEMU's helper= string: the guest with that mac= pings; one with another mac= cannot.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { NOBODY } from "../support/accounts.ts";
import { qemuCommand, type Guest } from "../support/guest.ts";
import { installForTest, type TestInstall } from "../support/install.ts";
import { withNetns, type TestNetns } from "../support/netns.ts";
import { run } from "../support/proc.ts";
import { BRIDGE_ADDRESS, bridgeWithAddress, GUEST_ADDRESS, testGuest } from "../support/qemu.ts";
import { asUser, withOpenTunDevice } from "../support/users.ts";

let installed: TestInstall;
let guest: Guest;
beforeAll(async () => {
  [installed, guest] = await Promise.all([installForTest("setuid"), testGuest()]);
  installed.setPolicy(`nobody br0 1 isolated locked ip=${GUEST_ADDRESS}/32\n`);
}, 240_000);
afterAll(() => installed.uninstall());

const REGISTERED = "52:54:00:12:34:56";

/** QEMU as nobody with `-netdev bridge` whose helper string carries --mac, and a NIC with `nicMac`. */
function qemuAsNobody(ns: TestNetns, nicMac: string): string[] {
  const netdev = `bridge,id=n0,br=br0,helper=${installed.shim} --mac=${REGISTERED}`;
  return [
    ...ns.prefix(),
    ...withOpenTunDevice(),
    ...asUser(NOBODY),
    "timeout",
    "150",
    ...qemuCommand(guest, netdev, GUEST_ADDRESS, BRIDGE_ADDRESS, 3, { nic: `mac=${nicMac}` }),
  ];
}

test('qemu -netdev bridge,helper="SHIM --mac=MAC" under a locked line: a NIC with that MAC pings the bridge, a NIC with another does not', async () => {
  await withNetns(async (ns) => {
    await bridgeWithAddress(ns);
    const registered = await run(qemuAsNobody(ns, REGISTERED));
    expect({
      stdout: registered.stdout.includes("TL-PING-OK"),
      status: registered.exitCode,
      stderr: registered.stderr.slice(-500),
    }).toMatchObject({
      stdout: true,
      status: 0,
    });
    const other = await run(qemuAsNobody(ns, "52:54:00:12:34:57"));
    expect(other.stdout).toContain("TL-PING-FAIL");
    expect(await ns.tapNames()).toEqual([]);
  });
}, 300_000);
