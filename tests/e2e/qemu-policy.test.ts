// Real QEMU with -netdev bridge,helper= as an unprivileged user under a quota of one TAP: the first VM pings, a second is refused.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { qemuCommand, type Guest } from "../support/guest.ts";
import { NOBODY } from "../support/accounts.ts";
import { installForTest, type TestInstall } from "../support/install.ts";
import { withNetns, type TestNetns } from "../support/netns.ts";
import { run } from "../support/proc.ts";
import { BRIDGE_ADDRESS, bridgeWithAddress, GUEST_ADDRESS, testGuest } from "../support/qemu.ts";
import { asUser, withOpenTunDevice } from "../support/users.ts";

let installed: TestInstall;
let guest: Guest;
beforeAll(async () => {
  [installed, guest] = await Promise.all([installForTest("setuid"), testGuest()]);
  installed.setPolicy("nobody br0 1\n");
});
afterAll(() => installed.uninstall());

function qemuAsNobody(ns: TestNetns, count: number): string[] {
  return [
    ...ns.prefix(),
    ...withOpenTunDevice(),
    ...asUser(NOBODY),
    "timeout",
    "150",
    ...qemuCommand(guest, `bridge,id=n0,br=br0,helper=${installed.shim}`, GUEST_ADDRESS, BRIDGE_ADDRESS, count),
  ];
}

async function untilTapAppears(ns: TestNetns): Promise<string[]> {
  for (let tries = 0; tries < 600; tries += 1) {
    const taps = await ns.tapNames();
    if (taps.length > 0) return taps;
    await Bun.sleep(100);
  }
  throw new Error("the first VM's TAP never appeared");
}

test("qemu -netdev bridge,helper= under `nobody br0 1`: the first VM pings, a second fails with the helper's quota message", async () => {
  await withNetns(async (ns) => {
    await bridgeWithAddress(ns);
    // The first guest pings 15 times, so it still holds its TAP while the second one starts.
    const first = Bun.spawn({ cmd: qemuAsNobody(ns, 15), stdout: "pipe", stderr: "pipe" });
    const firstOutput = Promise.all([new Response(first.stdout).text(), new Response(first.stderr).text(), first.exited]);
    const [tap] = await untilTapAppears(ns);

    const second = await run(qemuAsNobody(ns, 1));
    expect(second.exitCode).toBe(1);
    expect(second.stderr).toContain(
      `access denied by policy file: rule "nobody br0 1" at ${installed.policyFile}:1 limits you to 1 on bridge br0: 1 in use (${tap})`,
    );
    expect(second.stderr).toContain("bridge helper failed");

    const [stdout, stderr, status] = await firstOutput;
    expect(stdout).toContain("TL-PING-OK");
    expect({ status, stderr: stderr.slice(-500) }).toMatchObject({ status: 0 }); // stderr shown on failure
    expect(await ns.tapNames()).toEqual([]);
  });
}, 240_000);
