// Real QEMU runs our helper through -netdev bridge,helper= and its guest pings the bridge's address.
import { expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { buildWithAcl, removeAtExit, tempFolder } from "../support/build.ts";
import { buildGuest as buildGuestOnce, qemuCommand, type Guest } from "../../scripts/guest.ts";

async function buildGuest(): Promise<Guest> {
  const guest = await buildGuestOnce();
  removeAtExit(guest.folder);
  return guest;
}
import { run } from "../support/proc.ts";
import { withNetns } from "../support/netns.ts";

test("qemu -netdev bridge,helper=tap-bridge-helper: the guest pings the bridge", async () => {
  const aclFile = join(tempFolder("tl-acl-"), "bridge.conf");
  writeFileSync(aclFile, "allow br0\n");
  const [dist, guest] = await Promise.all([buildWithAcl(aclFile), buildGuest()]);
  await withNetns(async (ns) => {
    await ns.addBridge("br0");
    await ns.ip("addr", "add", "10.77.0.1/24", "dev", "br0");
    const helper = join(dist, "tap-bridge-helper");
    const qemu = await run([
      ...ns.prefix(), "timeout", "120",
      ...qemuCommand(guest, `bridge,id=n0,br=br0,helper=${helper}`, "10.77.0.2", "10.77.0.1"),
    ]);
    expect(qemu.stdout).toContain("TL-PING-OK");
    expect(qemu.exitCode).toBe(0);
    expect(await ns.tapNames()).toEqual([]);
  });
}, 180_000);

test("qemu -netdev bridge on a bridge the ACL denies: QEMU refuses to start and shows the helper's reason", async () => {
  const aclFile = join(tempFolder("tl-acl-"), "bridge.conf");
  writeFileSync(aclFile, "allow br0\n");
  const [dist, guest] = await Promise.all([buildWithAcl(aclFile), buildGuest()]);
  await withNetns(async (ns) => {
    await ns.addBridge("br1");
    const helper = join(dist, "tap-bridge-helper");
    const qemu = await run([...ns.prefix(), "timeout", "60", ...qemuCommand(guest, `bridge,id=n0,br=br1,helper=${helper}`, "10.77.0.2", "10.77.0.1")]);
    expect(qemu.exitCode).toBe(1);
    expect(qemu.stderr).toContain("access denied by acl file: no allow rule matches bridge br1");
    expect(qemu.stderr).toContain("bridge helper failed");
    expect(await ns.tapNames()).toEqual([]);
  });
}, 120_000);
