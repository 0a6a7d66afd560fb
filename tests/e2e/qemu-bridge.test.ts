// Real QEMU runs our helper through -netdev bridge,helper= and its guest pings the bridge's address.
import { beforeAll, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { qemuCommand, type Guest } from "../support/guest.ts";
import { buildWithAcl, tempFolder } from "../support/build.ts";
import { withNetns } from "../support/netns.ts";
import { run } from "../support/proc.ts";
import { BRIDGE_ADDRESS, bridgeWithAddress, GUEST_ADDRESS, testGuest } from "../support/qemu.ts";

let helper = "";
let guest: Guest;
beforeAll(async () => {
  const aclFile = join(tempFolder("tl-acl-"), "bridge.conf");
  writeFileSync(aclFile, "allow br0\n");
  let dist: string;
  [dist, guest] = await Promise.all([buildWithAcl(aclFile), testGuest()]);
  helper = join(dist, "tap-bridge-helper");
});

const qemuOn = (bridge: string) => qemuCommand(guest, `bridge,id=n0,br=${bridge},helper=${helper}`, GUEST_ADDRESS, BRIDGE_ADDRESS);

test("qemu -netdev bridge,helper=tap-bridge-helper: the guest pings the bridge", async () => {
  await withNetns(async (ns) => {
    await bridgeWithAddress(ns, "br0");
    const qemu = await run([...ns.prefix(), "timeout", "120", ...qemuOn("br0")]);
    expect(qemu.stdout).toContain("TL-PING-OK");
    expect(qemu.exitCode).toBe(0);
    expect(await ns.tapNames()).toEqual([]);
  });
}, 180_000);

test("qemu -netdev bridge on a bridge the ACL denies: QEMU refuses to start and shows the helper's reason", async () => {
  await withNetns(async (ns) => {
    await ns.addBridge("br1");
    const qemu = await run([...ns.prefix(), "timeout", "60", ...qemuOn("br1")]);
    expect(qemu.exitCode).toBe(1);
    expect(qemu.stderr).toContain("access denied by acl file: no allow rule matches bridge br1");
    expect(qemu.stderr).toContain("bridge helper failed");
    expect(await ns.tapNames()).toEqual([]);
  });
}, 120_000);
